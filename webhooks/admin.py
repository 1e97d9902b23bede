from django.contrib import admin, messages
from django.utils import timezone

from webhooks.models import Attempt, Delivery, WebhookEndpoint
from webhooks.services import delivery_schedule_retry


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "organization", "status", "enabled", "consecutive_failures", "created_at"]
    list_filter = ["status", "enabled"]
    search_fields = ["url", "id", "organization__slug"]
    readonly_fields = ["id", "organization", "status", "consecutive_failures", "disabled_reason", "created_at", "updated_at"]
    actions = ["reenable"]

    @admin.action(description="Re-enable selected endpoints (health reset to active)")
    def reenable(self, request, queryset):
        count = queryset.update(
            enabled=True, status=WebhookEndpoint.Status.ACTIVE, consecutive_failures=0, disabled_reason="",
            updated_at=timezone.now(),
        )
        self.message_user(request, f"Re-enabled {count} endpoint(s).")


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "started_at", "duration_ms", "response_status", "response_body", "error"]
    exclude = ["organization"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "url", "status", "attempt_count", "next_attempt_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["id", "event__id", "url"]
    readonly_fields = [field.name for field in Delivery._meta.fields if field.name != "lease_token"]
    exclude = ["lease_token"]
    inlines = [AttemptInline]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Retry selected deliveries (one more attempt, dispatched within seconds)")
    def retry(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for delivery_id in ids:
            delivery_schedule_retry(delivery_id=delivery_id)
        self.message_user(request, f"Scheduled {len(ids)} deliveries for another attempt.", messages.SUCCESS)
