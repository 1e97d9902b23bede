"""Files under ASSET_STORAGE_ROOT, reached through the platform's own signed, expiring URLs."""

import json
import os
import pathlib
import stat
import tempfile
import time
import typing
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing
from django.urls import reverse

from assets.storage.base import (
    KEY_SEGMENT,
    InvalidKey,
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

UPLOAD_SALT = "renderowl.assets.storage.upload"
DOWNLOAD_SALT = "renderowl.assets.storage.download"
CHUNK_SIZE = 1024 * 1024


class InvalidSignature(StorageError):
    """The URL's token was not signed by this platform (or was altered)."""


class SignatureExpired(InvalidSignature):
    """The URL's token was genuine but its time is up."""


@dataclass(frozen=True)
class UploadGrant:
    """What a signed upload URL allows: one PUT of `size` bytes of `content_type` to `key` before `expires_at`.

    With `up_to`, `size` is the most the PUT may send (its Content-Length says how many it does).
    """

    key: str
    content_type: str
    size: int
    expires_at: int
    up_to: bool = False


@dataclass(frozen=True)
class DownloadGrant:
    """What a signed download URL allows: GETs of `key` before `expires_at`."""

    key: str
    filename: str | None
    expires_at: int


def _expires_at(expires_in):
    return int(time.time()) + validate_expires_in(expires_in)


def _unsign(token, *, salt):
    """The payload of a token; django.core.signing compares the HMAC (keyed by SECRET_KEY) in constant time."""
    try:
        payload = signing.loads(token, salt=salt)
    except signing.BadSignature as exc:
        raise InvalidSignature("The URL's signature is invalid.") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
        raise InvalidSignature("The URL's signature is invalid.")
    if time.time() >= payload["e"]:
        raise SignatureExpired("The URL has expired.")
    return payload


def sign_upload(grant: UploadGrant) -> str:
    payload = {"k": grant.key, "t": grant.content_type, "n": grant.size, "e": grant.expires_at}
    if grant.up_to:
        payload["u"] = 1
    return signing.dumps(payload, salt=UPLOAD_SALT)


def read_upload_token(token: str) -> UploadGrant:
    """The grant a token carries; raises InvalidSignature or SignatureExpired."""
    payload = _unsign(token, salt=UPLOAD_SALT)
    return UploadGrant(
        key=payload["k"], content_type=payload["t"], size=payload["n"], expires_at=payload["e"],
        up_to=payload.get("u") == 1,
    )


def sign_download(grant: DownloadGrant) -> str:
    payload = {"k": grant.key, "e": grant.expires_at}
    if grant.filename:
        payload["f"] = grant.filename
    return signing.dumps(payload, salt=DOWNLOAD_SALT)


def read_download_token(token: str) -> DownloadGrant:
    """The grant a token carries; raises InvalidSignature or SignatureExpired."""
    payload = _unsign(token, salt=DOWNLOAD_SALT)
    return DownloadGrant(key=payload["k"], filename=payload.get("f"), expires_at=payload["e"])


class LocalStorage(Storage):
    """Objects as files under `root`; the content type sits in a hidden sidecar next to each file."""

    def __init__(self, *, root: pathlib.Path, base_url: str):
        self.root = pathlib.Path(root).resolve()
        self.base_url = base_url.rstrip("/")

    def presigned_upload(self, *, key, content_type, size, expires_in=900):
        grant = UploadGrant(
            key=validate_key(key),
            content_type=validate_content_type(content_type),
            size=validate_size(size),
            expires_at=_expires_at(expires_in),
        )
        path = reverse("storage-upload", kwargs={"token": sign_upload(grant)})
        return PresignedRequest(
            url=f"{self.base_url}{path}",
            method="PUT",
            headers={"Content-Type": content_type, "Content-Length": str(size)},
            expires_at=datetime.fromtimestamp(grant.expires_at, UTC),
        )

    def presigned_upload_up_to(self, *, key, content_type, max_size, expires_in=900):
        grant = UploadGrant(
            key=validate_key(key),
            content_type=validate_content_type(content_type),
            size=validate_size(max_size),
            expires_at=_expires_at(expires_in),
            up_to=True,
        )
        path = reverse("storage-upload", kwargs={"token": sign_upload(grant)})
        return PresignedRequest(
            url=f"{self.base_url}{path}",
            method="PUT",
            headers={"Content-Type": content_type},
            expires_at=datetime.fromtimestamp(grant.expires_at, UTC),
        )

    def presigned_download(self, *, key, expires_in=3600, filename=None):
        grant = DownloadGrant(key=validate_key(key), filename=filename or None, expires_at=_expires_at(expires_in))
        path = reverse("storage-download", kwargs={"token": sign_download(grant)})
        return PresignedRequest(
            url=f"{self.base_url}{path}",
            method="GET",
            headers={},
            expires_at=datetime.fromtimestamp(grant.expires_at, UTC),
        )

    def head(self, *, key):
        path = self.local_path(key=key)
        try:
            status = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat.S_ISREG(status.st_mode):
            return None
        return StoredObject(size=status.st_size, content_type=self._read_content_type(path))

    def open(self, *, key) -> typing.BinaryIO:
        path = self.local_path(key=key)
        try:
            return path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFound(f"No object is stored under {key!r}.") from exc

    def save(self, *, key, content_type, stream, size=None, replace=True):
        """Stream into a hidden temporary file beside the target, then move it into place atomically.

        With `replace=False` an existing object is never replaced (ObjectExists): a signed upload
        URL stays valid for its whole lifetime, and must not swap the bytes of a checked asset.
        """
        path = self.local_path(key=key)
        if not replace and path.exists():
            raise ObjectExists(f"An object is already stored under {key!r}.")
        validate_content_type(content_type)
        if size is not None:
            validate_size(size)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as out:
                received = _copy(stream, out, limit=size)
                out.flush()
                os.fsync(out.fileno())
            # The sidecar goes first, so a visible file always has its content type beside it.
            self._write_content_type(path, content_type)
            if replace:
                os.replace(temporary, path)
            else:
                try:
                    os.link(temporary, path)  # fails if a concurrent upload got there first
                except FileExistsError as exc:
                    raise ObjectExists(f"An object is already stored under {key!r}.") from exc
                os.unlink(temporary)
            _fsync_directory(path.parent)  # the rename itself must survive a crash once we answer 201
        except BaseException:
            pathlib.Path(temporary).unlink(missing_ok=True)
            raise
        return StoredObject(size=received, content_type=content_type)

    def delete(self, *, key):
        path = self.local_path(key=key)
        try:
            path.unlink(missing_ok=True)
        except (IsADirectoryError, NotADirectoryError):
            return  # A prefix of other keys, or under a file: no object by this key.
        _sidecar(path).unlink(missing_ok=True)

    def list_objects(self, *, prefix=""):
        """Walk the root; hidden sidecars and half-written `.part` files are not objects, nor is anything no key names."""
        if not self.root.is_dir():
            return
        for directory, subdirectories, files in os.walk(self.root):
            subdirectories[:] = sorted(name for name in subdirectories if KEY_SEGMENT.fullmatch(name))
            relative = pathlib.Path(directory).relative_to(self.root)
            for name in sorted(files):
                key = (relative / name).as_posix()
                if not KEY_SEGMENT.fullmatch(name) or not key.startswith(prefix):
                    continue
                try:
                    status = os.lstat(os.path.join(directory, name))
                except FileNotFoundError:  # deleted while we walked
                    continue
                if stat.S_ISREG(status.st_mode):
                    yield ListedObject(key=key, modified_at=datetime.fromtimestamp(status.st_mtime, UTC))

    def local_path(self, *, key):
        path = (self.root / validate_key(key)).resolve()
        # A symlink planted inside the root must not lead out of it either.
        if not path.is_relative_to(self.root):
            raise InvalidKey(f"The storage key {key[:100]!r} leads outside the storage root.")
        return path

    def _read_content_type(self, path):
        try:
            return json.loads(_sidecar(path).read_text()).get("contentType")
        except (OSError, ValueError, AttributeError):
            return None

    def _write_content_type(self, path, content_type):
        sidecar = _sidecar(path)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{sidecar.name}.", suffix=".part")
        try:
            with os.fdopen(descriptor, "w") as out:
                json.dump({"contentType": content_type}, out)
            os.replace(temporary, sidecar)
        except BaseException:
            pathlib.Path(temporary).unlink(missing_ok=True)
            raise


def _fsync_directory(directory):
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sidecar(path):
    """Hidden, so no key can name it (key segments never start with '.')."""
    return path.with_name(f".{path.name}.meta.json")


def _copy(stream, out, *, limit):
    """Copy in chunks; with a `limit`, refuse a byte more or less than it (reading at most one byte past it)."""
    received = 0
    while True:
        want = CHUNK_SIZE if limit is None else min(CHUNK_SIZE, limit + 1 - received)
        chunk = stream.read(want)
        if not chunk:
            break
        received += len(chunk)
        if limit is not None and received > limit:
            raise UploadSizeMismatch(expected=limit, received=received, more=True)
        out.write(chunk)
    if limit is not None and received != limit:
        raise UploadSizeMismatch(expected=limit, received=received)
    return received
