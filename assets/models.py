from django.db import models
from django.db.models import Q

from renderowl.ids import IdFactory
from renderowl.models import TenantModel


class Asset(TenantModel):
    """A file a customer uploads straight to storage; a worker then checks it and extracts metadata."""

    class Type(models.TextChoices):
        VIDEO = "video"
        IMAGE = "image"
        AUDIO = "audio"
        FONT = "font"
        TEMPLATE = "template"

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        READY = "ready"
        FAILED = "failed"

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("ast"), editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=16, choices=Type.choices)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    content_type = models.CharField(max_length=127)
    size = models.BigIntegerField(help_text="Declared at creation; the stored object must match it.")
    storage_key = models.CharField(max_length=512, unique=True, editable=False)
    checksum = models.CharField(max_length=71, blank=True, default="", help_text="sha256:<hex> of the bytes.")
    metadata = models.JSONField(default=dict, blank=True)
    error = models.JSONField(null=True, blank=True, help_text="{code, message} when processing failed.")
    processing_attempts = models.PositiveSmallIntegerField(default=0)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    upload_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the newest upload URL expires; the expiry sweep counts from it."
    )
    orphaned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "assets"
        indexes = [
            models.Index(fields=["organization", "project", "created_at", "id"], name="asset_project_created"),
            models.Index(fields=["organization", "project", "name", "id"], name="asset_project_name"),
            models.Index(fields=["processing_started_at"], condition=Q(status="processing"), name="asset_processing"),
            models.Index(fields=["upload_expires_at"], condition=Q(status="pending"), name="asset_pending_upload"),
        ]

    def __str__(self):
        return f"{self.name} ({self.id})"


class ObjectDeletion(TenantModel):
    """A stored object to remove, written in the transaction that lets go of it and kept until the store confirms.

    The store is another system: a failure there must not undo (or fail) the change that let go of
    the object, so the deletion is recorded here and retried by beat until it succeeds.
    """

    class Reason(models.TextChoices):
        DELETED = "deleted"  # DELETE /v1/assets/{id}
        EXPIRED = "expired"  # the pending asset's upload never came
        PURGED = "purged"  # purgedeleted
        LATE_UPLOAD = "late_upload"  # stored after the asset stopped accepting it
        RETENTION = "retention"  # a render's output, RENDER_OUTPUT_RETENTION_DAYS after it completed

    storage_key = models.CharField(max_length=512)
    asset_id = models.CharField(
        max_length=40, help_text="The asset (or render job, rnd_…) the object belonged to (the row may be gone).",
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(help_text="When the sweep next queues it if it is still here.")
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "asset_object_deletions"
        indexes = [models.Index(fields=["next_attempt_at"], name="object_deletion_due")]

    def __str__(self):
        return f"{self.storage_key} ({self.reason})"
