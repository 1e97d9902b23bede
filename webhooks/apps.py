from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhooks subscribe to events: every committed event fans out to the endpoints that want it."""

    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from events.registry import event_subscribe, event_types_register
        from webhooks.events import WEBHOOK_EVENT_TYPES
        from webhooks.fanout import event_fan_out

        event_types_register(*WEBHOOK_EVENT_TYPES)
        event_subscribe("webhooks", event_fan_out)
