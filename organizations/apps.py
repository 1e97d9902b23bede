from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "organizations"
    default_auto_field = "django.db.models.BigAutoField"
    # Authentication finds a key before the organization is known (migration 0002).
    app_role_functions = ("api_key_lookup(text)",)
