from djangorestframework_camel_case.util import underscoreize
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from renderowl.api.renderers import PRESERVED_FIELDS


class CamelCaseJSONParser(JSONParser):
    """Parses a JSON object body and turns its camelCase keys into snake_case."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if not isinstance(data, dict):
            raise ParseError("The request body must be a JSON object.")
        return underscoreize(data, ignore_fields=PRESERVED_FIELDS)
