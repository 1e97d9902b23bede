from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.services import projects_live
from renderowl.api.errors import PROBLEM_CONTENT_TYPE, ApiError
from renderowl.api.renderers import CamelCaseRow, ProblemJSONContentNegotiation
from renderowl.api.schema import ProblemSerializer
from renderowl.api.throttling import AddressRateThrottle
from renderowl.api.viewsets import ListModelMixin, RetrieveModelMixin, TenantViewSet
from renderowl.errors import Invalid
from renders.callbacks import MAX_CALLBACK_BYTES, callback_signature_valid, render_remote_callback
from renders.models import RenderJob
from renders.serializers import RenderCreateSerializer, RenderJobSerializer, RenderJobWithOutputSerializer
from renders.services import render_cancel, render_create, render_output_download, render_output_download_of
from renders.streaming import EVENT_STREAM, last_event_id, render_event_stream


def with_output_url(job):
    """The job as the API shows it: with a freshly signed outputUrl once completed."""
    download = render_output_download(job=job)
    job.output_url = download.url if download else None
    job.output_url_expires_at = download.expires_at if download else None
    return RenderJobWithOutputSerializer(job).data


# What a poll reads: the columns of the job's representation, and those its outputUrl is signed from.
POLL_COLUMNS = tuple(dict.fromkeys([*(RenderJobSerializer.row_columns() or ()), "id", "status", "output_key", "output"]))
_EXPIRES_AT = RenderJobWithOutputSerializer().fields["output_url_expires_at"]


def row_with_output_url(row):
    """with_output_url of a `.values(*POLL_COLUMNS)` row: the same body, written straight to camelCase."""
    body = RenderJobSerializer.camel_case_rows([row])[0]
    download = render_output_download_of(
        render_id=row["id"], status=row["status"], output_key=row["output_key"], output=row["output"]
    )
    body["outputUrl"] = download.url if download else None
    body["outputUrlExpiresAt"] = _EXPIRES_AT.to_representation(download.expires_at) if download else None
    return CamelCaseRow(body)


