"""The automation runs' event types (registered in AutomationsConfig.ready)."""

from events.registry import EventType

SERIALIZER = "automations.serializers.AutomationRunSerializer"

AUTOMATION_EVENT_TYPES = [
    EventType("automation.run.completed", "An automation's run ended with its render completed.", "AutomationRun", SERIALIZER),
    EventType(
        "automation.run.failed",
        "An automation's run failed: the mapping, the render's validation or the render itself; `error` says why.",
        "AutomationRun",
        SERIALIZER,
    ),
]
