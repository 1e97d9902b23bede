from django.apps import AppConfig


class RendersConfig(AppConfig):
    """Render jobs: submitted through the API, rendered by a worker, followed by events."""

    name = "renders"
    default_auto_field = "django.db.models.BigAutoField"
    # The scheduler picks the next job across organizations (renders.scheduling, migration 0002).
    app_role_functions = ("render_pick_next(integer)",)

    def ready(self):
        from assets.signals import asset_deleting, stored_objects_unowned
        from events.registry import event_types_register
        from projects.signals import project_deleted
        from renders.events import RENDER_EVENT_TYPES
        from renders.retention import render_outputs_unowned
        from renders.services import renders_cancel_for_deleted_project, renders_refuse_deleting_asset_in_use

        event_types_register(*RENDER_EVENT_TYPES)
        project_deleted.connect(renders_cancel_for_deleted_project, dispatch_uid="renders.cancel_for_deleted_project")
        asset_deleting.connect(renders_refuse_deleting_asset_in_use, dispatch_uid="renders.refuse_deleting_asset_in_use")
        stored_objects_unowned.connect(render_outputs_unowned, dispatch_uid="renders.outputs_unowned")
