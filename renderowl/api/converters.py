"""URL converters: resource ids are matched by shape, so a malformed id is a 404 before any query."""

from django.urls import register_converter

RESOURCE_ID_PATTERN = "[A-Za-z0-9_]{1,64}"


class ResourceIdConverter:
    """`prj_3kTz…`: letters, digits and underscores only (never NUL or other bytes PostgreSQL refuses)."""

    regex = RESOURCE_ID_PATTERN

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ResourceIdConverter, "rid")
