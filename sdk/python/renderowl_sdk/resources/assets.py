"""Assets: create, upload (create, PUT the bytes, confirm, optionally wait), get, list, update, delete."""

from __future__ import annotations

import io
import mimetypes
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Union

from .. import _errors
from .. import _models as m
from .._pagination import Page
from ._common import NOT_GIVEN, Resource, body

FileInput = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]
FINAL_ASSET_STATUSES = ("ready", "failed")
CHUNK_BYTES = 1024 * 1024

# File extensions to the content types the API allows; mimetypes fills in anything else it knows.
CONTENT_TYPES = {
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
    ".mkv": "video/x-matroska", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac",
    ".wav": "audio/wav", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg", ".flac": "audio/flac",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2",
    ".ttc": "font/collection", ".otc": "font/collection", ".json": "application/json",
}


def guess_content_type(name: str, asset_type: str | None = None) -> str | None:
    suffix = Path(name).suffix.lower()
    if suffix == ".webm" and asset_type == "audio":
        return "audio/webm"
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0]


def type_for_content_type(content_type: str) -> str | None:
    if content_type == "application/json":
        return "template"
    if content_type == "application/font-sfnt":
        return "font"
    major = content_type.split("/", 1)[0]
    return major if major in ("video", "audio", "image", "font") else None


class _Source:
    """The bytes to upload, whatever they came as: a path, bytes, or a binary file object."""

    def __init__(self, file: FileInput, name: str | None):
        self._path = None
        self._data = None
        self._stream = None
        if isinstance(file, (str, os.PathLike)):
            self._path = Path(file)
            self.size = self._path.stat().st_size
            self.name = name or self._path.name
        elif isinstance(file, (bytes, bytearray, memoryview)):
            self._data = bytes(file)
            self.size = len(self._data)
            self.name = name
        elif hasattr(file, "read"):
            self.name = name or (Path(file.name).name if isinstance(getattr(file, "name", None), str) else None)
            if _seekable(file):
                self._stream = file
                self._start = file.tell()
                file.seek(0, io.SEEK_END)
                self.size = file.tell() - self._start
                file.seek(self._start)
            else:
                self._data = file.read()
                self.size = len(self._data)
        else:
            raise TypeError("file must be a path, bytes, or a binary file object")

    def chunks(self) -> Iterator[bytes]:
        if self._data is not None:
            yield self._data
            return
        if self._path is not None:
            with self._path.open("rb") as handle:
                yield from iter(lambda: handle.read(CHUNK_BYTES), b"")
            return
        self._stream.seek(self._start)
        while chunk := self._stream.read(CHUNK_BYTES):
            yield chunk


def _seekable(file) -> bool:
    try:
        return bool(file.seekable())
    except (AttributeError, OSError, ValueError):
        return False


