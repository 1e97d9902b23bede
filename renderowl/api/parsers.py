"""Request bodies: one JSON object, nested at most MAX_JSON_DEPTH deep, with camelCase keys turned into snake_case."""

from djangorestframework_camel_case.util import underscoreize
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from renderowl.api.renderers import PRESERVED_FIELDS

# Arrays and objects inside one another, the body's own object included. Far more than any resource
# needs, and few enough that every recursive step after parsing (camelCase conversion, serializers,
# error flattening, fingerprints) stays far from Python's recursion limit.
MAX_JSON_DEPTH = 64


def nesting_exceeds(data, limit):
    """Whether parsed JSON nests arrays and objects more than `limit` deep (iterative, so any depth is safe)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class CamelCaseJSONParser(JSONParser):
    """Parses a JSON object body and turns its camelCase keys into snake_case."""

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(
            f"JSON parse error - arrays and objects are nested more than {MAX_JSON_DEPTH} deep; flatten the body."
        )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # json gives up near Python's recursion limit (about 1,000 levels)
            raise too_deep from None
        if not isinstance(data, dict):
            raise ParseError("The request body must be a JSON object.")
        if nesting_exceeds(data, MAX_JSON_DEPTH):
            raise too_deep
        return underscoreize(data, ignore_fields=PRESERVED_FIELDS)
