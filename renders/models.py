from django.db import models
from django.db.models import Q

from renderowl.ids import IdFactory
from renderowl.models import TenantModel


class RenderJob(TenantModel):
    """One render of a template with its props: queued, picked up by a renderer, and its output stored."""

    class Status(models.TextChoices):
        PENDING = "pending"
        QUEUED = "queued"
        RENDERING = "rendering"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Priority(models.TextChoices):
        LOW = "low"
        NORMAL = "normal"
        HIGH = "high"

    # A job in these states still needs its template and input assets (an asset in use is not deletable).
    ACTIVE = (Status.PENDING, Status.QUEUED, Status.RENDERING)
    CANCELLABLE = (Status.PENDING, Status.QUEUED)

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("rnd"), editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    template_id = models.CharField(max_length=40, help_text="The template asset (no FK: the asset may go once done).")
    asset_ids = models.JSONField(default=list, blank=True, help_text="The assets the props name, for asset_in_use.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stage = models.CharField(max_length=32, blank=True, default="")
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    input_props = models.JSONField(default=dict, blank=True, help_text="The merged, validated props.")
    render_input = models.JSONField(default=dict, help_text="The resolved RenderInput the engine renders (internal).")
    output = models.JSONField(default=dict, help_text="The resolved output spec: format, width, height, fps, …")
    progress = models.FloatField(default=0.0)
    engine = models.CharField(max_length=16)
    livemode = models.BooleanField(default=True)
    error = models.JSONField(null=True, blank=True, help_text="{code, message} when the job failed.")
    output_key = models.CharField(max_length=512, blank=True, default="")
    output_deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the output was deleted, RENDER_OUTPUT_RETENTION_DAYS after completion.",
    )
    output_size = models.BigIntegerField(null=True, blank=True)
    output_duration_ms = models.BigIntegerField(null=True, blank=True)
    webhook_url = models.URLField(max_length=2048, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # Set when an automation's firing created the job (no FK: automations sit above renders).
    automation_id = models.CharField(max_length=40, blank=True, default="")
    automation_run_id = models.CharField(max_length=40, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    attempts_before_retry = models.PositiveSmallIntegerField(
        default=0, help_text="Attempts made before an operator last retried the job; RENDER_MAX_ATTEMPTS counts after.",
    )
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="While rendering: when a renderer that stopped reporting is presumed gone."
    )
    # Remote engines (remotion): the renderer's job id for the current attempt, and what its signed callbacks
    # reported, {attempt, status, progress, errors, at} (renders.callbacks); the waiting worker reads both.
    remote_job_id = models.CharField(max_length=200, blank=True, default="")
    remote_report = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "render_jobs"
        indexes = [
            models.Index(fields=["organization", "project", "created_at", "id"], name="render_project_created"),
            models.Index(fields=["organization", "template_id"], condition=Q(status__in=["pending", "queued", "rendering"]),
                         name="render_active_template"),
            models.Index(fields=["lease_expires_at"], condition=Q(status="rendering"), name="render_lease"),
            # The scheduler (renders.scheduling): the waiting jobs, and when each organization last started one.
            models.Index(fields=["organization", "queued_at"], condition=Q(status="queued"), name="render_waiting"),
            models.Index(fields=["organization", "started_at"], name="render_org_started"),
            models.Index(fields=["completed_at"], condition=Q(status="completed", output_deleted_at__isnull=True),
                         name="render_output_kept"),
        ]

    @property
    def attempts_since_retry(self):
        """The attempts RENDER_MAX_ATTEMPTS limits: those made since an operator last retried the job."""
        return self.attempts - self.attempts_before_retry

    def __str__(self):
        return f"{self.id} ({self.status})"
