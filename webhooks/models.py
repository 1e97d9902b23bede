from django.db import models
from django.db.models import Q

from renderowl.ids import IdFactory
from renderowl.models import TenantModel


class WebhookEndpoint(TenantModel):
    """A customer's receiver, registered per organization, optionally narrowed to events and projects."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        FAILING = "failing"
        DISABLED = "disabled"

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("whe"), editable=False)
    url = models.URLField(max_length=2048)
    description = models.CharField(max_length=500, blank=True, default="")
    events = models.JSONField(default=list, blank=True, help_text="Event types or wildcards; empty means all.")
    project_ids = models.JSONField(default=list, blank=True, help_text="Projects to receive; empty means all.")
    enabled = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Deliveries in a row that exhausted their retries."
    )
    disabled_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        db_table = "webhook_endpoints"
        indexes = [models.Index(fields=["organization", "created_at", "id"], name="endpoint_org_created")]

    def __str__(self):
        return f"{self.url} ({self.id})"


class Delivery(models.Model):
    """One event to one receiver, with its retry schedule held in the database (`next_attempt_at`)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("whd"), editable=False)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    url = models.URLField(max_length=2048)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=6, help_text="The first attempt and five retries.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True, default="")
    leased_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    manual_queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a user's test or retry queued an attempt that has not finished yet."
    )

    class Meta:
        db_table = "webhook_deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], condition=Q(endpoint__isnull=False), name="delivery_once_per_endpoint"
            ),
            models.UniqueConstraint(
                fields=["event", "url"], condition=Q(endpoint__isnull=True), name="delivery_once_per_target_url"
            ),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_due"),
            models.Index(fields=["endpoint", "created_at", "id"], name="delivery_endpoint_created"),
            models.Index(
                fields=["organization", "manual_queued_at"], condition=Q(manual_queued_at__isnull=False),
                name="delivery_manual_in_flight",
            ),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"{self.id} → {self.url}"


class Attempt(models.Model):
    """One HTTP try of a delivery, kept for the delivery log."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="", help_text="The first 1 KiB of the response.")
    error = models.CharField(max_length=500, blank=True, default="")
    manual = models.BooleanField(default=False, help_text="Asked for by a user; does not count for endpoint health.")

    class Meta:
        db_table = "webhook_attempts"
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_per_delivery")]

    @property
    def succeeded(self):
        return self.response_status is not None and 200 <= self.response_status < 300 and not self.error
