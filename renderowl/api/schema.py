"""OpenAPI: every operation documents its problem+json errors, and every POST its Idempotency-Key."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from renderowl.api.errors import PROBLEM_CONTENT_TYPE
from renderowl.api.idempotency import KEY_PATTERN


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


class AutoSchema(SpectacularAutoSchema):
    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
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
