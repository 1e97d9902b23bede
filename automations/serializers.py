from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from automations.models import Automation, AutomationRun
from automations.services import hook_url, next_run_at
from renderowl.api.serializers import MetadataField, NonBlankCharField, StrictBooleanField, StrictSerializer
from renders.schema import OutputField, OutputRequestField

TRIGGER_SCHEMA = {
    "type": "object",
    "required": ["type"],
    "description": 'One of {"type": "webhook", "secret"?}, {"type": "schedule", "cron", "timezone"?} and '
    '{"type": "asset_upload", "assetTypes"?, "tags"?}. A webhook trigger\'s secret is write-only: it reads back '
    'as "signed": true.',
    "properties": {
        "type": {"type": "string", "enum": Automation.TriggerType.values},
        "secret": {"type": "string", "minLength": 16, "maxLength": 256, "writeOnly": True},
        "signed": {"type": "boolean", "readOnly": True},
        "cron": {"type": "string", "examples": ["0 9 * * 1-5"]},
        "timezone": {"type": "string", "examples": ["Europe/Berlin"], "default": "UTC"},
        "assetTypes": {"type": "array", "items": {"type": "string", "enum": ["video", "image", "audio", "font", "template"]}},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
    },
}
MAPPING_SCHEMA = {
    "type": "object",
    "description": "Per template prop: {value} (static) or {path, transform?, format?, timezone?, default?}.",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "value": {},
            "path": {"type": "string", "maxLength": 500, "examples": ["$.data.object.id"]},
            "transform": {"type": "string", "enum": ["uppercase", "lowercase", "trim", "number", "formatDate"]},
            "format": {"type": "string", "examples": ["%d %B %Y"]},
            "timezone": {"type": "string"},
            "default": {},
        },
    },
}


@extend_schema_field(TRIGGER_SCHEMA)
class TriggerField(serializers.JSONField):
    """The trigger object: its shape is judged by automations.services (400 invalid_trigger naming the field)."""


@extend_schema_field(MAPPING_SCHEMA)
class DataMappingField(serializers.JSONField):
    """The data mapping: judged against the template by automations.mapping (422 invalid_data_mapping)."""


class AutomationRunErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="mapping_failed, a render's validation code, render_failed, render_cancelled…")
    message = serializers.CharField()


class AutomationSerializer(serializers.ModelSerializer):
    project_id = serializers.CharField(read_only=True)
    trigger = TriggerField(read_only=True)
    data_mapping = DataMappingField(read_only=True)
    output = OutputRequestField(read_only=True, allow_null=True)
    metadata = serializers.JSONField(read_only=True)
    hook_url = serializers.SerializerMethodField(help_text="Webhook triggers: the URL to POST JSON to (secret).")
    next_run_at = serializers.SerializerMethodField(help_text="Schedule triggers: the next tick while enabled.")

    class Meta:
        model = Automation
        fields = [
            "id", "project_id", "name", "template_id", "enabled", "trigger", "hook_url", "next_run_at", "data_mapping",
            "output", "priority", "metadata", "last_run_at", "created_at", "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_hook_url(self, automation):
        return hook_url(automation)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_run_at(self, automation):
        upcoming = next_run_at(automation, now=timezone.now())
        return None if upcoming is None else upcoming.isoformat().replace("+00:00", "Z")


class AutomationCreateSerializer(StrictSerializer):
    """An automation as submitted: only its shape here; the services judge trigger, template and mapping."""

    name = NonBlankCharField(max_length=200)
    template_id = serializers.CharField(max_length=40)
    enabled = StrictBooleanField(required=False, default=True)
    trigger = TriggerField()
    data_mapping = DataMappingField(required=False, default=dict)
    output = OutputRequestField(required=False, default=None, allow_null=True)
    priority = serializers.ChoiceField(choices=Automation.Priority.choices, default=Automation.Priority.NORMAL)
    metadata = MetadataField(required=False, default=dict)


class AutomationUpdateSerializer(AutomationCreateSerializer):
    """A partial update: any field of a creation."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class AutomationRunSerializer(serializers.ModelSerializer):
    automation_id = serializers.CharField(read_only=True)
    payload = serializers.JSONField(read_only=True, allow_null=True)
    input = serializers.JSONField(read_only=True, allow_null=True)
    render_id = serializers.CharField(read_only=True, allow_null=True)
    error = AutomationRunErrorSerializer(read_only=True, allow_null=True)

    class Meta:
        model = AutomationRun
        fields = [
            "id", "automation_id", "trigger", "status", "payload", "input", "render_id", "error", "created_at",
            "finished_at", "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["render_id"] = instance.render_id or None
        return data


class AutomationTriggerSerializer(StrictSerializer):
    payload = serializers.JSONField(required=False, default=dict, help_text="What the mapping's JSONPaths read.")
    dry_run = StrictBooleanField(required=False, default=False)


class AutomationDryRunSerializer(serializers.Serializer):
    input = serializers.JSONField(help_text="The props the mapping made of the payload, validated as a render's.")
    output = OutputField(help_text="The resolved output spec.")


class HookAcceptedSerializer(serializers.Serializer):
    run_id = serializers.CharField()
    status = serializers.ChoiceField(choices=AutomationRun.Status.choices)
