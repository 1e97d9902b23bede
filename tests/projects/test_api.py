import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from projects.models import Project
from renderowl.tenancy import tenant_context


def test_create_returns_project_with_secret_only_once(tenant):
    response = tenant.client.post("/v1/projects", {"name": "Launch Video", "description": "Q4"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("prj_")
    assert body["slug"] == "launch-video"
    assert body["description"] == "Q4"
    assert body["deletedAt"] is None
    assert len(body["webhookSecret"]) == 64
    bytes.fromhex(body["webhookSecret"])
    assert "webhookSecret" not in tenant.client.get(f"/v1/projects/{body['id']}").json()
    listed = tenant.client.get("/v1/projects").json()["data"]
    assert all("webhookSecret" not in item for item in listed)


def test_every_project_gets_its_own_secret(tenant):
    first = tenant.create_project(name="A")
    second = tenant.create_project(name="B")
    assert first["webhookSecret"] != second["webhookSecret"]


def test_create_with_explicit_slug_and_metadata_keeps_metadata_keys_as_sent(tenant):
    body = tenant.create_project(name="Promo", slug="promo-2026", metadata={"campaign_id": "c1", "ownerTeam": "x"})

    assert body["slug"] == "promo-2026"
    assert body["metadata"] == {"campaign_id": "c1", "ownerTeam": "x"}
    assert tenant.client.get(f"/v1/projects/{body['id']}").json()["metadata"] == body["metadata"]


def test_create_without_name_is_400_with_field_error(tenant):
    response = tenant.client.post("/v1/projects", {"description": "no name"}, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"] == [{"field": "name", "message": "This field is required."}]
    assert Project.objects.count() == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "slug": "Has Caps"}, "slug"),
        ({"name": "x", "slug": "-leading"}, "slug"),
        ({"name": "x", "slug": "a" * 64}, "slug"),
        ({"name": 12}, "name"),
        ({"name": True}, "name"),
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": ["x"]}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "x", "metadata": {"k": 1}}, "metadata.k"),
        ({"name": "x", "metadata": "flat"}, "metadata"),
        ({"name": "x", "metadata": {f"k{i}": "v" for i in range(51)}}, "metadata"),
        ({"name": "x", "metadata": {"k" * 41: "v"}}, "metadata"),
        ({"name": "x", "webhookSecret": "mine"}, "webhookSecret"),
        ({"name": "x", "unknownField": 1}, "unknownField"),
    ],
)
def test_create_with_bad_input_is_400_and_creates_nothing(tenant, body, field):
    response = tenant.client.post("/v1/projects", body, format="json")

    assert response.status_code == 400, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    with tenant_context(tenant.id):
        assert Project.objects.count() == 0


