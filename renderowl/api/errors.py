"""RFC 9457 problem+json for every error the API returns, with a stable machine-readable `code`."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from renderowl.api.renderers import camel_key
from renderowl.errors import DomainError, ErrorKind
from renderowl.logging import current_request_id

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# An error response stays small whatever the request held: at most this many field errors (the
# detail says how many more there were), each field path and message, and the detail, cut to length.
MAX_FIELD_ERRORS = 50
MAX_DETAIL_CHARS = 2000
MAX_FIELD_CHARS = 200
MAX_MESSAGE_CHARS = 500


class ApiError(exceptions.APIException):
    """An HTTP-level error of the API plumbing itself (pagination, idempotency); domain code raises DomainError."""

    def __init__(self, detail, *, code, status_code, title=None, errors=None):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.code = code
        self.title = title
        self.errors = errors or []


class Conflict(ApiError):
    def __init__(self, detail, *, code, field=None):
        errors = [{"field": field, "message": detail}] if field else None
        super().__init__(detail, code=code, status_code=status.HTTP_409_CONFLICT, title="Conflict", errors=errors)


class InvalidRequest(ApiError):
    def __init__(self, detail, *, code="invalid_request", field=None):
        errors = [{"field": field, "message": detail}] if field else None
        super().__init__(detail, code=code, status_code=status.HTTP_400_BAD_REQUEST, title="Bad request", errors=errors)


STATUS_FOR_KIND = {
    ErrorKind.INVALID: status.HTTP_400_BAD_REQUEST,
    ErrorKind.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorKind.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorKind.TOO_LARGE: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    ErrorKind.UNPROCESSABLE: status.HTTP_422_UNPROCESSABLE_ENTITY,
}

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

# DRF's own exception codes, renamed where ours read better.
CODES = {
    "invalid": "validation_error",
    "parse_error": "malformed_json",
    "not_authenticated": "not_authenticated",
    "authentication_failed": "invalid_api_key",
    "permission_denied": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "not_acceptable": "not_acceptable",
    "unsupported_media_type": "unsupported_media_type",
    "throttled": "rate_limited",
}


def flatten_field_errors(detail, prefix=""):
    """DRF's nested ValidationError detail as a flat [{field, message}] list with camelCase dotted paths."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                items += flatten_field_errors(value, prefix)
            elif isinstance(key, int):  # an item of a list field
                items += flatten_field_errors(value, f"{prefix}[{key}]")
            else:
                name = str(key) if prefix.endswith("metadata") else camel_key(str(key))
                items += flatten_field_errors(value, f"{prefix}.{name}" if prefix else name)
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                items += flatten_field_errors(value, f"{prefix}[{index}]")
            else:
                items += flatten_field_errors(value, prefix)
        return items
    return [{"field": prefix or None, "message": str(detail)}]


