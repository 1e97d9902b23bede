from rest_framework import serializers

from projects.models import Project
from projects.services import SLUG_PATTERN
from renderowl.api.serializers import (
    MetadataField,
    ModelSerializer,
    NonBlankCharField,
    StrictCharField,
    StrictRegexField,
    StrictSerializer,
)


class ProjectSerializer(ModelSerializer):
    """A project as the API returns it; never the webhook secret."""

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "description", "metadata", "created_at", "updated_at", "deleted_at"]
        read_only_fields = fields

    metadata = MetadataField(read_only=True)


REPLAY_NOTE = (
    " null in a replay of the request (same Idempotency-Key): the secret is shown once and never kept with the "
    "stored response; if the first response was lost, rotate the secret."
)


class ProjectWithSecretSerializer(ProjectSerializer):
    """The create response: the only time the webhook secret is shown."""

    webhook_secret = serializers.CharField(
        read_only=True, allow_null=True, help_text="64 hex characters: the HMAC key's 32 bytes;" + REPLAY_NOTE
    )

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "webhook_secret"]
        read_only_fields = fields


class WebhookSecretSerializer(serializers.Serializer):
    """A newly issued webhook secret, shown only in this response."""

    webhook_secret = serializers.CharField(
        allow_null=True, help_text="64 hex characters: the HMAC key's 32 bytes;" + REPLAY_NOTE
    )
    previous_secret_expires_at = serializers.DateTimeField(
        help_text="Until then deliveries also carry a signature made with the previous secret."
    )


class ProjectCreateSerializer(StrictSerializer):
    name = NonBlankCharField(max_length=200)
    slug = StrictRegexField(
        SLUG_PATTERN,
        required=False,
        max_length=63,
        error_messages={"invalid": "Use 1-63 lowercase letters, digits and inner hyphens, like 'my-project'."},
    )
    description = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    metadata = MetadataField(required=False, default=dict)


class ProjectUpdateSerializer(StrictSerializer):
    name = NonBlankCharField(max_length=200, required=False)
    slug = StrictCharField(max_length=63, required=False, help_text="Immutable: only the current slug is accepted.")
    description = StrictCharField(max_length=2000, required=False, allow_blank=True)
    metadata = MetadataField(required=False)