def test_slug_taken_in_same_organization_is_409(tenant):
    tenant.create_project(name="One", slug="shared")

    response = tenant.client.post("/v1/projects", {"name": "Two", "slug": "shared"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "slug_taken"
    assert response.json()["errors"][0]["field"] == "slug"


def test_same_slug_in_another_organization_is_fine(tenant, other_tenant):
    tenant.create_project(name="One", slug="shared")
    assert other_tenant.create_project(name="Two", slug="shared")["slug"] == "shared"


def test_slug_is_derived_from_name(tenant):
    assert tenant.create_project(name="  Ünïcode & Spaces!  ")["slug"] == "unicode-spaces"
    assert tenant.create_project(name="!!!")["slug"] == "project"


def test_get_unknown_project_is_404_problem(tenant):
    response = tenant.client.get("/v1/projects/prj_doesnotexist")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_patch_updates_name_description_metadata(tenant):
    project = tenant.create_project(name="Old", metadata={"a": "1"})

    response = tenant.client.patch(
        f"/v1/projects/{project['id']}", {"name": "New", "description": "d", "metadata": {"b": "2"}}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["description"], body["metadata"], body["slug"]) == ("New", "d", {"b": "2"}, project["slug"])
    assert body["updatedAt"] > project["updatedAt"]
    assert "webhookSecret" not in body


def test_patch_with_same_slug_is_accepted(tenant):
    project = tenant.create_project(name="Keep", slug="keep")
    response = tenant.client.patch(f"/v1/projects/{project['id']}", {"slug": "keep", "name": "Kept"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Kept"


def test_patch_with_another_slug_is_400_and_changes_nothing(tenant):
    project = tenant.create_project(name="Fixed", slug="fixed")

    response = tenant.client.patch(f"/v1/projects/{project['id']}", {"slug": "moved", "name": "Renamed"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "slug_immutable"
    unchanged = tenant.client.get(f"/v1/projects/{project['id']}").json()
    assert (unchanged["slug"], unchanged["name"]) == ("fixed", "Fixed")


def test_patch_with_unknown_field_is_400(tenant):
    project = tenant.create_project(name="P")
    response = tenant.client.patch(f"/v1/projects/{project['id']}", {"colour": "red"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "colour", "message": "Unknown field."}]


def test_put_is_not_allowed(tenant):
    project = tenant.create_project(name="P")
    response = tenant.client.put(f"/v1/projects/{project['id']}", {"name": "Q"}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_delete_is_soft_and_frees_the_slug(tenant):
    project = tenant.create_project(name="Gone", slug="gone")

    response = tenant.client.delete(f"/v1/projects/{project['id']}")

    assert response.status_code == 204
    assert tenant.client.get(f"/v1/projects/{project['id']}").status_code == 404
    assert tenant.client.delete(f"/v1/projects/{project['id']}").status_code == 404
    assert tenant.client.patch(f"/v1/projects/{project['id']}", {"name": "x"}, format="json").status_code == 404
    assert project["id"] not in [p["id"] for p in tenant.client.get("/v1/projects").json()["data"]]
    with tenant_context(tenant.id):
        row = Project.objects.get(pk=project["id"])
    assert row.deleted_at is not None
    assert tenant.create_project(name="Again", slug="gone")["slug"] == "gone"


class TestOtherOrganization:
    """Another organization's project is a 404 on every endpoint, never a 403, and unchanged."""

    @pytest.fixture
    def foreign(self, other_tenant):
        return other_tenant.create_project(name="Theirs", slug="theirs")

    def test_get_is_404(self, tenant, foreign):
        assert tenant.client.get(f"/v1/projects/{foreign['id']}").status_code == 404

    def test_patch_is_404_and_changes_nothing(self, tenant, other_tenant, foreign):
        response = tenant.client.patch(f"/v1/projects/{foreign['id']}", {"name": "Mine"}, format="json")
        assert response.status_code == 404
        assert other_tenant.client.get(f"/v1/projects/{foreign['id']}").json()["name"] == "Theirs"

    def test_delete_is_404_and_deletes_nothing(self, tenant, other_tenant, foreign):
        assert tenant.client.delete(f"/v1/projects/{foreign['id']}").status_code == 404
        assert other_tenant.client.get(f"/v1/projects/{foreign['id']}").status_code == 200

    def test_rotating_its_secret_is_404_and_rotates_nothing(self, tenant, other_tenant, foreign):
        assert tenant.client.post(f"/v1/projects/{foreign['id']}/webhook-secret/rotate").status_code == 404
        with tenant_context(other_tenant.id):
            assert Project.objects.get(pk=foreign["id"]).webhook_secret == foreign["webhookSecret"]

    def test_list_shows_only_own_projects(self, tenant, foreign):
        mine = tenant.create_project(name="Mine")
        assert [p["id"] for p in tenant.client.get("/v1/projects").json()["data"]] == [mine["id"]]


def test_list_query_count_is_constant_in_limit(tenant):
    with tenant_context(tenant.id):
        Project.objects.bulk_create(
            Project(organization=tenant.organization, name=f"P{i}", slug=f"p{i}", webhook_secret="0" * 64)
            for i in range(120)
        )
    tenant.client.get("/v1/projects")  # the key's first use also records lastUsedAt
    counts = {}
    for limit in (1, 20, 100):
        with CaptureQueriesContext(connections["default"]) as queries:
            response = tenant.client.get(f"/v1/projects?limit={limit}")
        assert len(response.json()["data"]) == limit
        counts[limit] = len(queries)
    assert counts[1] == counts[20] == counts[100]


def test_derived_slugs_use_only_lowercase_letters_digits_and_hyphens(tenant):
    assert tenant.create_project(name="My_Project v2")["slug"] == "my-project-v2"


def test_a_derived_slug_that_is_taken_gets_a_suffix_instead_of_a_conflict(tenant):
    first = tenant.create_project(name="Teaser")
    second = tenant.create_project(name="Teaser")
    assert first["slug"] == "teaser"
    assert second["slug"].startswith("teaser-") and second["slug"] != "teaser"


def test_a_patch_that_changes_nothing_keeps_updated_at(tenant):
    project = tenant.create_project(name="Same", description="d")
    response = tenant.client.patch(f"/v1/projects/{project['id']}", {"name": "Same", "description": "d"}, format="json")
    assert response.json()["updatedAt"] == project["updatedAt"]
