"""OpenAPI: every operation documents its problem+json errors, and every POST its Idempotency-Key."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from renderowl.api.errors import PROBLEM_CONTENT_TYPE
from renderowl.api.idempotency import KEY_PATTERN
from renderowl.api.renderers import camel_key


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="Dotted camelCase path of the offending field.")
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="urn:renderowl:problem:<code>")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong and how to fix it.")
    code = serializers.CharField(help_text="Stable machine-readable error code.")
    errors = FieldErrorSerializer(many=True)
    request_id = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "Problem"


ERROR_STATUSES = {
    "GET": (400, 401, 404, 429),
    "POST": (400, 401, 404, 409, 413, 422, 429),
    "PATCH": (400, 401, 404, 409, 413, 429),
    "PUT": (400, 401, 404, 409, 413, 429),
    "DELETE": (401, 404, 409, 429),
}


def forbid_unknown_request_fields(result, generator, request, public):
    """Postprocessing hook: request bodies are closed (StrictSerializer refuses unknown fields)."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


# Collections addressed by another resource's id: an automation's hook is /v1/hooks/{automationId}/{token}.
PATH_PARAMETER_NAMES = {"hooks": "automationId"}


def path_parameter_name(collection):
    """`projects` -> `projectId`: a path parameter is named after the collection segment before it.

    A parameter right after another one (a hook's token) keeps its own name, camelCased.
    """
    if collection.startswith("{") and collection.endswith("}"):
        return None
    if collection in PATH_PARAMETER_NAMES:
        return PATH_PARAMETER_NAMES[collection]
    singular = collection[:-3] + "y" if collection.endswith("ies") else collection.removesuffix("s")
    return camel_key(f"{singular.replace('-', '_')}_id")


def camel_case_path_parameters(result, generator, request, public):
    """Postprocessing hook: path parameters are camelCase like the rest of the wire and say what they name.

    `/v1/projects/{id}` and `/v1/projects/{project_id}/assets` both become `{projectId}`; the URLs
    themselves are unchanged.
    """
    paths = {}
    for route, operations in result.get("paths", {}).items():
        segments = route.split("/")
        renames = {}
        for index, segment in enumerate(segments):
            if segment.startswith("{") and segment.endswith("}") and index > 0:
                renames[segment[1:-1]] = path_parameter_name(segments[index - 1]) or camel_key(segment[1:-1])
                segments[index] = "{" + renames[segment[1:-1]] + "}"
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else ():
                if parameter.get("in") == "path" and parameter["name"] in renames:
                    parameter["name"] = renames[parameter["name"]]
        paths["/".join(segments)] = operations
    result["paths"] = paths
    return result


CREATED_LOCATION_HEADER = {
    "Location": {"schema": {"type": "string", "format": "uri"}, "description": "The URL of the created resource."}
}


def document_created_location(result, generator, request, public):
    """Postprocessing hook: every 201 response carries Location."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            created = operation.get("responses", {}).get("201") if isinstance(operation, dict) else None
            if created is not None:
                created.setdefault("headers", {}).update(CREATED_LOCATION_HEADER)
    return result


class AutoSchema(SpectacularAutoSchema):
    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "POST" and self.get_auth():  # not on a renderer's keyless, signed callbacks
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN.pattern},
                    OpenApiParameter.HEADER,
                    description="Replays the stored response for the same key and body within 24 hours: "
                    "1-255 printable ASCII characters without spaces, such as a UUID.",
                )
            )
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if not self.get_auth():
            statuses = [code for code in ERROR_STATUSES.get(self.method, ()) if code != 401]
        else:
            statuses = ERROR_STATUSES.get(self.method, ())
        for code in statuses:
            responses.setdefault(
                str(code),
                self._get_response_for_code(ProblemSerializer, str(code), media_types=[PROBLEM_CONTENT_TYPE]),
            )
        return responses
