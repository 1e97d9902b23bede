from django.contrib import admin

from projects.models import Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Every organization's projects (the admin runs through the tenancy bypass); never the webhook secret."""

    list_display = ["name", "slug", "organization", "id", "created_at", "deleted_at"]
    list_filter = ["deleted_at"]
    search_fields = ["name", "slug", "id", "organization__slug"]
    fields = ["id", "organization", "name", "slug", "description", "metadata", "created_at", "updated_at", "deleted_at"]
    readonly_fields = ["id", "organization", "slug", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False
