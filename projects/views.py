from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from projects.models import LIVE, Project
from projects.serializers import (
    ProjectCreateSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    ProjectWithSecretSerializer,
    WebhookSecretSerializer,
)
from projects.services import project_create, project_delete, project_update, project_webhook_secret_rotate
from renderowl.api.viewsets import ListModelMixin, RetrieveModelMixin, TenantViewSet


class ProjectViewSet(ListModelMixin, RetrieveModelMixin, TenantViewSet):
    """Projects group assets, renders and automations, and hold the webhook signing secret."""

    queryset = Project.objects.all()
    serializer_class = ProjectSerializer
    sort_fields = {"createdAt": "created_at", "updatedAt": "updated_at", "name": "name"}
    default_sort = "-createdAt"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    idempotency_redacted_fields = ("webhook_secret",)
    prepared_retrieve = True
    prepared_list = True

    def scope_queryset(self, queryset):
        return queryset.filter(LIVE).defer(
            "webhook_secret", "previous_webhook_secret", "previous_webhook_secret_expires_at"
        )

    @extend_schema(summary="List projects")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Get a project")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Create a project",
        request=ProjectCreateSerializer,
        responses={201: ProjectWithSecretSerializer},
        description="The response is the only time `webhookSecret` is shown; store it to verify webhooks.",
    )
    def create(self, request):
        params = self.validated_body(ProjectCreateSerializer)
        project = project_create(organization=self.organization, **params)
        return Response(ProjectWithSecretSerializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Update a project", request=ProjectUpdateSerializer, responses={200: ProjectSerializer})
    def partial_update(self, request, pk=None):
        project = self.get_object()
        params = self.validated_body(ProjectUpdateSerializer)
        project = project_update(project=project, changes=params)
        return Response(ProjectSerializer(project).data)

    @extend_schema(
        summary="Rotate the project's webhook secret",
        request=None,
        responses={200: WebhookSecretSerializer},
        description="Returns the new secret once. For 24 hours deliveries are signed with both the old and "
        "the new secret (space-separated signatures), then with the new one only.",
    )
    @action(detail=True, methods=["post"], url_path="webhook-secret/rotate")
    def rotate_webhook_secret(self, request, pk=None):
        project = project_webhook_secret_rotate(project=self.get_object())
        body = {
            "webhook_secret": project.webhook_secret,
            "previous_secret_expires_at": project.previous_webhook_secret_expires_at,
        }
        return Response(WebhookSecretSerializer(body).data)

    @extend_schema(summary="Delete a project", responses={204: None})
    def destroy(self, request, pk=None):
        project_delete(project=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
