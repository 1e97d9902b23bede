"""The storage interface every backend implements, and the key rules they share."""

import abc
import pathlib
import re
import typing
import unicodedata
from dataclasses import dataclass
from datetime import datetime

# SigV4 presigned URLs live at most seven days; the local backend keeps the same bound.
MAX_EXPIRES_IN = 7 * 24 * 60 * 60
# Asset.storage_key is a CharField(max_length=512).
MAX_KEY_LENGTH = 512
MAX_FILENAME_STEM = 100
MAX_FILENAME_EXTENSION = 16

# A key is a relative path of segments that start with a letter, digit, '_' or '-': no '.', '..',
# hidden names (the local backend keeps its own sidecar and temporary files there), spaces or
# characters that need URL escaping.
KEY_SEGMENT = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9._\-]*")
ID_SEGMENT = re.compile(r"[A-Za-z0-9_\-]+")
# What object_key() builds for an asset; other keys (a render's output) are not an asset's.
ASSET_KEY = re.compile(
    r"org/(?P<organization_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"/prj/(?P<project_id>prj_[A-Za-z0-9]+)/(?P<asset_id>ast_[A-Za-z0-9]+)/[^/]+"
)


@dataclass(frozen=True)
class PresignedRequest:
    """An HTTP request a client may make without an API key until `expires_at`, sending exactly `headers`."""

    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class StoredObject:
    """What the store says it holds: compare it with what the customer declared before trusting it."""

    size: int
    content_type: str | None


@dataclass(frozen=True)
class ListedObject:
    """An object found by listing the store: its key and when it was last written."""

    key: str
    modified_at: datetime


class StorageError(Exception):
    """The store refused or failed an operation."""


class InvalidKey(StorageError, ValueError):
    """A key that could escape its namespace or the local root."""


class ObjectNotFound(StorageError):
    """No object is stored under the key."""


class ObjectExists(StorageError):
    """Refusing to replace an object that is already stored (an upload URL is good for one upload)."""


class UploadSizeMismatch(StorageError):
    """The bytes written differ from the size the upload was signed or declared for; nothing was stored."""

    def __init__(self, *, expected, received, more=False):
        self.expected = expected
        self.received = received
        self.more = more
        what = f"more than {expected}" if more else f"{received} of {expected}"
        super().__init__(f"Received {what} bytes; the object was not stored.")


class Storage(abc.ABC):
    """Where asset bytes live; customers and renderers reach them only through presigned requests."""

    @abc.abstractmethod
    def presigned_upload(self, *, key: str, content_type: str, size: int, expires_in: int = 900) -> PresignedRequest:
        """A PUT of exactly `size` bytes of `content_type` to `key`; the signature covers all four and the expiry."""

    @abc.abstractmethod
    def presigned_upload_up_to(
        self, *, key: str, content_type: str, max_size: int, expires_in: int = 900
    ) -> PresignedRequest:
        """A PUT of `content_type` to `key` whose size is not known when signing (a render's output), stored once.

        The local backend refuses more than `max_size` bytes; an S3 URL cannot bound the size, so the
        caller `head`s the object and rejects one that is too large (or of another type).
        """

    @abc.abstractmethod
    def presigned_download(
        self, *, key: str, expires_in: int = 3600, filename: str | None = None
    ) -> PresignedRequest:
        """A GET of `key`, served as an attachment named `filename` when one is given."""

    @abc.abstractmethod
    def head(self, *, key: str) -> StoredObject | None:
        """The stored object's size and content type, or None when nothing is stored under `key`."""

    @abc.abstractmethod
    def open(self, *, key: str) -> typing.BinaryIO:
        """A streaming, closeable reader (use it as a context manager); raises ObjectNotFound when absent."""

    @abc.abstractmethod
    def save(
        self, *, key: str, content_type: str, stream: typing.BinaryIO, size: int | None = None, replace: bool = True
    ) -> StoredObject:
        """Store `stream` under `key`; with `size`, exactly so many bytes; with `replace=False`, never over an
        existing object (ObjectExists)."""

    @abc.abstractmethod
    def delete(self, *, key: str) -> None:
        """Remove the object; an absent object is not an error."""

    @abc.abstractmethod
    def list_objects(self, *, prefix: str = "") -> typing.Iterator[ListedObject]:
        """Every object whose key starts with `prefix`, streamed page by page (order unspecified)."""

    def local_path(self, *, key: str) -> pathlib.Path | None:
        """The object's file when the backend keeps real files (whether or not it exists yet), else None."""
        validate_key(key)
        return None


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative storage key, else raise InvalidKey."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"A storage key is a non-empty string of at most {MAX_KEY_LENGTH} characters.")
    if not all(KEY_SEGMENT.fullmatch(segment) for segment in key.split("/")):
        raise InvalidKey(
            f"Invalid storage key {key[:100]!r}: use '/'-separated segments of letters, digits, '.', '_' and '-' "
            "that do not start with '.' (build keys with object_key())."
        )
    return key


def validate_expires_in(expires_in: int) -> int:
    if not isinstance(expires_in, int) or not 1 <= expires_in <= MAX_EXPIRES_IN:
        raise ValueError(f"expires_in must be whole seconds from 1 to {MAX_EXPIRES_IN} (seven days).")
    return expires_in


def validate_content_type(content_type: str) -> str:
    """A media type fit to sign and to send back as a header (no control characters, so no header injection)."""
    if not isinstance(content_type, str) or not re.fullmatch(r"[\x20-\x7e]{1,255}", content_type):
        raise ValueError("content_type must be 1 to 255 printable ASCII characters, such as 'video/mp4'.")
    return content_type


def validate_size(size: int) -> int:
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError("size must be a non-negative whole number of bytes.")
    return size


def safe_filename(filename: str) -> str:
    """`filename` as ASCII letters, digits, '.', '_', '-', extension kept: 'Ünïcode clip.MP4' → 'Unicode-clip.MP4'."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    base = ascii_name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._\-]+", "-", base)
    stem, dot, extension = base.rpartition(".")
    if not dot:
        stem, extension = base, ""
    stem = stem.strip("._-")[:MAX_FILENAME_STEM].rstrip("._-") or "file"
    extension = extension.strip("-_")[:MAX_FILENAME_EXTENSION]
    return f"{stem}.{extension}" if extension else stem


@dataclass(frozen=True)
class AssetKey:
    """The ids an asset's storage key carries."""

    organization_id: str
    project_id: str
    asset_id: str


def asset_key_parts(key: str) -> AssetKey | None:
    """The ids in `key` if object_key() built it for an asset, else None."""
    match = ASSET_KEY.fullmatch(key)
    return AssetKey(**match.groupdict()) if match else None


def object_key(*, organization_id, project_id, asset_id, filename: str) -> str:
    """The key of an asset's bytes: `org/{organization_id}/prj/{project_id}/{asset_id}/{safe filename}`."""
    ids = {"organization_id": organization_id, "project_id": project_id, "asset_id": asset_id}
    for name, value in ids.items():
        if not ID_SEGMENT.fullmatch(str(value)):
            raise InvalidKey(f"{name} {str(value)[:100]!r} may hold only letters, digits, '_' and '-'.")
    return validate_key(f"org/{organization_id}/prj/{project_id}/{asset_id}/{safe_filename(filename)}")
