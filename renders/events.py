"""The render lifecycle's event types (registered in RendersConfig.ready)."""

from events.registry import EventType

SERIALIZER = "renders.serializers.RenderJobSerializer"

RENDER_EVENT_TYPES = [
    EventType("render.queued", "A render job is waiting for a renderer (submitted, or queued again after its worker was lost).", "RenderJob", SERIALIZER),
    EventType("render.started", "A renderer picked the job up.", "RenderJob", SERIALIZER),
    EventType("render.progress", "The job's progress moved (at most every few seconds).", "RenderJob", SERIALIZER),
    EventType("render.completed", "The output is stored; GET the render for its signed `outputUrl`.", "RenderJob", SERIALIZER),
    EventType("render.failed", "The job failed; `error` says why.", "RenderJob", SERIALIZER),
    EventType("render.cancelled", "The job was cancelled before it started rendering.", "RenderJob", SERIALIZER),
]
