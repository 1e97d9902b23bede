from django.contrib import admin, messages

from automations.firing import automation_run_again
from automations.models import Automation, AutomationRun
from automations.services import automation_update


@admin.register(Automation)
class AutomationAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "organization", "trigger_type", "enabled", "last_run_at", "created_at"]
    list_filter = ["trigger_type", "enabled"]
    search_fields = ["id", "name", "template_id", "organization__slug"]
    readonly_fields = [field.name for field in Automation._meta.fields if field.name not in ("hook_token", "hook_secret")]
    exclude = ["hook_token", "hook_secret"]  # credentials: the API shows hookUrl to the organization only
    actions = ["enable", "disable"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def _set_enabled(self, request, queryset, enabled):
        automations = list(queryset)
        for automation in automations:
            automation_update(automation=automation, changes={"enabled": enabled})
        self.message_user(request, f"{'Enabled' if enabled else 'Disabled'} {len(automations)} automation(s).",
                          messages.SUCCESS)

    @admin.action(description="Enable selected automations (their schedules fire again)")
    def enable(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable selected automations (hooks answer 409, schedules and uploads stop firing)")
    def disable(self, request, queryset):
        self._set_enabled(request, queryset, False)


@admin.register(AutomationRun)
class AutomationRunAdmin(admin.ModelAdmin):
    list_display = ["id", "automation", "trigger", "status", "render_id", "created_at", "finished_at"]
    list_filter = ["status", "trigger"]
    search_fields = ["id", "automation__id", "render_id"]
    readonly_fields = [field.name for field in AutomationRun._meta.fields]
    actions = ["run_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Re-run selected failed or skipped runs (a new manual run with the same payload)")
    def run_again(self, request, queryset):
        runs = list(queryset.filter(status__in=[AutomationRun.Status.FAILED, AutomationRun.Status.SKIPPED]))
        for run in runs:
            automation_run_again(run=run)
        skipped = queryset.count() - len(runs)
        self.message_user(
            request,
            f"Queued {len(runs)} new run(s)." + (f" Left {skipped} run(s) that did not fail alone." if skipped else ""),
            messages.SUCCESS,
        )
