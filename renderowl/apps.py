from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class RenderowlConfig(AppConfig):
    name = "renderowl"
    verbose_name = "Renderowl platform"

    def ready(self):
        import renderowl.api.converters  # noqa: F401 - registers the <rid:…> URL converter for every app
        from renderowl.database import grant_app_role_after_migrate
        from renderowl.timestamps import register_iso_timestamptz_loader

        post_migrate.connect(grant_app_role_after_migrate, dispatch_uid="renderowl.grant_app_role")
        connection_created.connect(register_iso_timestamptz_loader, dispatch_uid="renderowl.iso_timestamptz_loader")
