from django.apps import AppConfig


class RendersConfig(AppConfig):
    """Render jobs. For now it owns only its event types, which customers can already subscribe to."""

    name = "renders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from events.registry import event_types_register
        from renders.events import RENDER_EVENT_TYPES

        event_types_register(*RENDER_EVENT_TYPES)
