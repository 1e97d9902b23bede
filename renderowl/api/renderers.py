"""JSON in camelCase on the wire, snake_case in Python; user-owned maps keep their keys as sent."""

from functools import lru_cache

from djangorestframework_camel_case.util import camelize_re, underscore_to_camel
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer

# Keys inside these fields belong to the customer and are never re-cased: metadata, a render's props (a
# template may name a prop first_name or firstName), an automation's mapping (keyed by the template's prop
# names; its JSONPaths read the trigger's payload as it was sent), payload and mapped input.
PRESERVED_FIELDS = ("metadata", "input_props", "data_mapping", "payload", "input")


@lru_cache(maxsize=4096)
def camel_key(key):
    """`created_at` -> `createdAt`; cached, since a page repeats the same few keys on every row."""
    return camelize_re.sub(underscore_to_camel, key) if "_" in key else key


_PRESERVED = frozenset(PRESERVED_FIELDS)
_CONTAINERS = (dict, list, tuple)


class CamelCaseRows(list):
    """Rows already written in camelCase (renderowl.api.serializers.ModelSerializer.camel_case_rows): sent as they are."""


class CamelCaseRow(dict):
    """One such row: sent as it is."""


def camelize(data):
    """Recursively camelCase the keys of dicts, leaving the contents of PRESERVED_FIELDS untouched."""
    if type(data) is CamelCaseRows or type(data) is CamelCaseRow:
        return data
    if isinstance(data, dict):
        # The common values (strings, numbers, None) are kept without a call: a page has 100 rows of them.
        return {
            camel_key(key) if isinstance(key, str) else key: (
                value if key in _PRESERVED or not isinstance(value, _CONTAINERS) else camelize(value)
            )
            for key, value in data.items()
        }
    if isinstance(data, (list, tuple)):
        return [camelize(item) if isinstance(item, _CONTAINERS) else item for item in data]
    return data


class CamelCaseJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        return super().render(camelize(data), accepted_media_type, renderer_context)


PROBLEM_JSON = "application/problem+json"


class ProblemJSONContentNegotiation(DefaultContentNegotiation):
    """Reads `application/problem+json` in Accept as accepting JSON, so a client that names it is not a 406.

    Errors are problem+json whatever Accept says; successful responses stay application/json.
    """

    def get_accept_list(self, request):
        return [
            "application/json" + token[len(PROBLEM_JSON):] if token.lower().startswith(PROBLEM_JSON) else token
            for token in super().get_accept_list(request)
        ]