class Assets(Resource):
    def create(self, project_id: str, *, type: str, name: str, content_type: str, size: int,
               description: str = NOT_GIVEN, tags: list[str] = NOT_GIVEN,
               idempotency_key: str | None = None) -> m.AssetUploadResponse:
        """Create an asset record and get its presigned upload (`upload.url`, `upload.headers`)."""
        return self._client.request(
            "projects_assets_create", path={"projectId": project_id},
            body=body(type=type, name=name, content_type=content_type, size=size, description=description, tags=tags),
            idempotency_key=idempotency_key,
        )

    def upload(self, project_id: str, file: FileInput, *, type: str | None = None, name: str | None = None,
               content_type: str | None = None, description: str = NOT_GIVEN, tags: list[str] = NOT_GIVEN,
               wait: bool = False, timeout: float = 300.0,
               on_progress: Callable[[int, int], None] | None = None) -> m.Asset:
        """Upload a file as a new asset: create it, PUT the bytes, confirm; with `wait`, until ready or failed.

        `file` is a path, bytes or a binary file object. `name`, `content_type` and `type` are guessed from
        the file name when left out. `on_progress(sent, total)` is called as bytes go out.
        """
        source = _Source(file, name)
        if not source.name:
            raise _errors.ValidationError("Give the asset a name= (the file has none).", code="validation_error",
                                          errors=[{"field": "name", "message": "This field is required."}])
        content_type = content_type or guess_content_type(source.name, type)
        if not content_type:
            raise _errors.ValidationError(
                f"Cannot tell the content type of {source.name!r}: pass content_type=.", code="validation_error",
                errors=[{"field": "contentType", "message": "This field is required."}])
        type = type or type_for_content_type(content_type)
        created = self.create(project_id, type=type, name=source.name, content_type=content_type, size=source.size,
                              description=description, tags=tags)
        self.put_file(created.upload, source, on_progress=on_progress)
        asset = self.complete_upload(created.asset.id)
        return self.wait(asset.id, timeout=timeout) if wait else asset

    def put_file(self, upload: m.Upload, source: _Source, *, on_progress=None) -> None:
        """PUT the bytes to a presigned upload URL with exactly its headers and no API key."""

        def content():
            sent = 0
            for chunk in source.chunks():
                sent += len(chunk)
                yield chunk
                if on_progress:
                    on_progress(sent, source.size)

        headers = dict(upload.headers or {})
        headers.setdefault("Content-Length", str(source.size))
        # Each try streams the file from its start again.
        self._client.send_with_retries(
            lambda: self._client._http.build_request(upload.method or "PUT", upload.url, headers=headers,
                                                     content=content(), timeout=self._client.timeout)
        )

    def complete_upload(self, asset_id: str, *, idempotency_key: str | None = None) -> m.Asset:
        """Confirm the upload: the platform checks the stored file and starts processing it."""
        return self._client.request("assets_upload_complete_create", path={"assetId": asset_id},
                                    idempotency_key=idempotency_key)

    def create_upload_url(self, asset_id: str, *, idempotency_key: str | None = None) -> m.AssetUploadResponse:
        """A fresh upload URL for a pending asset whose file is not stored yet."""
        return self._client.request("assets_upload_url_create", path={"assetId": asset_id},
                                    idempotency_key=idempotency_key)

    def wait(self, asset_id: str, *, timeout: float = 300.0, poll_interval: float = 0.5) -> m.AssetWithDownload:
        """Poll until the asset is `ready` or `failed` (check `status`); WaitTimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        interval = poll_interval
        while True:
            asset = self.get(asset_id)
            if asset.status in FINAL_ASSET_STATUSES:
                return asset
            if time.monotonic() + interval > deadline:
                raise _errors.WaitTimeoutError(
                    f"Asset {asset_id} is still {asset.status} after {timeout:g} s.", code="wait_timeout")
            self._client._sleep(interval)
            interval = min(interval * 1.5, 5.0)

    def get(self, asset_id: str, *, include_download_url: bool = False) -> m.AssetWithDownload:
        """The asset; with `include_download_url`, `download_url` is a signed GET URL of the file."""
        query = {"include": "downloadUrl"} if include_download_url else None
        return self._client.request("assets_retrieve", path={"assetId": asset_id}, query=query)

    def list(self, project_id: str, *, type: str | None = None, status: str | None = None, tag: str | None = None,
             limit: int | None = None, sort: str | None = None, cursor: str | None = None) -> Page[m.Asset]:
        return self._client.paginate("projects_assets_list", path={"projectId": project_id}, type=type,
                                     status=status, tag=tag, limit=limit, sort=sort, cursor=cursor)

    def update(self, asset_id: str, *, name: str = NOT_GIVEN, description: str = NOT_GIVEN,
               tags: list[str] = NOT_GIVEN) -> m.Asset:
        return self._client.request("assets_partial_update", path={"assetId": asset_id},
                                    body=body(name=name, description=description, tags=tags))

    def delete(self, asset_id: str) -> None:
        self._client.request("assets_destroy", path={"assetId": asset_id})

    def download(self, asset_id: str, destination: str | os.PathLike | IO[bytes]) -> int:
        """Download the asset's file to a path or a binary file object; returns the number of bytes."""
        asset = self.get(asset_id, include_download_url=True)
        return download_url(self._client, asset.download_url, destination)


def download_url(client, url: str, destination) -> int:
    """Stream a signed URL (no API key: the URL is the credential) into a path or file object."""
    request = client._http.build_request("GET", url, timeout=client.timeout)
    response = client.send_with_retries(request, stream=True)
    written = 0
    try:
        if hasattr(destination, "write"):
            for chunk in response.iter_bytes(CHUNK_BYTES):
                destination.write(chunk)
                written += len(chunk)
            return written
        target = Path(destination)
        partial = target.with_name(target.name + ".part")
        with partial.open("wb") as handle:
            for chunk in response.iter_bytes(CHUNK_BYTES):
                handle.write(chunk)
                written += len(chunk)
        partial.replace(target)
        return written
    finally:
        response.close()
