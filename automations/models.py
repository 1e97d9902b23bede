from django.db import models
from django.db.models import Q

from renderowl.ids import IdFactory
from renderowl.models import TenantModel


class Automation(TenantModel):
    """Renders a template without code: a trigger fires it, a data mapping turns the trigger's payload into props."""

    class TriggerType(models.TextChoices):
        WEBHOOK = "webhook"
        SCHEDULE = "schedule"
        ASSET_UPLOAD = "asset_upload"

    class Priority(models.TextChoices):
        LOW = "low"
        NORMAL = "normal"
        HIGH = "high"

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("aut"), editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    template_id = models.CharField(max_length=40, help_text="The template asset (no FK, like a render's).")
    enabled = models.BooleanField(default=True)
    trigger_type = models.CharField(max_length=16, choices=TriggerType.choices)
    trigger = models.JSONField(default=dict, help_text="The trigger as the API shows it (never the hook's secret).")
    hook_token = models.CharField(max_length=64, blank=True, default="", help_text="Webhook triggers: in hookUrl.")
    hook_secret = models.CharField(
        max_length=256, blank=True, default="", help_text="Webhook triggers: the HMAC key a signed hook needs."
    )
    data_mapping = models.JSONField(default=dict, blank=True)
    output = models.JSONField(null=True, blank=True, help_text="The renders' output spec; the template's when empty.")
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    metadata = models.JSONField(default=dict, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "automations"
        indexes = [
            models.Index(fields=["organization", "project", "created_at", "id"], name="automation_project_created"),
            models.Index(fields=["organization", "project", "trigger_type"], condition=Q(enabled=True),
                         name="automation_enabled_trigger"),
            models.Index(fields=["organization", "template_id"], condition=Q(enabled=True),
                         name="automation_enabled_template"),
        ]

    def __str__(self):
        return f"{self.name} ({self.id})"


class AutomationRun(TenantModel):
    """One firing of an automation: its payload, the props mapped from it, and the render it made (or why not)."""

    class Trigger(models.TextChoices):
        WEBHOOK = "webhook"
        SCHEDULE = "schedule"
        ASSET_UPLOAD = "asset_upload"
        MANUAL = "manual"

    class Status(models.TextChoices):
        PENDING = "pending"
        RENDERING = "rendering"
        COMPLETED = "completed"
        FAILED = "failed"
        SKIPPED = "skipped"

    FINISHED = (Status.COMPLETED, Status.FAILED, Status.SKIPPED)

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("arn"), editable=False)
    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    payload = models.JSONField(null=True, blank=True)
    input = models.JSONField(null=True, blank=True, help_text="The props the mapping made of the payload.")
    render_id = models.CharField(max_length=40, blank=True, default="")
    error = models.JSONField(null=True, blank=True, help_text="{code, message} when the run failed or was skipped.")
    dedupe_key = models.CharField(
        max_length=300, blank=True, default="",
        help_text="One run per trigger event: the hook's Idempotency-Key, the schedule's tick, the asset event.",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "automation_runs"
        constraints = [
            models.UniqueConstraint(fields=["automation", "dedupe_key"], condition=~Q(dedupe_key=""),
                                    name="automation_run_once_per_trigger_event"),
        ]
        indexes = [
            models.Index(fields=["organization", "automation", "created_at", "id"], name="automation_run_created"),
            models.Index(fields=["organization", "render_id"], condition=~Q(render_id=""), name="automation_run_render"),
        ]

    def __str__(self):
        return f"{self.id} ({self.status})"
