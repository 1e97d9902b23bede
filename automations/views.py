from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from automations.firing import automation_trigger
from automations.hooks import (
    SIGNATURE_HEADER,
    hook_automation,
    hook_rate_limit_wait,
    hook_receive,
    hook_signature_valid,
)
from automations.models import Automation, AutomationRun
from automations.serializers import (
    AutomationCreateSerializer,
    AutomationDryRunSerializer,
    AutomationRunSerializer,
    AutomationSerializer,
    AutomationTriggerSerializer,
    AutomationUpdateSerializer,
    HookAcceptedSerializer,
)
from automations.services import (
    automation_create,
    automation_delete,
    automation_rotate_hook_token,
    automation_update,
)
from projects.services import projects_live
from renderowl.api.errors import ApiError
from renderowl.api.viewsets import ListModelMixin, RetrieveModelMixin, TenantViewSet
from renderowl.errors import Invalid


class ProjectAutomationViewSet(ListModelMixin, TenantViewSet):
    """A project's automations: create one, list them."""

    queryset = Automation.objects.all()
    serializer_class = AutomationSerializer

    def scope_queryset(self, queryset):
        project = get_object_or_404(
            projects_live(organization_id=self.request.user.organization_id), pk=self.kwargs["project_id"]
        )
        return queryset.filter(project=project)

    @extend_schema(summary="List a project's automations")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Create an automation",
        request=AutomationCreateSerializer,
        responses={201: AutomationSerializer},
        description="Checks the trigger, that the template is a ready template asset of the project, the output, "
        "and the data mapping against the template's inputSchema (every required prop without a default mapped, "
        "static values valid, JSONPaths parse, transforms known). A webhook trigger answers its hookUrl; a schedule "
        "trigger its nextRunAt.",
    )
    def create(self, request, project_id=None):
        params = self.validated_body(AutomationCreateSerializer)
        automation = automation_create(organization=self.organization, project_id=project_id, **params)
        return Response(AutomationSerializer(automation).data, status=status.HTTP_201_CREATED)

    def created_location(self, data):
        return reverse("automation-detail", kwargs={"pk": data["id"]})


class AutomationViewSet(RetrieveModelMixin, TenantViewSet):
    """One automation: read, change, delete, fire by hand, rotate its hook token, list its runs."""

    queryset = Automation.objects.all()
    serializer_class = AutomationSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scope_queryset(self, queryset):
        return queryset.filter(project__deleted_at__isnull=True)

    @extend_schema(summary="Get an automation")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(summary="Update an automation", request=AutomationUpdateSerializer, responses={200: AutomationSerializer})
    def partial_update(self, request, pk=None):
        automation = self.get_object()
        params = self.validated_body(AutomationUpdateSerializer)
        return Response(AutomationSerializer(automation_update(automation=automation, changes=params)).data)

    @extend_schema(summary="Delete an automation and its runs", responses={204: None},
                   description="Its schedule is removed; the renders it made stay.")
    def destroy(self, request, pk=None):
        automation_delete(automation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Fire an automation by hand",
        request=AutomationTriggerSerializer,
        responses={202: AutomationRunSerializer, 200: AutomationDryRunSerializer},
        description="Records a run (trigger manual) for the payload and answers 202 at once; a worker maps it and "
        "submits the render. With dryRun the answer (200) is the mapped input, validated as a render's, and no run "
        "or render is created. A disabled automation fires by hand too.",
    )
    @action(detail=True, methods=["post"])
    def trigger(self, request, pk=None):
        automation = self.get_object()
        params = self.validated_body(AutomationTriggerSerializer)
        result = automation_trigger(automation=automation, payload=params["payload"], dry_run=params["dry_run"])
        if params["dry_run"]:
            return Response(AutomationDryRunSerializer(result).data)
        return Response(AutomationRunSerializer(result).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Rotate the hook token", request=None, responses={200: AutomationSerializer},
                   description="A new hookUrl; the old one answers 404 at once. Webhook triggers only (else 409).")
    @action(detail=True, methods=["post"], url_path="hook-token/rotate")
    def rotate_hook_token(self, request, pk=None):
        automation = get_object_or_404(self.get_queryset().select_for_update(of=("self",)), pk=pk)
        return Response(AutomationSerializer(automation_rotate_hook_token(automation=automation)).data)


