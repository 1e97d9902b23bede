from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from assets.extractors import TEMPLATE_META_SCHEMA
from assets.models import Asset
from assets.serializers import (
    AssetCreateSerializer,
    AssetSerializer,
    AssetUpdateSerializer,
    AssetUploadResponseSerializer,
    AssetWithDownloadSerializer,
    UploadSerializer,
)
from assets.services import (
    asset_create,
    asset_delete,
    asset_download,
    asset_update,
    asset_upload_complete,
    asset_upload_url,
)
from projects.services import projects_live
from renderowl.api.viewsets import ListModelMixin, RetrieveModelMixin, TenantViewSet
from renderowl.errors import Invalid
from renderowl.text import storable_text


def live_project(request, project_id):
    return get_object_or_404(projects_live(organization_id=request.user.organization_id), pk=project_id)


class ProjectAssetViewSet(ListModelMixin, TenantViewSet):
    """A project's assets: upload new ones, list them."""

    queryset = Asset.objects.all()
    serializer_class = AssetSerializer
    sort_fields = {"createdAt": "created_at", "name": "name"}
    list_filter_params = ("type", "status", "tag")

    def scope_queryset(self, queryset):
        queryset = queryset.filter(project=live_project(self.request, self.kwargs["project_id"]))
        params = self.request.query_params
        for name, choices in (("type", Asset.Type.values), ("status", Asset.Status.values)):
            value = params.get(name)
            if value is not None:
                if value not in choices:
                    raise Invalid(f"{name} must be one of {', '.join(choices)}.", code="invalid_filter", field=name)
                queryset = queryset.filter(**{name: value})
        if "tag" in params:
            if not storable_text(params["tag"]):
                raise Invalid("tag must not contain U+0000.", code="invalid_filter", field="tag")
            queryset = queryset.filter(tags__contains=[params["tag"]])
        return queryset

    @extend_schema(
        summary="List a project's assets",
        parameters=[
            OpenApiParameter("type", str, enum=Asset.Type.values),
            OpenApiParameter("status", str, enum=Asset.Status.values),
            OpenApiParameter("tag", str, description="Only assets carrying this tag."),
        ],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Create an asset and get its upload URL",
        request=AssetCreateSerializer,
        responses={201: AssetUploadResponseSerializer},
        description="PUT the bytes to `upload.url` with exactly `upload.headers` within 15 minutes, "
        "then POST /v1/assets/{id}/upload-complete.",
    )
    def create(self, request, project_id=None):
        params = self.validated_body(AssetCreateSerializer)
        asset, upload = asset_create(organization=self.organization, project_id=project_id, **params)
        body = {"asset": AssetSerializer(asset).data, "upload": UploadSerializer(upload).data}
        return Response(body, status=status.HTTP_201_CREATED)

    def created_location(self, data):
        return reverse("asset-detail", kwargs={"pk": data["asset"]["id"]})


class AssetViewSet(RetrieveModelMixin, TenantViewSet):
    """One asset: read it (with a download URL on request), change its labels, delete it."""

    queryset = Asset.objects.all()
    serializer_class = AssetSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scope_queryset(self, queryset):
        return queryset.filter(project__deleted_at__isnull=True).select_related("project")

    @extend_schema(
        summary="Get an asset",
        parameters=[OpenApiParameter("include", str, enum=["downloadUrl"], description="Add a signed download URL.")],
        responses={200: AssetWithDownloadSerializer},
    )
    def retrieve(self, request, *args, **kwargs):
        asset = self.get_object()
        include = request.query_params.get("include")
        if include not in (None, "downloadUrl"):
            raise Invalid("include accepts only downloadUrl.", code="invalid_include", field="include")
        asset.download_url = asset.download_url_expires_at = None
        if include == "downloadUrl":
            if asset.status == Asset.Status.PENDING:
                raise Invalid(
                    "The asset has no confirmed upload yet: POST upload-complete first.",
                    code="upload_missing",
                    field="include",
                )
            download = asset_download(asset=asset)
            asset.download_url, asset.download_url_expires_at = download.url, download.expires_at
        return Response(AssetWithDownloadSerializer(asset).data)

    @extend_schema(summary="Update an asset's name, description or tags", request=AssetUpdateSerializer,
                   responses={200: AssetSerializer})
    def partial_update(self, request, pk=None):
        asset = self.get_object()
        params = self.validated_body(AssetUpdateSerializer)
        return Response(AssetSerializer(asset_update(asset=asset, changes=params)).data)

    @extend_schema(
        summary="Delete an asset and its stored file",
        responses={204: None},
        description="The row goes at once; the stored file is deleted after the commit, and retried until the "
        "store confirms. The asset's upload URLs stop working (with the S3 backend, see API_CONTRACT.md).",
    )
    def destroy(self, request, pk=None):
        asset_delete(asset=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Confirm the upload and start processing",
        request=None,
        responses={200: AssetSerializer},
        description="Checks the stored file matches the declared size and content type, then queues "
        "metadata extraction. Repeating it once processing has started changes nothing.",
    )
    @action(detail=True, methods=["post"], url_path="upload-complete")
    def upload_complete(self, request, pk=None):
        return Response(AssetSerializer(asset_upload_complete(asset=self.get_object())).data)

    @extend_schema(
        summary="Get a fresh upload URL for a pending asset",
        request=None,
        responses={200: AssetUploadResponseSerializer},
        description="For a pending asset whose file is not stored yet: a new presigned PUT, valid 15 minutes. "
        "Earlier URLs stay valid until they expire. 409 asset_not_pending once the asset is processing, "
        "ready or failed; 409 already_uploaded when a file is stored (POST upload-complete instead).",
    )
    @action(detail=True, methods=["post"], url_path="upload-url")
    def upload_url(self, request, pk=None):
        asset, upload = asset_upload_url(asset=self.get_object())
        return Response({"asset": AssetSerializer(asset).data, "upload": UploadSerializer(upload).data})


def template_schema(request):
    """The meta-schema every template asset is validated against (JSON Schema 2020-12)."""
    return JsonResponse(TEMPLATE_META_SCHEMA, json_dumps_params={"indent": 2})