def shorten(text, limit):
    """`text` cut to at most `limit` characters, marked with an ellipsis when cut."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_errors_summary(errors):
    """The detail and errors of a validation problem: the first MAX_FIELD_ERRORS, and how many more there were."""
    shown = errors[:MAX_FIELD_ERRORS]
    detail = "; ".join(
        f"{shorten(e['field'], MAX_FIELD_CHARS)}: {e['message']}" if e["field"] else e["message"] for e in shown
    )
    if len(errors) > len(shown):
        detail = (
            f"{len(errors)} field errors; the first {len(shown)} are listed, "
            f"{len(errors) - len(shown)} more were left out. {detail}"
        )
    return detail or "The request is invalid.", shown


def bounded_errors(errors):
    """At most MAX_FIELD_ERRORS entries, each field path and message cut to length (the last line of defence)."""
    return [
        {
            "field": None if e.get("field") is None else shorten(e["field"], MAX_FIELD_CHARS),
            "message": shorten(e.get("message", ""), MAX_MESSAGE_CHARS),
        }
        for e in (errors or [])[:MAX_FIELD_ERRORS]
    ]


def problem(status_code, *, code, detail, title=None, errors=None):
    """The problem+json body for an error, bounded in size whatever the request held."""
    return {
        "type": f"urn:renderowl:problem:{code}",
        "title": title or TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": shorten(detail, MAX_DETAIL_CHARS),
        "code": code,
        "errors": bounded_errors(errors),
        "request_id": current_request_id.get(),
    }


def problem_response(status_code, *, code, detail, title=None, errors=None, headers=None):
    return Response(
        problem(status_code, code=code, detail=detail, title=title, errors=errors),
        status=status_code,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def problem_exception_handler(exc, context):
    """DRF exception handler: every handled error becomes problem+json; the rest propagate to a 500."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("No such resource, or it belongs to another organization.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return request_too_large_response()
    elif isinstance(exc, DomainError):
        exc = domain_api_error(exc)
    if not isinstance(exc, exceptions.APIException):
        return None
    # Whatever the view wrote before failing is undone (ATOMIC_REQUESTS), as DRF's own handler does.
    set_rollback()

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))

    if isinstance(exc, ApiError):
        return problem_response(
            exc.status_code, code=exc.code, detail=str(exc.detail), title=exc.title, errors=exc.errors, headers=headers
        )
    if isinstance(exc, exceptions.ValidationError):
        detail, errors = field_errors_summary(flatten_field_errors(exc.detail))
        return problem_response(400, code="validation_error", detail=detail, errors=errors, headers=headers)
    codes = exc.get_codes()
    code = CODES.get(codes if isinstance(codes, str) else "", "error")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if isinstance(exc, exceptions.Throttled):
        detail = f"Rate limit exceeded for this organization. Retry after {headers.get('Retry-After', '1')} seconds."
    return problem_response(exc.status_code, code=code, detail=str(detail), headers=headers)


def domain_api_error(exc):
    """A service's DomainError as the ApiError of its kind's status."""
    return ApiError(exc.detail, code=exc.code, status_code=STATUS_FOR_KIND[exc.kind], errors=exc.errors)


def request_too_large_response():
    from django.conf import settings

    return problem_response(
        413,
        code="request_too_large",
        detail=f"The request body exceeds {settings.MAX_REQUEST_BODY_BYTES} bytes.",
    )


def plain_problem_response(status_code, *, code, detail):
    """A problem+json response outside DRF (middleware, Django's 404/500 handlers)."""
    body = problem(status_code, code=code, detail=detail)
    body["requestId"] = body.pop("request_id")
    return JsonResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def not_found_view(request, exception=None):
    return plain_problem_response(404, code="not_found", detail=f"No route matches {request.path}.")


SERVER_ERROR_DETAIL = "The server failed to handle this request; quote the requestId when reporting it."


def server_error_view(request):
    return plain_problem_response(500, code="internal_error", detail=SERVER_ERROR_DETAIL)


# Errors Django answers itself, outside DRF: its debug pages under DEBUG, its plain 400/403 pages, and
# 405s of plain views. The client gets the same problem+json as anywhere else.
DJANGO_ERRORS = {
    400: ("bad_request", "The request was refused before it reached the API: check its Host header and framing."),
    403: ("forbidden", "This request is not allowed."),
    404: ("not_found", None),
    405: ("method_not_allowed", None),
    500: ("internal_error", SERVER_ERROR_DETAIL),
}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def is_json_response(response):
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def problem_for_django_error(request, response):
    """`response` unless it is an error page Django rendered itself (HTML or text); then its problem+json twin."""
    if response.status_code < 400 or is_json_response(response):
        return response
    code, detail = DJANGO_ERRORS.get(response.status_code, ("error", TITLES.get(response.status_code, "Error.")))
    if response.status_code == 404:
        detail = f"No route matches {request.path}."
    elif response.status_code == 405:
        allowed = response.get("Allow")
        detail = f"{request.method} is not allowed here" + (f"; use {allowed}." if allowed else ".")
    problem_page = plain_problem_response(response.status_code, code=code, detail=detail)
    for header in KEPT_HEADERS:
        if header in response:
            problem_page[header] = response[header]
    return problem_page
