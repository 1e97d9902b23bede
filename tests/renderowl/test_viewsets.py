"""What every API viewset does alike: `Location` on 201 Created."""

import pytest


def create_project(tenant):
    return tenant.client.post("/v1/projects", {"name": "Located"}, format="json", HTTP_IDEMPOTENCY_KEY="k-located")


def create_webhook(tenant):
    return tenant.client.post("/v1/webhooks", {"url": "http://127.0.0.1:9/hook"}, format="json",
                              HTTP_IDEMPOTENCY_KEY="k-located")


def create_asset(tenant):
    if not hasattr(tenant, "asset_project"):
        tenant.asset_project = tenant.create_project(name="Assets")
    project = tenant.asset_project
    body = {"type": "template", "name": "card.json", "contentType": "application/json", "size": 10}
    return tenant.client.post(f"/v1/projects/{project['id']}/assets", body, format="json",
                              HTTP_IDEMPOTENCY_KEY="k-located")


@pytest.mark.parametrize(
    "create, created_id, path",
    [
        (create_project, lambda body: body["id"], "/v1/projects/{}"),
        (create_webhook, lambda body: body["id"], "/v1/webhooks/{}"),
        (create_asset, lambda body: body["asset"]["id"], "/v1/assets/{}"),
    ],
    ids=["project", "webhook", "asset"],
)
def test_201_created_carries_the_location_of_the_resource_also_on_replay(tenant, settings, create, created_id, path):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    response = create(tenant)
    replayed = create(tenant)

    assert response.status_code == 201, response.content
    resource_id = created_id(response.json())
    assert response["Location"] == "http://testserver" + path.format(resource_id)
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed["Location"] == response["Location"]
    assert tenant.client.get(response["Location"]).json()["id"] == resource_id
