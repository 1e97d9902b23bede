"""`GET /`: a small map of where the API, its reference and the admin live."""

from django.db import transaction
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe


@transaction.non_atomic_requests
@require_safe
def api_index(request):
    """Where to go from the server's root: the API's base path, its OpenAPI document and docs, the admin."""
    links = {
        "api": "/v1",
        "openapi": reverse("openapi"),
        "docs": reverse("docs"),
        "admin": reverse("admin:index"),
        "health": reverse("healthz"),
    }
    return JsonResponse({name: request.build_absolute_uri(path) for name, path in links.items()})
