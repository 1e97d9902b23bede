"""JSON in camelCase on the wire, snake_case in Python; user-owned maps keep their keys as sent."""

from djangorestframework_camel_case.util import camelize
from rest_framework.renderers import JSONRenderer

# Keys inside these fields belong to the customer and are never re-cased.
PRESERVED_FIELDS = ("metadata",)


class CamelCaseJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        return super().render(
            camelize(data, ignore_fields=PRESERVED_FIELDS), accepted_media_type, renderer_context
        )
