from rest_framework import serializers

from renderowl.api.serializers import BlankAsNullCharField, ModelSerializer
from renders.models import RenderJob
from renders.schema import InputPropsField, OutputField, OutputRequestField


class RenderErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable code, e.g. render_failed, render_timeout, output_mismatch.")
    message = serializers.CharField(help_text="What went wrong and how to fix it.")


class RenderJobSerializer(ModelSerializer):
    """A render job as its events carry it: never a signed URL (events are stored and may be read late)."""

    project_id = serializers.CharField(read_only=True)
    error = RenderErrorSerializer(read_only=True, allow_null=True)
    input_props = InputPropsField(read_only=True)
    output = OutputField(read_only=True, help_text="The resolved output: format, width, height, fps, …")
    metadata = serializers.JSONField(read_only=True)
    webhook_url = BlankAsNullCharField(read_only=True, allow_null=True)
    output_size = serializers.IntegerField(read_only=True, allow_null=True)
    output_duration_ms = serializers.IntegerField(read_only=True, allow_null=True)
    output_deleted_at = serializers.DateTimeField(
        read_only=True, allow_null=True,
        help_text="When the output was deleted, RENDER_OUTPUT_RETENTION_DAYS (30 by default) after completion; "
        "outputUrl is null from then on.",
    )
    automation_id = BlankAsNullCharField(read_only=True, allow_null=True, help_text="The automation that fired it.")
    automation_run_id = BlankAsNullCharField(read_only=True, allow_null=True, help_text="Its AutomationRun.")

    class Meta:
        model = RenderJob
        fields = [
            "id", "project_id", "template_id", "status", "stage", "priority", "engine", "livemode", "input_props",
            "output", "progress", "error", "output_size", "output_duration_ms", "output_deleted_at", "webhook_url",
            "metadata", "automation_id", "automation_run_id", "attempts", "created_at", "queued_at", "started_at",
            "completed_at", "updated_at",
        ]
        read_only_fields = fields


class RenderJobWithOutputSerializer(RenderJobSerializer):
    """A render job as the API returns it: `outputUrl` is signed afresh on each read once completed."""

    output_url = serializers.CharField(
        allow_null=True, read_only=True, help_text="Signed download URL once completed, until the output is deleted.",
    )
    output_url_expires_at = serializers.DateTimeField(allow_null=True, read_only=True)

    class Meta(RenderJobSerializer.Meta):
        fields = [*RenderJobSerializer.Meta.fields, "output_url", "output_url_expires_at"]
        read_only_fields = fields


class RenderCreateSerializer(serializers.Serializer):
    """A render submission: only its shape here; `render_input_resolve` judges the content."""

    template_id = serializers.CharField(max_length=40)
    input_props = InputPropsField(required=False, default=dict)
    output = OutputRequestField(required=False, default=None, allow_null=True)
    priority = serializers.ChoiceField(choices=RenderJob.Priority.choices, default=RenderJob.Priority.NORMAL)
    webhook_url = serializers.CharField(required=False, allow_blank=True, max_length=2048, default="")
    metadata = serializers.DictField(required=False, default=dict)
