"""Metadata extraction for stored assets: one entry point, one error type, one extractor per asset type.

`extract_metadata` is pure: it reads a local file and returns a JSON-serialisable dict with camelCase
keys that goes to API clients as is. It touches no database and no storage backend, so the processing
task decides what to do with the result (or with the `ExtractionError`).
"""

import pathlib


class ExtractionError(Exception):
    """The file is not what its declared type claims; `code` is stable, `message` says how to fix it."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# The extractors raise ExtractionError, so they are imported once it exists.
from assets.extractors import fonts, media, templates

TEMPLATE_META_SCHEMA: dict = templates.TEMPLATE_META_SCHEMA

EXTRACTORS = {
    "video": media.extract_video,
    "image": media.extract_image,
    "audio": media.extract_audio,
    "font": fonts.extract_font,
    "template": templates.extract_template,
}

# The top-level media types that name a kind of file; `application/*`, `text/*` and the like are too
# loose to contradict anything (`application/octet-stream` is what many uploaders send for everything).
DECLARED_KINDS = {"video": "video", "audio": "video", "image": "image", "font": "font"}
# Video and audio share containers (an .m4a is an MP4, audio-only WebM is `video/webm`), so they count
# as one kind: only a declaration of a different kind altogether is a contradiction.
ASSET_KINDS = {"video": "video", "audio": "video", "image": "image", "font": "font", "template": "document"}


def extract_metadata(*, asset_type: str, path: pathlib.Path, content_type: str) -> dict:
    """Metadata for a stored file of `asset_type` ('video'|'image'|'audio'|'font'|'template'), read from `path`.

    Returns a JSON-serialisable dict with camelCase keys (it is returned to API clients as is).
    Raises ExtractionError for a file that is not what it claims. Never loads a whole media file into memory.

    The file's content decides, not its declared `content_type`: a WebM declared `video/mp4` or a PNG
    declared `image/jpeg` is accepted, and the metadata's `format` says what it really is. A declaration
    of another kind of media altogether (`image/png` on a video, `video/mp4` on a font, `audio/*` on a
    template) fails with `content_type_mismatch`, because storage serves the file with the declared
    type and renderers and browsers would misread it. Video and audio types count as one kind, and
    generic types (`application/octet-stream`, `text/plain`, ...) contradict nothing.
    """
    try:
        extractor = EXTRACTORS[asset_type]
    except KeyError:
        raise ValueError(f"asset_type must be one of {', '.join(EXTRACTORS)}, not {asset_type!r}.") from None
    path = pathlib.Path(path)
    if path.stat().st_size == 0:
        raise ExtractionError("empty_file", f"The file is empty; upload the {asset_type} file again.")
    metadata = extractor(path)
    _check_declared_kind(asset_type=asset_type, content_type=content_type)
    return metadata


def _check_declared_kind(*, asset_type, content_type):
    major = (content_type or "").split("/", 1)[0].strip().lower()
    declared = DECLARED_KINDS.get(major)
    if declared is not None and declared != ASSET_KINDS[asset_type]:
        raise ExtractionError(
            "content_type_mismatch",
            f"The file is a valid {asset_type}, but it was declared as {content_type!r}, which storage would "
            f"serve it as; create the asset again with a {asset_type} content type.",
        )
