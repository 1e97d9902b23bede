from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    """Automations: webhook, schedule and asset-upload triggers that render a template through a data mapping."""

    name = "automations"
    default_auto_field = "django.db.models.BigAutoField"
    # The hook finds its automation before the organization is known (migration 0001).
    app_role_functions = ("automation_hook_lookup(text,text)",)

    def ready(self):
        from assets.signals import asset_deleting
        from automations.events import AUTOMATION_EVENT_TYPES
        from automations.firing import automations_on_event
        from automations.services import (
            automations_disable_for_deleted_project,
            automations_refuse_deleting_template_in_use,
        )
        from events.registry import event_subscribe, event_types_register
        from projects.signals import project_deleted

        event_types_register(*AUTOMATION_EVENT_TYPES)
        event_subscribe("automations", automations_on_event)
        project_deleted.connect(
            automations_disable_for_deleted_project, dispatch_uid="automations.disable_for_deleted_project"
        )
        asset_deleting.connect(
            automations_refuse_deleting_template_in_use, dispatch_uid="automations.refuse_deleting_template_in_use"
        )
