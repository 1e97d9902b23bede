"""The Django admin: operators see every organization through the audited bypass; secrets stay hidden."""

import re

import pytest
from django.test import Client

from organizations.models import ApiKey
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
    key = ApiKey.objects.get(name="from admin")
    assert key.prefix == shown.group(0)[: len(key.prefix)]
    listing = operator.get("/admin/organizations/apikey/").content.decode()
    assert shown.group(0) not in listing
    assert tenant.client.__class__(HTTP_AUTHORIZATION=f"Bearer {shown.group(0)}").get("/v1/projects").status_code == 200


def test_revoke_action(operator):
    tenant = Tenant("Revoke in admin")
    key = tenant.issued.api_key

    operator.post("/admin/organizations/apikey/", {"action": "revoke", "_selected_action": [key.pk]})

    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert tenant.client.get("/v1/projects").status_code == 401


def test_admin_requires_login(db):
    response = Client().get("/admin/projects/project/")
    assert response.status_code == 302
