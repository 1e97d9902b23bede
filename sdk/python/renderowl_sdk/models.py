"""The API's objects and request shapes, generated from openapi.json, and the webhook event envelope."""

from ._models import *  # noqa: F403
from ._models import __all__ as _generated
from ._webhooks import WebhookEvent

__all__ = [*_generated, "WebhookEvent"]
