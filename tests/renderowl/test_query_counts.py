"""Every list endpoint costs the same number of queries for a page of 1 as for a page of 50."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.assets import media
from tests.renders.conftest import upload_template
from tests.webhooks.receiver import Receiver, Reply


def queries_for(client, url):
    with CaptureQueriesContext(connections["default"]) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), len(response.json()["data"])


@pytest.fixture
def populated(tenant, settings, tmp_path):
    """Fifty of everything that has a list endpoint, in one project."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    settings.ASSET_STORAGE_ROOT = tmp_path
    settings.WEBHOOK_MANUAL_SENDS_IN_FLIGHT = 100  # 50 queued test sends, none sent (no worker runs here)
    project = tenant.create_project(name="Lists")
    for index in range(50):
        tenant.create_project(name=f"P{index}")
        tenant.client.post(
            f"/v1/projects/{project['id']}/assets",
            {"type": "template", "name": f"t{index}.json", "contentType": "application/json", "size": 10},
            format="json",
        )
    template = upload_template(tenant, project["id"], media.title_card_template())
    for _ in range(50):
        render = tenant.client.post(f"/v1/projects/{project['id']}/renders", {"templateId": template["id"]}, format="json")
        assert render.status_code == 201, render.content
    with Receiver(default=Reply(status=500)) as receiver:
        endpoint = tenant.client.post("/v1/webhooks", {"url": receiver.url, "projectIds": [project["id"]]}, format="json").json()
        for index in range(50):
            tenant.client.post("/v1/webhooks", {"url": receiver.url}, format="json")
            tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json")
    return {
        "projects": "/v1/projects",
        "webhooks": "/v1/webhooks",
        "deliveries": f"/v1/webhooks/{endpoint['id']}/deliveries",
        "assets": f"/v1/projects/{project['id']}/assets",
        "renders": f"/v1/projects/{project['id']}/renders",
    }


@pytest.mark.parametrize("name", ["projects", "webhooks", "deliveries", "assets", "renders"])
def test_list_queries_do_not_grow_with_the_page(tenant, populated, name):
    url = populated[name]
    queries_for(tenant.client, f"{url}?limit=1")  # warm: the key's lastUsedAt
    small, small_rows = queries_for(tenant.client, f"{url}?limit=1")
    large, large_rows = queries_for(tenant.client, f"{url}?limit=50")
    assert (small_rows, large_rows) == (1, 50)
    assert small == large


def test_a_retrieve_is_the_key_lookup_and_the_row(tenant):
    """The key's lookup also sets the request's organization: no round trip of its own for that."""
    project = tenant.create_project(name="One")
    url = f"/v1/projects/{project['id']}"
    tenant.client.get(url)  # warm: the key's lastUsedAt
    with CaptureQueriesContext(connections["default"]) as captured:
        response = tenant.client.get(url)
    assert response.status_code == 200 and response.json()["id"] == project["id"]
    # Inside the test's transaction the request's own is a savepoint.
    statements = [query["sql"] for query in captured if "SAVEPOINT" not in query["sql"]]
    assert len(statements) == 2
    assert "api_key_lookup" in statements[0] and "set_config" in statements[0]