class EventStreamNegotiation(ProblemJSONContentNegotiation):
    """Any Accept will do: the stream is text/event-stream whatever is asked, and its errors problem+json."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ProjectRenderViewSet(ListModelMixin, TenantViewSet):
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


class RenderViewSet(RetrieveModelMixin, TenantViewSet):
    """One render: read it (with a signed outputUrl once completed), follow its events, cancel it."""

    queryset = RenderJob.objects.all()
    serializer_class = RenderJobWithOutputSerializer
    http_method_names = ["get", "delete", "head", "options"]
    prepared_retrieve = True

    # What the engines and the worker keep on the row and no response shows: JSON the event stream need not
    # decode (a poll reads POLL_COLUMNS only).
    INTERNAL_COLUMNS = ("render_input", "remote_report", "asset_ids")

    def scope_queryset(self, queryset):
        queryset = queryset.filter(project__deleted_at__isnull=True)
        return queryset.defer(*self.INTERNAL_COLUMNS) if self.action == "events" else queryset

    @extend_schema(summary="Get a render", responses={200: RenderJobWithOutputSerializer})
    def retrieve(self, request, *args, **kwargs):
        # The poll every integration runs in a loop: one row of the columns it shows, no model instance.
        return Response(row_with_output_url(self.get_row(POLL_COLUMNS)))

    @extend_schema(
        summary="Cancel a render",
        responses={200: RenderJobWithOutputSerializer},
        description="Only a pending or queued render can be cancelled; otherwise 409 render_not_cancellable.",
    )
    def destroy(self, request, pk=None):
        job = get_object_or_404(self.get_queryset().select_for_update(of=("self",)), pk=pk)
        return Response(with_output_url(render_cancel(job=job)))

    @extend_schema(
        summary="Follow a render's events",
        parameters=[
            OpenApiParameter(
                "Last-Event-ID", str, OpenApiParameter.HEADER,
                description="The id of the last event received: the stream resumes after it (EventSource sends it "
                "when it reconnects).",
            ),
        ],
        responses={
            (200, EVENT_STREAM): OpenApiResponse(
                OpenApiTypes.STR,
                description="Server-Sent Events, one per state or progress change: `id:` (resume with "
                "Last-Event-ID) and `data:` the RenderJob as GET returns it, outputUrl included once completed. "
                "Without Last-Event-ID the first event is the current state. The stream ends after a final status "
                "(completed, failed, cancelled), and after RENDER_EVENTS_MAX_SECONDS in any case (reconnect with "
                "Last-Event-ID); while idle it sends `: keepalive` comments.",
                examples=[OpenApiExample("A render's stream", value=(
                    "retry: 2000\n\n"
                    "id: 1767225600000-0\n"
                    'data: {"id":"rnd_…","status":"queued","progress":0.0,…,"outputUrl":null}\n\n'
                    ": keepalive\n\n"
                    "id: 1767225601250-0\n"
                    'data: {"id":"rnd_…","status":"rendering","stage":"preparing","progress":0.0,…}\n\n'
                ))],
            ),
            204: OpenApiResponse(description="The stream already sent the final state: nothing more will come."),
            (503, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ProblemSerializer, description="events_unavailable: retry after Retry-After seconds, or poll meanwhile.",
            ),
        },
        description="A stream per render, without polling: text/event-stream whatever Accept says. 429 "
        "too_many_event_streams when the organization already has RENDER_EVENTS_PER_ORGANIZATION streams open.",
    )
    @action(detail=True, methods=["get"], url_path="events", content_negotiation_class=EventStreamNegotiation)
    def events(self, request, pk=None):
        resume_after = last_event_id(request)
        job = self.get_object()
        if request.method == "HEAD":
            return HttpResponse(content_type=EVENT_STREAM)
        return render_event_stream(job=job, last_event_id=resume_after)

class RemoteCallbackThrottle(AddressRateThrottle):
    scope = "remote-callback"
    rate_setting = "REMOTION_CALLBACKS_PER_MINUTE"


class RemoteRenderCallbackView(APIView):
    """A Remotion render server's callback on one attempt of a render: no API key, the per-attempt signature is
    the credential (renders.callbacks)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [RemoteCallbackThrottle]
    parser_classes = []  # the raw body is what is signed; it is parsed only once verified

    @extend_schema(
        summary="A Remotion server's render callback",
        operation_id="renders_remote_callback",
        tags=["renders"],
        auth=[],
        request={"application/json": {"type": "object", "description": "Remotion's webhook body: {type, renderId, "
                 "customData: {renderId}, progress?, outputFile?, timeToFinish?, errors?}."}},
        parameters=[
            OpenApiParameter("X-Remotion-Status", str, OpenApiParameter.HEADER, required=True,
                             enum=["progress", "success", "error", "timeout"]),
            OpenApiParameter("X-Remotion-Signature", str, OpenApiParameter.HEADER, required=True,
                             description="sha512=<hex HMAC-SHA512 of the raw body with the job's webhook.secret>."),
        ],
        responses={
            200: inline_serializer("RemoteCallbackAnswer", {"recorded": serializers.BooleanField(
                help_text="False when the callback changed nothing (a repeat, or an attempt that is over).")}),
            **{(code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=description)
               for code, description in (
                (401, "X-Remotion-Signature is missing or wrong: nothing changed."),
                (413, "The body is over 64 KiB."),
                (429, "Too many callbacks from this address; see Retry-After."),
            )},
        },
        description="Called by the platform's Remotion render servers at the webhook.url they were given, not by "
        "API clients. A missing or wrong signature is a 401 and changes nothing; a repeated callback is answered "
        "200 with recorded false. See docs/OPERATIONS.md, \"Remotion render servers\".",
    )
    def post(self, request, organization_id, render_id, attempt):
        body = _capped_body(request)
        ids = {"organization_id": organization_id, "render_id": render_id, "attempt": attempt}
        if not callback_signature_valid(**ids, body=body, signature=request.headers.get("X-Remotion-Signature")):
            raise ApiError(
                "X-Remotion-Signature is missing or does not sign this body with the render's webhook.secret "
                "(sha512=<hex HMAC-SHA512 of the raw body>).",
                code="invalid_signature", status_code=status.HTTP_401_UNAUTHORIZED,
            )
        recorded = render_remote_callback(**ids, status=request.headers.get("X-Remotion-Status"), body=body)
        return Response({"recorded": recorded})

    def throttled(self, request, wait):
        error = ApiError(
            f"Too many callbacks from this address; retry after {wait:.0f} seconds.", code="rate_limited",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
        error.wait = wait
        raise error


def _capped_body(request):
    """The raw body, refused (413) by its declared length before it is read, or by its actual length after."""
    too_large = ApiError(f"A callback body may hold at most {MAX_CALLBACK_BYTES} bytes.", code="callback_too_large",
                         status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > MAX_CALLBACK_BYTES:
        raise too_large
    body = request.body
    if len(body) > MAX_CALLBACK_BYTES:
        raise too_large
    return body
