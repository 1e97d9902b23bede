"""Asset storage: one interface, two backends (local files with signed URLs, or any S3-compatible store).

Callers use `get_storage()` and the `Storage` methods only, so the backend is a deployment choice
(`ASSET_STORAGE_BACKEND`). Neither backend is trusted to have enforced what it signed: callers `head`
the object and compare its size and content type with what the customer declared.
"""

import functools
import pathlib
from dataclasses import dataclass

from django.conf import settings

from assets.storage.base import (
    AssetKey,
    InvalidKey,
    ListedObject,
    ObjectExists,
    ObjectNotFound,
    PresignedRequest,
    Storage,
    StorageError,
    StoredObject,
    UploadSizeMismatch,
    asset_key_parts,
    object_key,
    safe_filename,
    validate_key,
)
from assets.storage.local import LocalStorage
from assets.storage.s3 import S3Storage

__all__ = [
    "AssetKey",
    "InvalidKey",
    "ListedObject",
    "LocalStorage",
    "ObjectExists",
    "ObjectNotFound",
    "PresignedRequest",
    "S3Storage",
    "Storage",
    "StorageError",
    "StoredObject",
    "UploadSizeMismatch",
    "asset_key_parts",
    "get_storage",
    "object_key",
    "safe_filename",
    "validate_key",
]

BACKENDS = ("local", "s3")


@dataclass(frozen=True)
class StorageSettings:
    """The settings a backend is built from; also the cache key, so overridden settings get a fresh backend."""

    backend: str
    root: pathlib.Path | None
    public_base_url: str | None
    bucket: str | None
    endpoint_url: str | None
    region_name: str | None
    access_key_id: str | None
    secret_access_key: str | None
    addressing_style: str | None
    conditional_writes: bool = True

    @classmethod
    def current(cls):
        """The settings now in force; those the chosen backend ignores are left out, so they cost no rebuild."""
        local = settings.ASSET_STORAGE_BACKEND == "local"
        s3 = settings.ASSET_STORAGE_BACKEND == "s3"
        return cls(
            backend=settings.ASSET_STORAGE_BACKEND,
            root=pathlib.Path(settings.ASSET_STORAGE_ROOT) if local else None,
            public_base_url=settings.PUBLIC_BASE_URL if local else None,
            bucket=settings.AWS_STORAGE_BUCKET_NAME if s3 else None,
            endpoint_url=settings.AWS_S3_ENDPOINT_URL if s3 else None,
            region_name=settings.AWS_S3_REGION_NAME if s3 else None,
            access_key_id=settings.AWS_ACCESS_KEY_ID if s3 else None,
            secret_access_key=settings.AWS_SECRET_ACCESS_KEY if s3 else None,
            addressing_style=settings.AWS_S3_ADDRESSING_STYLE if s3 else None,
            conditional_writes=settings.AWS_S3_CONDITIONAL_WRITES if s3 else True,
        )


def get_storage() -> Storage:
    """The configured backend, built once per process and per distinct configuration."""
    return _build_storage(StorageSettings.current())


@functools.lru_cache(maxsize=8)
def _build_storage(config: StorageSettings) -> Storage:
    if config.backend == "local":
        return LocalStorage(root=config.root, base_url=config.public_base_url)
    if config.backend == "s3":
        if not config.bucket:
            raise StorageError("ASSET_STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME (see docs/OPERATIONS.md).")
        return S3Storage(
            bucket=config.bucket,
            endpoint_url=config.endpoint_url,
            region_name=config.region_name,
            access_key_id=config.access_key_id,
            secret_access_key=config.secret_access_key,
            addressing_style=config.addressing_style,
            conditional_writes=config.conditional_writes,
        )
    raise StorageError(f"ASSET_STORAGE_BACKEND must be one of {', '.join(BACKENDS)}, not {config.backend!r}.")
