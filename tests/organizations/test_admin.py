"""The Django admin: operators see every organization through the audited bypass; secrets stay hidden."""

import importlib
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import clear_url_caches

import renderowl.urls
from organizations.models import ApiKey, Organization
from projects.models import Project
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


def test_project_list_shows_every_organization_but_no_secret(operator):
    acme, globex = Tenant("Acme"), Tenant("Globex")
    first = acme.create_project(name="Acme launch")
    second = globex.create_project(name="Globex teaser")

    page = operator.get("/admin/projects/project/").content.decode()

    assert "Acme launch" in page and "Globex teaser" in page
    assert first["webhookSecret"] not in page and second["webhookSecret"] not in page
    detail = operator.get(f"/admin/projects/project/{first['id']}/change/").content.decode()
    assert first["webhookSecret"] not in detail


def test_creating_a_key_in_the_admin_shows_it_once(operator):
    tenant = Tenant("Admin keys")

    response = operator.post(
        "/admin/organizations/apikey/add/",
        {"organization": str(tenant.id), "name": "from admin", "mode": "live"},
        follow=True,
    )

    shown = re.search(r"rwl_live_[A-Za-z0-9]{40}", response.content.decode())
    assert shown, response.content.decode()[:2000]
    key = ApiKey.objects.using("owner").get(name="from admin")
    assert key.prefix == shown.group(0)[: len(key.prefix)]
    listing = operator.get("/admin/organizations/apikey/").content.decode()
    assert shown.group(0) not in listing
    assert tenant.client.__class__(HTTP_AUTHORIZATION=f"Bearer {shown.group(0)}").get("/v1/projects").status_code == 200


def test_revoke_action(operator):
    tenant = Tenant("Revoke in admin")
    key = tenant.issued.api_key

    operator.post("/admin/organizations/apikey/", {"action": "revoke", "_selected_action": [key.pk]})

    assert ApiKey.objects.using("owner").get(pk=key.pk).revoked_at is not None
    assert tenant.client.get("/v1/projects").status_code == 401


def test_admin_requires_login(db):
    response = Client().get("/admin/projects/project/")
    assert response.status_code == 302


def test_only_signed_in_staff_take_the_tenancy_bypass(caplog):
    def bypasses():
        return [record for record in caplog.records if record.getMessage() == "tenancy bypass"]

    get_user_model().objects.db_manager("owner").create_superuser("login", "login@example.com", "s3cret-pass")
    client = Client()
    with caplog.at_level("INFO", logger="renderowl.tenancy"):
        assert client.get("/admin/login/").status_code == 200
        assert client.get("/admin/projects/project/").status_code == 302
        assert client.post("/admin/login/", {"username": "login", "password": "wrong"}).status_code == 200
        assert bypasses() == []

        # The login itself reads users and writes the session through the owner connection, bypass-free.
        response = client.post("/admin/login/?next=/admin/", {"username": "login", "password": "s3cret-pass"})
        assert response.status_code == 302
        assert bypasses() == []
        assert client.get("/admin/projects/project/").status_code == 200

    (bypass,) = bypasses()
    assert bypass.bypass_reason == "admin GET /admin/projects/project/"


def test_organizations_and_projects_cannot_be_hard_deleted_in_the_admin(operator):
    tenant = Tenant("Keep me")
    project = tenant.create_project(name="Keep me too")

    for url in (
        f"/admin/organizations/organization/{tenant.id}/delete/",
        f"/admin/projects/project/{project['id']}/delete/",
    ):
        assert operator.get(url).status_code == 403
        assert operator.post(url, {"post": "yes"}).status_code == 403
    for listing in ("/admin/organizations/organization/", "/admin/projects/project/"):
        assert 'value="delete_selected"' not in operator.get(listing).content.decode()

    assert Organization.objects.using("owner").filter(pk=tenant.id).exists()
    assert Project.objects.using("owner").filter(pk=project["id"]).exists()


def test_deleted_at_is_not_editable_in_the_admin(operator):
    tenant = Tenant("Soft")
    project = tenant.create_project(name="Live project")
    url = f"/admin/projects/project/{project['id']}/change/"

    assert 'name="deleted_at_0"' not in operator.get(url).content.decode()
    response = operator.post(
        url,
        {"name": "Renamed", "description": "", "metadata": "{}", "deleted_at_0": "2026-01-01", "deleted_at_1": "00:00:00"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    stored = Project.objects.using("owner").get(pk=project["id"])
    assert (stored.name, stored.deleted_at) == ("Renamed", None)


@pytest.fixture
def admin_switched_off(settings):
    settings.ADMIN_ENABLED = False
    importlib.reload(renderowl.urls)
    clear_url_caches()
    yield
    settings.ADMIN_ENABLED = True
    importlib.reload(renderowl.urls)
    clear_url_caches()


def test_admin_switched_off_is_a_404(operator, admin_switched_off):
    assert operator.get("/admin/").status_code == 404
    assert Client().get("/admin/login/").status_code == 404
    assert operator.get("/healthz").status_code == 200
