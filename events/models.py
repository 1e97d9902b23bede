from django.db import models
from django.db.models import Q
from django.utils import timezone

from renderowl.ids import IdFactory


class Event(models.Model):
    """The outbox: written in the same transaction as the state change it records, dispatched after commit.

    `body` holds the exact JSON bytes every delivery sends and signs, so retries send the same payload.
    The organization and project are plain ids: events sit below every domain app and import none.
    """

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("evt"), editable=False)
    organization_id = models.UUIDField()
    project_id = models.CharField(max_length=40)
    type = models.CharField(max_length=64, help_text="A type of events.registry (no choices: apps add types).")
    body = models.TextField()
    target_urls = models.JSONField(default=list, blank=True, help_text="Ad-hoc receivers besides endpoints.")
    created_at = models.DateTimeField(default=timezone.now, help_text="The envelope's createdAt, to the microsecond.")
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="When subscribers took it (webhook fan-out created its deliveries)."
    )
    publish_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times the sweep republished it; it gives up after EVENTS_MAX_REPUBLISH_ATTEMPTS."
    )
    next_publish_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the sweep may republish it if it is still not dispatched; empty once dispatched or given up.",
    )

    class Meta:
        db_table = "events"
        indexes = [
            models.Index(fields=["next_publish_at"], condition=Q(published_at__isnull=True), name="event_republish_due"),
            models.Index(fields=["organization_id", "created_at", "id"], name="event_org_created"),
        ]

    def __str__(self):
        return f"{self.type} {self.id}"
