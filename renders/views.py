from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from projects.services import projects_live
from renderowl.api.viewsets import TenantViewSet
from renderowl.errors import Invalid
from renders.models import RenderJob
from renders.serializers import RenderCreateSerializer, RenderJobSerializer, RenderJobWithOutputSerializer
from renders.services import render_cancel, render_create, render_output_download


def with_output_url(job):
    """The job as the API shows it: with a freshly signed outputUrl once completed."""
    download = render_output_download(job=job)
    job.output_url = download.url if download else None
    job.output_url_expires_at = download.expires_at if download else None
    return RenderJobWithOutputSerializer(job).data


class ProjectRenderViewSet(mixins.ListModelMixin, TenantViewSet):
    """A project's renders: submit one, list them."""

    queryset = RenderJob.objects.all()
    serializer_class = RenderJobSerializer
    list_filter_params = ("status", "templateId")

    def scope_queryset(self, queryset):
        project = get_object_or_404(
            projects_live(organization_id=self.request.user.organization_id), pk=self.kwargs["project_id"]
        )
        queryset = queryset.filter(project=project)
        params = self.request.query_params
        if "status" in params:
            if params["status"] not in RenderJob.Status.values:
                raise Invalid(
                    f"status must be one of {', '.join(RenderJob.Status.values)}.", code="invalid_filter", field="status"
                )
            queryset = queryset.filter(status=params["status"])
        if "templateId" in params:
            queryset = queryset.filter(template_id=params["templateId"])
        return queryset

    @extend_schema(
        summary="List a project's renders",
        parameters=[
            OpenApiParameter("status", str, enum=RenderJob.Status.values),
            OpenApiParameter("templateId", str, description="Only renders of this template asset."),
        ],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Submit a render",
        request=RenderCreateSerializer,
        parameters=[OpenApiParameter("dryRun", bool, description="Validate and resolve only: nothing is stored.")],
        responses={201: RenderJobSerializer, 200: RenderJobSerializer},
        description="Validates the template, inputProps and output completely, stores the job queued and queues "
        "it by priority. With ?dryRun=true the answer is the resolved job (200, no id is kept), and nothing is "
        "stored, queued or emitted.",
    )
    def create(self, request, project_id=None):
        dry_run = request.query_params.get("dryRun", "false")
        if dry_run not in ("true", "false"):
            raise Invalid("dryRun must be true or false.", code="invalid_parameter", field="dryRun")
        params = self.validated_body(RenderCreateSerializer)
        job = render_create(
            organization=self.organization, project_id=project_id, livemode=request.auth.mode == "live",
            dry_run=dry_run == "true", **params,
        )
        if dry_run == "true":
            return Response(RenderJobSerializer(job).data, status=status.HTTP_200_OK)
        return Response(RenderJobSerializer(job).data, status=status.HTTP_201_CREATED)

    def created_location(self, data):
        return reverse("render-detail", kwargs={"pk": data["id"]})


class RenderViewSet(mixins.RetrieveModelMixin, TenantViewSet):
    """One render: read it (with a signed outputUrl once completed), cancel it."""

    queryset = RenderJob.objects.all()
    serializer_class = RenderJobWithOutputSerializer
    http_method_names = ["get", "delete", "head", "options"]

    def scope_queryset(self, queryset):
        return queryset.filter(project__deleted_at__isnull=True)

    @extend_schema(summary="Get a render", responses={200: RenderJobWithOutputSerializer})
    def retrieve(self, request, *args, **kwargs):
        return Response(with_output_url(self.get_object()))

    @extend_schema(
        summary="Cancel a render",
        responses={200: RenderJobWithOutputSerializer},
        description="Only a pending or queued render can be cancelled; otherwise 409 render_not_cancellable.",
    )
    def destroy(self, request, pk=None):
        job = get_object_or_404(self.get_queryset().select_for_update(of=("self",)), pk=pk)
        return Response(with_output_url(render_cancel(job=job)))
