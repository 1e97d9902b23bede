"""API-key authentication for DRF (`Authorization: Bearer rwl_live_…`), and recording each key's use."""

import logging
from dataclasses import dataclass

from django.db import DatabaseError
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from organizations.models import ApiKey, Organization
from organizations.services import api_key_authenticate, api_key_record_use

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiPrincipal:
    """Who is calling: an organization, through one of its API keys."""

    organization: Organization
    api_key: ApiKey
    is_authenticated: bool = True
    # The key's lookup already set the row-level-security organization in the request's transaction.
    organization_activated: bool = False

    @property
    def organization_id(self):
        return self.organization.id


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.headers.get("Authorization")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        if scheme.lower() != "bearer" or not raw_key.strip():
            raise exceptions.AuthenticationFailed("Send the API key as 'Authorization: Bearer rwl_live_…'.")
        api_key = api_key_authenticate(raw_key=raw_key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is unknown or revoked.")
        # lastUsedAt is recorded by ApiKeyUsageMiddleware once the request's transaction has ended.
        principal = ApiPrincipal(
            organization=api_key.organization, api_key=api_key, organization_activated=api_key.organization_activated
        )
        return principal, api_key

    def authenticate_header(self, request):
        return 'Bearer realm="renderowl"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API key: rwl_live_… or rwl_test_…"}


class ApiKeyUsageMiddleware:
    """Records the API key's lastUsedAt after the view's transaction has ended, committed or rolled back.

    Inside the request's transaction the write would hold the key's row lock until the response, and
    every other request on that key would queue behind it; here it is its own short, non-blocking write.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        api_key = getattr(request, "auth", None)  # DRF sets it on the HttpRequest when it authenticates
        if isinstance(api_key, ApiKey):
            try:
                api_key_record_use(api_key=api_key)
            except DatabaseError:
                logger.warning("could not record the API key's use", exc_info=True)
        return response
