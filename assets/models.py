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
    orphaned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "assets"
        indexes = [
            models.Index(fields=["organization", "project", "created_at", "id"], name="asset_project_created"),
            models.Index(fields=["organization", "project", "name", "id"], name="asset_project_name"),
            models.Index(fields=["processing_started_at"], condition=Q(status="processing"), name="asset_processing"),
        ]

    def __str__(self):
        return f"{self.name} ({self.id})"
