from django.contrib import admin, messages
from django.utils import timezone

from organizations.models import ApiKey, Organization
from organizations.services import api_key_create


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Organizations are never hard-deleted here: the cascade would drop rows and leave their stored files behind."""

    list_display = ["name", "slug", "id", "created_at"]
    search_fields = ["name", "slug", "id"]
    readonly_fields = ["id", "created_at"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here with the raw key shown once in a message; only the hash is kept."""

    list_display = ["prefix", "name", "organization", "mode", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["mode", "revoked_at"]
    search_fields = ["prefix", "name", "organization__slug"]
    fields = ["organization", "name", "mode", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "organization", "mode"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        issued = api_key_create(organization=obj.organization, name=obj.name, mode=obj.mode)
        obj.pk = issued.api_key.pk
        obj.prefix = issued.api_key.prefix
        obj.key_hash = issued.api_key.key_hash
        self.message_user(
            request,
            f"API key created: {issued.raw_key} — copy it now, it will not be shown again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} API key(s).")
