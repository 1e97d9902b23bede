"""The OpenAPI shape of a render's free-form JSON: `output` as renders/validation.py takes and resolves it.

The fields stay JSONFields (validation.py judges the content and names every bad key); these subclasses only
tell drf-spectacular, and so the SDKs generated from openapi.json, what an output looks like. Limits that
settings choose (RENDER_MAX_WIDTH, RENDER_MAX_FPS, …) are in the descriptions, not in the document.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from renders.validation import FORMATS, QUALITIES, STILL_FORMATS

_SIZE = "Pixels, at most RENDER_MAX_{} (3840 by default); even for mp4 and webm."
OUTPUT_PROPERTIES = {
    "format": {"type": "string", "enum": list(FORMATS), "description": "mp4 by default."},
    "width": {
        "type": "integer", "minimum": 1,
        "description": f"{_SIZE.format('WIDTH')} Without it: the template's, or scaled from height.",
    },
    "height": {
        "type": "integer", "minimum": 1,
        "description": f"{_SIZE.format('HEIGHT')} Without it: the template's, or scaled from width.",
    },
    "fps": {
        "type": "number", "exclusiveMinimum": 0,
        "description": "Frames per second, at most RENDER_MAX_FPS; the template's by default.",
    },
    "quality": {"type": "string", "enum": list(QUALITIES), "description": "standard by default."},
    "frame": {
        "type": "integer", "minimum": 0,
        "description": f"{' and '.join(STILL_FORMATS)} only: the frame to render, 0-based (0 by default).",
    },
}


@extend_schema_field({
    "type": "object",
    "properties": OUTPUT_PROPERTIES,
    "additionalProperties": False,
    "description": "The file to produce; every key is optional (null or {}: an mp4 as the template says). Give it with allow_null.",
})
class OutputRequestField(serializers.JSONField):
    """A submission's `output`: what may be asked for."""


@extend_schema_field({
    "type": "object",
    "properties": {**OUTPUT_PROPERTIES, "frame": {**OUTPUT_PROPERTIES["frame"], "type": ["integer", "null"]}},
    "required": ["format", "width", "height", "fps", "quality", "frame"],
    "description": "The resolved output: every setting as the render uses it (frame null unless a still).",
})
class OutputField(serializers.JSONField):
    """A job's `output`, resolved at submission."""


@extend_schema_field({
    "type": "object",
    "additionalProperties": True,
    "description": "The template's props by their own names (never re-cased), checked against its inputSchema.",
})
class InputPropsField(serializers.JSONField):
    """Props: an object whose keys are the template's, validated against the template's inputSchema."""
