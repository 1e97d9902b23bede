"""The API's ModelSerializer writes exactly what DRF's does, with less work per row."""

from datetime import UTC, datetime

from rest_framework import serializers

from projects.models import Project
from projects.serializers import ProjectSerializer
from renderowl.api.serializers import MetadataField
from renderowl.tenancy import tenant_context


class PlainProjectSerializer(serializers.ModelSerializer):
    """ProjectSerializer as DRF alone would write it."""

    class Meta:
        model = Project
        fields = ProjectSerializer.Meta.fields
        read_only_fields = fields

    metadata = MetadataField(read_only=True)


def test_a_project_is_written_as_drf_writes_it(tenant):
    created = tenant.create_project(name="Fast", metadata={"campaign_id": "x"})
    tenant.client.delete(f"/v1/projects/{tenant.create_project(name='Gone')['id']}")
    with tenant_context(tenant.id):
        projects = list(Project.objects.all())
        projects[0].updated_at = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
        projects[0].description = None  # a null where the model allows none is still written as null
    assert any(project.deleted_at is not None for project in projects)
    assert ProjectSerializer(projects, many=True).data == PlainProjectSerializer(projects, many=True).data
    assert ProjectSerializer({"id": created["id"], "name": "a dict"}).data["name"] == "a dict"