class AutomationRunViewSet(ListModelMixin, RetrieveModelMixin, TenantViewSet):
    """Runs: an automation's history (filterable by status), and one run."""

    queryset = AutomationRun.objects.all()
    serializer_class = AutomationRunSerializer
    list_filter_params = ("status",)

    def scope_queryset(self, queryset):
        queryset = queryset.filter(automation__project__deleted_at__isnull=True)
        if self.action != "list":
            return queryset
        automation = get_object_or_404(
            Automation.objects.filter(
                organization_id=self.request.user.organization_id, project__deleted_at__isnull=True
            ),
            pk=self.kwargs["automation_id"],
        )
        queryset = queryset.filter(automation=automation)
        status_filter = self.request.query_params.get("status")
        if status_filter is not None:
            if status_filter not in AutomationRun.Status.values:
                raise Invalid(
                    f"status must be one of {', '.join(AutomationRun.Status.values)}.", code="invalid_filter",
                    field="status",
                )
            queryset = queryset.filter(status=status_filter)
        return queryset

    @extend_schema(summary="List an automation's runs",
                   parameters=[OpenApiParameter("status", str, enum=AutomationRun.Status.values)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Get an automation run")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


class HookRateLimited(ApiError):
    def __init__(self, wait):
        super().__init__(
            f"This hook takes at most its automation's rate per minute; retry after {wait} seconds.",
            code="rate_limited", status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
        self.wait = wait


class HookView(APIView):
    """The webhook trigger's URL: no API key, the token in the path (and a signature when the automation has a secret)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        summary="Call an automation's hook",
        auth=[],
        request={"application/json": {"description": "Any JSON: the payload the mapping's JSONPaths read."}},
        parameters=[
            OpenApiParameter(SIGNATURE_HEADER, str, OpenApiParameter.HEADER,
                             description="sha256=<hex HMAC-SHA256 of the raw body>, when the trigger has a secret."),
        ],
        responses={202: HookAcceptedSerializer},
        description="Unauthenticated apart from the token in the URL. Answers 202 with the run id; a worker maps "
        "the payload and submits the render. A retried call with the same Idempotency-Key makes no second run. "
        "404 for an unknown automation or a wrong token alike, 401 invalid_signature, 409 automation_disabled, "
        "413 beyond AUTOMATION_HOOK_MAX_BYTES, 429 beyond AUTOMATION_HOOK_RATE_PER_MINUTE (with Retry-After).",
    )
    def post(self, request, automation_id=None, token=None):
        automation = hook_automation(automation_id=automation_id, token=token)
        wait = hook_rate_limit_wait(automation_id=automation.id)
        if wait is not None:
            raise HookRateLimited(wait)
        body = request.body
        if not hook_signature_valid(automation=automation, body=body, header=request.headers.get(SIGNATURE_HEADER)):
            raise ApiError(
                f"{SIGNATURE_HEADER} is missing or wrong: send sha256=<hex HMAC-SHA256 of the raw body, keyed with the "
                "trigger's secret>.",
                code="invalid_signature", status_code=status.HTTP_401_UNAUTHORIZED, title="Unauthorized",
            )
        run, created = hook_receive(
            automation=automation, body=body, content_type=request.content_type,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        response = Response(HookAcceptedSerializer({"run_id": run.id, "status": run.status}).data,
                            status=status.HTTP_202_ACCEPTED)
        response["Idempotent-Replayed"] = "false" if created else "true"
        return response
