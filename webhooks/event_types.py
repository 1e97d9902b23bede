"""The one registry of event types: choices, endpoint filters, OpenAPI enums and docs derive from it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    payload: str  # what `data.object` holds: the API representation of this resource


EVENT_TYPES = {
    event.name: event
    for event in [
        EventType("render.queued", "A render job entered its priority queue.", "RenderJob"),
        EventType("render.started", "A renderer picked the job up.", "RenderJob"),
        EventType("render.progress", "The job's progress moved (at most every few seconds).", "RenderJob"),
        EventType("render.completed", "The output is stored; `outputUrl` is signed.", "RenderJob"),
        EventType("render.failed", "The job failed; `error` says why.", "RenderJob"),
        EventType("render.cancelled", "The job was cancelled before it started rendering.", "RenderJob"),
        EventType("asset.uploaded", "The upload finished and metadata extraction began.", "Asset"),
        EventType("asset.ready", "Metadata is extracted; the asset can be used in renders.", "Asset"),
        EventType("asset.failed", "The file is not what its type claims; `error` says why.", "Asset"),
        EventType("webhook.test", "Sent by POST /v1/webhooks/{id}/test to check an endpoint.", "WebhookEndpoint"),
    ]
}
TEST_EVENT = "webhook.test"
EVENT_TYPE_CHOICES = [(name, name) for name in EVENT_TYPES]
WILDCARDS = sorted({f"{name.split('.')[0]}.*" for name in EVENT_TYPES})
EVENT_FILTER_CHOICES = [*EVENT_TYPES, *WILDCARDS]


def event_filter_is_valid(pattern):
    """An exact event type or a `<resource>.*` wildcard."""
    return pattern in EVENT_TYPES or pattern in WILDCARDS


def event_matches(filters, event_type):
    """Whether an endpoint with `filters` (empty means every event) receives `event_type`."""
    if not filters:
        return True
    resource = event_type.split(".")[0]
    return event_type in filters or f"{resource}.*" in filters
