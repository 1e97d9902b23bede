from django.contrib import admin, messages
from django.db import transaction

from renderowl.errors import DomainError, NotFound
from renderowl.tenancy import operator_tenant_context
from renders.models import RenderJob
from renders.services import render_cancel, render_retry


@admin.register(RenderJob)
class RenderJobAdmin(admin.ModelAdmin):
    """Render jobs of every organization, read-only; actions retry failed jobs and cancel queued ones."""

    list_display = ["id", "status", "engine", "priority", "organization", "project", "attempts", "created_at",
                    "completed_at"]
    list_filter = ["status", "engine", "priority", "organization"]
    list_select_related = ["organization", "project"]
    search_fields = ["id", "project__id", "template_id", "organization__slug"]
    readonly_fields = [field.name for field in RenderJob._meta.fields]
    actions = ["retry", "cancel"]

    @transaction.non_atomic_requests
    def changelist_view(self, request, extra_context=None):
        # The actions commit each job in its own tenant transaction (operator_tenant_context), so its events
        # and its renderer's wake-up go out once it is committed, never from inside the admin's bypass.
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # deleting here would leave the stored output behind; an output goes by retention

    @admin.action(description="Retry selected failed renders (queued again, with fresh attempts)",
                  permissions=["change"])
    def retry(self, request, queryset):
        self._each(request, queryset, render_retry, done="Queued {id} again.")

    @admin.action(description="Cancel selected queued renders", permissions=["change"])
    def cancel(self, request, queryset):
        self._each(request, queryset, render_cancel, done="Cancelled {id}.")

    def _each(self, request, queryset, service, *, done):
        """Run `service(job=…)` on each job, locked in its organization's own transaction; one message per job."""
        for job_id, organization_id in queryset.order_by("id").values_list("id", "organization_id"):
            try:
                with operator_tenant_context(organization_id):
                    job = RenderJob.objects.select_for_update().filter(pk=job_id).first()
                    if job is None:
                        raise NotFound(f"The render {job_id} no longer exists.", code="not_found")
                    service(job=job)
            except DomainError as error:
                self.message_user(request, error.detail, messages.ERROR)  # each names the job
            else:
                self.message_user(request, done.format(id=job_id), messages.SUCCESS)
