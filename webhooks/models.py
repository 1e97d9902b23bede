from django.db import models
from django.db.models import Q
from django.utils import timezone

from renderowl.ids import IdFactory
from renderowl.models import TenantModel
from webhooks.event_types import EVENT_TYPE_CHOICES


class Event(models.Model):
    """The outbox: written in the same transaction as the state change it records, published after commit.

    `body` holds the exact JSON bytes every delivery sends and signs, so retries send the same payload.
    """

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("evt"), editable=False)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64, choices=EVENT_TYPE_CHOICES)
    body = models.TextField()
    target_urls = models.JSONField(default=list, blank=True, help_text="Ad-hoc receivers besides endpoints.")
    only_endpoint = models.ForeignKey(
        "WebhookEndpoint", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Set for webhook.test events: delivered to this endpoint alone.",
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="The envelope's createdAt, to the microsecond.")
    published_at = models.DateTimeField(null=True, blank=True, help_text="When fan-out created its deliveries.")
    publish_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times the sweep republished it; it stops after SWEEP_MAX_PUBLISH_ATTEMPTS."
    )

    class Meta:
        db_table = "webhook_events"
        indexes = [
            models.Index(fields=["created_at"], condition=Q(published_at__isnull=True), name="event_unpublished"),
            models.Index(fields=["organization", "created_at", "id"], name="event_org_created"),
        ]

    def __str__(self):
        return f"{self.type} {self.id}"


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
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
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
        return self.response_status is not None and 200 <= self.response_status < 300
