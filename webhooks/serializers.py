from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from events.registry import event_filter_choices
from renderowl.api.serializers import (
    BoundedListField,
    ModelSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictSerializer,
)
from renderowl.network import URL_MESSAGE, InvalidUrl, normalize_url
from webhooks.models import Attempt, Delivery, WebhookEndpoint

# Case-insensitive scheme, spelled so that ECMAScript and Python read it alike (the SDK checks it too).
URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+[^\s]*$"


class WebhookUrlField(StrictCharField):
    """An http(s) receiver URL, returned as it will be dialed (see renderowl.network.normalize_url)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 2048)
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(URL_PATTERN, message=URL_MESSAGE))

    def to_internal_value(self, data):
        try:
            return normalize_url(super().to_internal_value(data))
        except InvalidUrl as exc:
            raise serializers.ValidationError(str(exc)) from None


class WebhookEndpointSerializer(ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=event_filter_choices()))
    project_ids = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id", "url", "description", "events", "project_ids", "enabled", "status",
            "consecutive_failures", "disabled_reason", "created_at", "updated_at",
        ]
        read_only_fields = fields


class EventFilterField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=event_filter_choices(), **kwargs)


class WebhookEndpointCreateSerializer(StrictSerializer):
    url = WebhookUrlField(help_text="http(s) URL of a public address; stored and dialed with the host normalized.")
    description = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    events = BoundedListField(
        child=EventFilterField(), required=False, default=list, max_length=50,
        help_text="Event types or wildcards such as render.*; empty or absent means every event.",
    )
    project_ids = BoundedListField(
        child=StrictCharField(max_length=40), required=False, default=list, max_length=100,
        help_text="Only these projects' events; empty or absent means every project.",
    )
    enabled = StrictBooleanField(required=False, default=True)


class WebhookEndpointUpdateSerializer(StrictSerializer):
    url = WebhookUrlField(required=False)
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    events = BoundedListField(child=EventFilterField(), required=False, max_length=50)
    project_ids = BoundedListField(child=StrictCharField(max_length=40), required=False, max_length=100)
    enabled = StrictBooleanField(required=False, help_text="true re-enables a disabled endpoint.")


class WebhookTestSerializer(StrictSerializer):
    project_id = StrictCharField(
        max_length=40, required=False,
        help_text="The project whose secret signs the test; optional when the endpoint names exactly one.",
    )


class AttemptSerializer(ModelSerializer):
    succeeded = serializers.BooleanField(read_only=True)

    class Meta:
        model = Attempt
        fields = [
            "number", "started_at", "duration_ms", "response_status", "response_body", "error", "succeeded", "manual",
        ]
        read_only_fields = fields


class DeliverySerializer(ModelSerializer):
    event_id = serializers.CharField(source="event.id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    endpoint_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Delivery
        fields = [
            "id", "endpoint_id", "event_id", "event_type", "url", "status", "attempt_count",
            "next_attempt_at", "created_at", "completed_at",
        ]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    attempts = AttemptSerializer(many=True, read_only=True)
    payload = serializers.SerializerMethodField()

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "attempts", "payload"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(help_text="The exact JSON body every attempt sent and signed."))
    def get_payload(self, delivery):
        return delivery.event.body
