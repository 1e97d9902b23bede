"""Any S3-compatible store (AWS S3, Cloudflare R2, MinIO, GCS interoperability) through boto3."""

import contextlib
import time
import typing
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.utils.http import content_disposition_header

from assets.storage.base import (
    ListedObject,
    ObjectExists,
    ObjectNotFound,
    PresignedRequest,
    Storage,
    StorageError,
    StoredObject,
    UploadSizeMismatch,
    validate_content_type,
    validate_expires_in,
    validate_key,
    validate_size,
)

NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}


@contextlib.contextmanager
def _store_errors(key):
    """Turn boto's errors into StorageError (ObjectNotFound for a missing key) so callers need not know boto."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in NOT_FOUND_CODES:
            raise ObjectNotFound(f"No object is stored under {key!r}.") from exc
        raise StorageError(f"The object store refused the request for {key!r}: {code or exc}.") from exc
    except BotoCoreError as exc:
        raise StorageError(f"The object store could not be reached for {key!r}: {exc}.") from exc


class S3Storage(Storage):
    """Objects in one bucket; uploads and downloads go straight between the client and the store.

    Stores that enforce signatures (all real ones) refuse a presigned PUT whose Content-Type or
    Content-Length differs from the signed ones; the platform still checks `head` afterwards.
    """

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        addressing_style: str | None = None,
        conditional_writes: bool = True,
    ):
        self.bucket = bucket
        self.conditional_writes = conditional_writes
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style or "auto"},
            # Newer botocore adds CRC checksums by default, which several S3-compatible stores refuse.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"mode": "standard"},
        )
        # A session of its own: boto3's default session is not safe to share between threads.
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region_name or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=config,
        )

    def presigned_upload(self, *, key, content_type, size, expires_in=900):
        params = {
            "Bucket": self.bucket,
            "Key": validate_key(key),
            "ContentType": validate_content_type(content_type),
            "ContentLength": validate_size(size),
        }
        if self.conditional_writes:
            # If-None-Match: * makes the URL store once: a second PUT is 412, so checked bytes stay checked.
            params["IfNoneMatch"] = "*"
        url, expires_at = self._presign("put_object", params, expires_in)
        signed = parse_qs(urlsplit(url).query).get("X-Amz-SignedHeaders", [""])[0].split(";")
        if not {"content-type", "content-length"} <= set(signed):
            # Without them the store would accept any size or type: refuse rather than hand out such a URL.
            raise StorageError(f"botocore signed only {signed}; Content-Type and Content-Length must be signed.")
        headers = {"Content-Type": content_type, "Content-Length": str(size)}
        if self.conditional_writes:
            headers["If-None-Match"] = "*"
        return PresignedRequest(url=url, method="PUT", headers=headers, expires_at=expires_at)

    def presigned_upload_up_to(self, *, key, content_type, max_size, expires_in=900):
        validate_size(max_size)  # a presigned PUT cannot carry a size range: the caller heads the object
        params = {"Bucket": self.bucket, "Key": validate_key(key), "ContentType": validate_content_type(content_type)}
        if self.conditional_writes:
            params["IfNoneMatch"] = "*"
        url, expires_at = self._presign("put_object", params, expires_in)
        headers = {"Content-Type": content_type}
        if self.conditional_writes:
            headers["If-None-Match"] = "*"
        return PresignedRequest(url=url, method="PUT", headers=headers, expires_at=expires_at)

    def presigned_download(self, *, key, expires_in=3600, filename=None):
        params = {"Bucket": self.bucket, "Key": validate_key(key)}
        if filename:
            params["ResponseContentDisposition"] = content_disposition_header(True, filename)
        url, expires_at = self._presign("get_object", params, expires_in)
        return PresignedRequest(url=url, method="GET", headers={}, expires_at=expires_at)

    def head(self, *, key):
        try:
            with _store_errors(key):
                response = self.client.head_object(Bucket=self.bucket, Key=validate_key(key))
        except ObjectNotFound:
            return None
        return StoredObject(size=response["ContentLength"], content_type=response.get("ContentType") or None)

    def open(self, *, key) -> typing.BinaryIO:
        with _store_errors(key):
            # botocore's StreamingBody reads from the socket as asked and is a closeable context manager.
            return self.client.get_object(Bucket=self.bucket, Key=validate_key(key))["Body"]

    def save(self, *, key, content_type, stream, size=None, replace=True):
        validate_key(key)
        validate_content_type(content_type)
        if not replace and self.head(key=key) is not None:  # best effort: S3 has no atomic create here
            raise ObjectExists(f"An object is already stored under {key!r}.")
        reader = _CountingReader(stream, limit=None if size is None else validate_size(size) + 1)
        with _store_errors(key):
            self.client.upload_fileobj(reader, self.bucket, key, ExtraArgs={"ContentType": content_type})
        if size is not None and reader.count != size:
            self.delete(key=key)
            raise UploadSizeMismatch(expected=size, received=reader.count, more=reader.count > size)
        return StoredObject(size=reader.count, content_type=content_type)

    def delete(self, *, key):
        with _store_errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=validate_key(key))

    def list_objects(self, *, prefix=""):
        paginator = self.client.get_paginator("list_objects_v2")
        with _store_errors(prefix or "/"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    yield ListedObject(key=item["Key"], modified_at=item["LastModified"])

    def _presign(self, operation, params, expires_in):
        validate_expires_in(expires_in)
        signed_at = int(time.time())
        with _store_errors(params["Key"]):
            url = self.client.generate_presigned_url(operation, Params=params, ExpiresIn=expires_in)
        return url, datetime.fromtimestamp(signed_at + expires_in, UTC)


class _CountingReader:
    """A read-only stream that counts its bytes and stops after `limit` of them."""

    def __init__(self, stream, *, limit):
        self.stream = stream
        self.limit = limit
        self.count = 0

    def read(self, size=-1):
        if self.limit is not None:
            remaining = self.limit - self.count
            size = remaining if size is None or size < 0 else min(size, remaining)
            if size <= 0:
                return b""
        chunk = self.stream.read(size)
        self.count += len(chunk)
        return chunk
