from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assets.models import Asset
from renderowl.api.serializers import (
    BoundedListField,
    ModelSerializer,
    NonBlankCharField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)

MAX_TAGS = 20
MAX_TAG_LENGTH = 50


class AssetErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable code, e.g. not_a_video, truncated_media, invalid_template.")
    message = serializers.CharField(help_text="What is wrong with the file and how to fix it.")


class AssetSerializer(ModelSerializer):
    """An asset as the API returns it (and as its events carry it)."""

    project_id = serializers.CharField(read_only=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    error = AssetErrorSerializer(read_only=True, allow_null=True)
    metadata = serializers.SerializerMethodField()

    class Meta:
        model = Asset
        fields = [
            "id", "project_id", "type", "name", "description", "tags", "status", "content_type", "size", "checksum",
            "metadata", "error", "orphaned_at", "created_at", "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": True,
            "description": "Extracted once the asset is ready; the fields depend on the type (see API_CONTRACT.md).",
        }
    )
    def get_metadata(self, asset):
        return asset.metadata


class AssetWithDownloadSerializer(AssetSerializer):
    download_url = serializers.CharField(allow_null=True, help_text="Signed URL (with ?include=downloadUrl).")
    download_url_expires_at = serializers.DateTimeField(allow_null=True)

    class Meta(AssetSerializer.Meta):
        fields = [*AssetSerializer.Meta.fields, "download_url", "download_url_expires_at"]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    url = serializers.CharField()
    method = serializers.CharField()
    headers = serializers.DictField(child=serializers.CharField(), help_text="Send exactly these headers.")
    expires_at = serializers.DateTimeField()


class AssetUploadResponseSerializer(serializers.Serializer):
    asset = AssetSerializer()
    upload = UploadSerializer()


class TagsField(BoundedListField):
    """Up to 20 labels of up to 50 characters; duplicates are dropped, order kept."""

    def __init__(self, **kwargs):
        super().__init__(child=NonBlankCharField(max_length=MAX_TAG_LENGTH), max_length=MAX_TAGS, **kwargs)

    def to_internal_value(self, data):
        return list(dict.fromkeys(super().to_internal_value(data)))


class AssetCreateSerializer(StrictSerializer):
    type = serializers.ChoiceField(choices=Asset.Type.choices)
    name = NonBlankCharField(max_length=255)
    content_type = serializers.ChoiceField(
        choices=sorted({content_type for allowed in settings.ASSET_CONTENT_TYPES.values() for content_type in allowed}),
        help_text="One of the content types allowed for `type` (see API_CONTRACT.md); others are a 400.",
    )
    size = StrictIntegerField(min_value=1, max_value=max(settings.ASSET_MAX_SIZES.values()), help_text="Bytes; the upload must match it exactly.")
    description = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    tags = TagsField(required=False, default=list)


class AssetUpdateSerializer(StrictSerializer):
    name = NonBlankCharField(max_length=255, required=False)
    description = StrictCharField(max_length=2000, required=False, allow_blank=True)
    tags = TagsField(required=False)
