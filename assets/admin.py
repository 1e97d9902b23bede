from django.contrib import admin

from assets.models import Asset


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "status", "organization", "project", "size", "created_at", "orphaned_at"]
    list_filter = ["type", "status"]
    search_fields = ["id", "name", "project__id", "organization__slug"]
    readonly_fields = [field.name for field in Asset._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # deleting here would leave the stored file behind; use DELETE /v1/assets/{id}
