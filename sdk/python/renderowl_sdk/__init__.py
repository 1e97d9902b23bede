"""Renderowl's Python SDK: `from renderowl_sdk import Renderowl`."""

from . import models
from ._client import Renderowl
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    RenderowlError,
    ServerError,
    ValidationError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from ._pagination import Page
from ._version import __version__
from ._webhooks import WebhookEvent, verify_webhook

__all__ = [
    "APIConnectionError", "APIStatusError", "APITimeoutError", "AuthenticationError", "ConflictError",
    "NotFoundError", "Page", "RateLimitError", "Renderowl", "RenderowlError", "ServerError", "ValidationError",
    "WaitTimeoutError", "WebhookEvent", "WebhookVerificationError", "__version__", "models", "verify_webhook",
]
