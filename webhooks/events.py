"""The event type webhooks add to the registry: the test send (registered in WebhooksConfig.ready)."""

from events.registry import EventType

TEST_EVENT = "webhook.test"

WEBHOOK_EVENT_TYPES = [
    EventType(
        TEST_EVENT,
        "Sent by POST /v1/webhooks/{id}/test to check an endpoint.",
        "WebhookEndpoint",
        "webhooks.serializers.WebhookEndpointSerializer",
    ),
]
