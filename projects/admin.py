from django.contrib import admin

from projects.models import Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Every organization's projects (the admin runs through the tenancy bypass); never the webhook secret."""

    list_display = ["name", "slug", "organization", "id", "created_at", "deleted_at"]
    list_filter = ["deleted_at"]
    search_fields = ["name", "slug", "id", "organization__slug"]
    fields = ["id", "organization", "name", "slug", "description", "metadata", "created_at", "updated_at", "deleted_at"]
    # deletedAt is the API's soft delete, with its cascade (assets orphaned); the admin does not fake it.
    readonly_fields = ["id", "organization", "slug", "created_at", "updated_at", "deleted_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a hard delete would cascade past the assets' stored files; use DELETE /v1/projects/{id}
