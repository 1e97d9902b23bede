from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from assets.events import ASSET_EVENT_TYPES
        from assets.services import assets_orphan_for_deleted_project
        from events.registry import event_types_register
        from projects.signals import project_deleted

        event_types_register(*ASSET_EVENT_TYPES)
        project_deleted.connect(assets_orphan_for_deleted_project, dispatch_uid="assets.orphan_for_deleted_project")
