"""The endpoints API: registration, validation, the SSRF guard at registration, tests and redelivery."""

import json

import pytest
from standardwebhooks import Webhook

from renderowl.ids import new_id
from tests.webhooks.receiver import Receiver, Reply
from webhooks.signing import standard_webhooks_secret


def register(tenant, **body):
    response = tenant.client.post("/v1/webhooks", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_register_and_read_an_endpoint(tenant, receiver):
    project = tenant.create_project(name="P")

    endpoint = register(
        tenant, url=receiver.url, description="ops", events=["render.*", "asset.ready"], projectIds=[project["id"]]
    )

    assert endpoint["id"].startswith("whe_")
    assert endpoint["events"] == ["asset.ready", "render.*"]
    assert endpoint["projectIds"] == [project["id"]]
    assert (endpoint["enabled"], endpoint["status"], endpoint["consecutiveFailures"]) == (True, "active", 0)
    assert tenant.client.get(f"/v1/webhooks/{endpoint['id']}").json() == endpoint
    assert [e["id"] for e in tenant.client.get("/v1/webhooks").json()["data"]] == [endpoint["id"]]


def test_patch_and_delete(tenant, receiver):
    endpoint = register(tenant, url=receiver.url)

    patched = tenant.client.patch(f"/v1/webhooks/{endpoint['id']}", {"events": ["render.completed"], "enabled": False}, format="json")

    assert patched.status_code == 200
    assert (patched.json()["events"], patched.json()["enabled"]) == (["render.completed"], False)
    assert tenant.client.delete(f"/v1/webhooks/{endpoint['id']}").status_code == 204
    assert tenant.client.get(f"/v1/webhooks/{endpoint['id']}").status_code == 404


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"url": "ftp://example.com/hook"}, "url", "validation_error"),
        ({"url": "not a url"}, "url", "validation_error"),
        ({"url": "http://user:pw@example.com/"}, "url", "url_not_allowed"),
        ({"url": "http://example.com:99999/"}, "url", "validation_error"),
        ({"url": "http://example.com:65536/"}, "url", "validation_error"),
        ({"url": "http://example.com:0/"}, "url", "validation_error"),
        ({"url": "https://example.com:-443/"}, "url", "validation_error"),
        ({"url": "http://exa%20mple.com/"}, "url", "validation_error"),
        ({"url": "http://[::1/"}, "url", "validation_error"),
        ({"url": "http://127.0.0.1:8000/hook", "events": ["render.exploded"]}, "events[0]", "validation_error"),
        ({"url": "http://127.0.0.1:8000/hook", "events": "render.*"}, "events", "validation_error"),
        ({"url": "http://127.0.0.1:8000/hook", "projectIds": ["prj_nope"]}, "projectIds", "unknown_project"),
        ({"url": "http://127.0.0.1:8000/hook", "enabled": "yes"}, "enabled", "validation_error"),
        ({"url": "http://127.0.0.1:8000/hook", "secret": "x"}, "secret", "validation_error"),
        ({}, "url", "validation_error"),
    ],
)
def test_bad_registrations_are_400_and_create_nothing(tenant, loopback, body, field, code):
    response = tenant.client.post("/v1/webhooks", body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert field in [error["field"] for error in response.json()["errors"]]
    assert tenant.client.get("/v1/webhooks").json()["data"] == []


@pytest.mark.parametrize("port", ["0", "65536", "99999"])
def test_a_port_outside_1_to_65535_is_a_validation_error_naming_the_url(tenant, loopback, port):
    response = tenant.client.post("/v1/webhooks", {"url": f"http://127.0.0.1:{port}/hook"}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"] == [{"field": "url", "message": "The URL's port must be a number from 1 to 65535."}]
    assert tenant.client.get("/v1/webhooks").json()["data"] == []


@pytest.mark.parametrize(
    "written, stored",
    [
        ("HTTP://127.0.0.1:{port}/Hook?A=1", "http://127.0.0.1:{port}/Hook?A=1"),
        ("HtTpS://LOCALHOST:{port}/hook", "https://localhost:{port}/hook"),
        ("http://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11:{port}/hook", "http://127.0.0.1:{port}/hook"),
        ("http://\uff2c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54:{port}/hook", "http://localhost:{port}/hook"),
        ("http://2130706433:{port}/hook", "http://127.0.0.1:{port}/hook"),
        ("http://[0:0::1]:{port}/hook", "http://[::1]:{port}/hook"),
    ],
)
def test_urls_are_stored_as_they_will_be_dialed(tenant, receiver, written, stored):
    port = receiver.url.split(":")[2].split("/")[0]

    endpoint = register(tenant, url=written.format(port=port))

    assert endpoint["url"] == stored.format(port=port)
    assert tenant.client.get(f"/v1/webhooks/{endpoint['id']}").json()["url"] == stored.format(port=port)
    patched = tenant.client.patch(f"/v1/webhooks/{endpoint['id']}", {"url": written.format(port=port)}, format="json")
    assert patched.json()["url"] == stored.format(port=port)


def test_an_upper_case_scheme_reaches_the_receiver(tenant, receiver, worked):
    project = tenant.create_project(name="P")
    endpoint = register(tenant, url=receiver.url.replace("http://", "HTTP://"), projectIds=[project["id"]])

    response = worked(lambda: tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json"))

    assert response.status_code == 202, response.content
    assert delivery_detail(tenant, endpoint, response.json())["status"] == "succeeded"
    assert len(receiver.received) == 1


def test_an_operator_denied_network_is_refused_at_registration(tenant, settings):
    settings.OUTBOUND_DENY_NETWORKS = ["93.184.216.0/24"]

    refused = tenant.client.post("/v1/webhooks", {"url": "http://93.184.216.34/hook"}, format="json")
    mapped = tenant.client.post("/v1/webhooks", {"url": "http://[::ffff:93.184.216.34]/hook"}, format="json")

    assert (refused.status_code, refused.json()["code"]) == (400, "url_not_allowed")
    assert (mapped.status_code, mapped.json()["code"]) == (400, "url_not_allowed")
    assert tenant.client.get("/v1/webhooks").json()["data"] == []
    settings.OUTBOUND_DENY_NETWORKS = []
    assert tenant.client.post("/v1/webhooks", {"url": "http://93.184.216.34/hook"}, format="json").status_code == 201


def test_the_operator_deny_list_wins_over_allowed_loopback(tenant, loopback, settings):
    settings.OUTBOUND_DENY_NETWORKS = ["127.0.0.0/8"]
    response = tenant.client.post("/v1/webhooks", {"url": "http://127.0.0.1:9/hook"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "url_not_allowed")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://2130706433/hook",
        "http://0x7f000001/hook",
        "http://0.0.0.0/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://224.0.0.1/hook",
        "http://[64:ff9b:1::808:808]/hook",
        "http://\uff11\uff12\uff17.0.0.1/hook",
    ],
)
def test_private_and_reserved_destinations_are_refused_at_registration(tenant, url):
    response = tenant.client.post("/v1/webhooks", {"url": url}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "url_not_allowed"


def test_production_requires_https(tenant, settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    response = tenant.client.post("/v1/webhooks", {"url": "http://example.com/hook"}, format="json")
    assert response.status_code == 400
    assert "https" in response.json()["detail"]


def test_another_organizations_project_cannot_be_named(tenant, other_tenant, loopback):
    foreign = other_tenant.create_project(name="Theirs")
    response = tenant.client.post("/v1/webhooks", {"url": "http://127.0.0.1:9/h", "projectIds": [foreign["id"]]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_project"


def delivery_detail(tenant, endpoint, delivery):
    return tenant.client.get(f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}").json()


def test_a_test_send_answers_at_once_with_the_pending_delivery_to_poll(tenant, receiver):
    project = tenant.create_project(name="Queued")
    endpoint = register(tenant, url=receiver.url, projectIds=[project["id"]])

    response = tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json")

    assert response.status_code == 202, response.content
    queued = response.json()
    assert (queued["status"], queued["eventType"], queued["attemptCount"], queued["attempts"]) == (
        "pending", "webhook.test", 0, []
    )
    assert receiver.received == []  # the request sent nothing: a worker will
    assert delivery_detail(tenant, endpoint, queued)["status"] == "pending"


def test_test_event_is_signed_and_verifiable_with_standard_webhooks(tenant, receiver, worked):
    project = tenant.create_project(name="Signed")
    endpoint = register(tenant, url=receiver.url, projectIds=[project["id"]])

    response = worked(lambda: tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json"))

    assert response.status_code == 202, response.content
    delivery = delivery_detail(tenant, endpoint, response.json())
    assert (delivery["status"], delivery["eventType"], delivery["attemptCount"]) == ("succeeded", "webhook.test", 1)
    assert delivery["attempts"][0]["responseStatus"] == 200 and delivery["attempts"][0]["succeeded"]
    (request,) = receiver.received
    headers = {k.lower(): v for k, v in request.headers.items()}
    event = Webhook(standard_webhooks_secret(project["webhookSecret"])).verify(request.body, headers)
    assert event["id"] == delivery["eventId"] == headers["x-renderowl-id"] == headers["webhook-id"]
    assert (headers["x-renderowl-project"], headers["x-renderowl-event"]) == (project["id"], "webhook.test")
    assert event["type"] == "webhook.test"
    assert event["projectId"] == project["id"] and event["organizationId"] == str(tenant.id)
    assert event["data"]["object"]["id"] == endpoint["id"]
    assert json.loads(delivery["payload"]) == event


def test_test_needs_a_project_unless_the_endpoint_names_exactly_one(tenant, receiver):
    project = tenant.create_project(name="A")
    endpoint = register(tenant, url=receiver.url)

    missing = tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json")
    named = tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {"projectId": project["id"]}, format="json")
    unknown = tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {"projectId": "prj_nope"}, format="json")

    assert (missing.status_code, missing.json()["code"]) == (400, "project_required")
    assert named.status_code == 202
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_project")


def test_a_failed_test_reports_the_attempt_and_leaves_health_alone(tenant, loopback, worked):
    project = tenant.create_project(name="A")
    with Receiver(Reply(status=500, body=b"boom")) as down:
        endpoint = register(tenant, url=down.url, projectIds=[project["id"]])
        queued = worked(lambda: tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json")).json()
        delivery = delivery_detail(tenant, endpoint, queued)

    assert (delivery["status"], delivery["attempts"][0]["responseStatus"]) == ("failed", 500)
    assert delivery["attempts"][0]["responseBody"] == "boom"
    assert tenant.client.get(f"/v1/webhooks/{endpoint['id']}").json()["status"] == "active"


def test_deliveries_are_listed_filtered_and_retried_with_the_same_event_id(tenant, loopback, worked):
    project = tenant.create_project(name="A")
    with Receiver(Reply(status=500)) as flaky:
        endpoint = register(tenant, url=flaky.url, projectIds=[project["id"]])
        first = worked(lambda: tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json")).json()
        base = f"/v1/webhooks/{endpoint['id']}/deliveries"

        listed = tenant.client.get(base).json()["data"]
        failed = tenant.client.get(f"{base}?status=failed&eventType=webhook.test").json()["data"]
        succeeded = tenant.client.get(f"{base}?status=succeeded").json()["data"]
        queued = worked(lambda: tenant.client.post(f"{base}/{first['id']}/retry"))
        assert queued.status_code == 202 and queued.json()["status"] == "pending"
        retried = delivery_detail(tenant, endpoint, first)

        assert [d["id"] for d in listed] == [d["id"] for d in failed] == [first["id"]]
        assert succeeded == []
        assert (retried["status"], retried["attemptCount"]) == ("succeeded", 2)
        assert [a["responseStatus"] for a in retried["attempts"]] == [500, 200]
        ids = {request.headers["X-Renderowl-Id"] for request in flaky.received}
        assert ids == {first["eventId"]}
    detail = tenant.client.get(f"{base}/{first['id']}").json()
    assert detail["attempts"] == retried["attempts"]


@pytest.mark.parametrize("query", ["status=lost", "eventType=render.exploded", "colour=red"])
def test_bad_delivery_filters_are_400(tenant, loopback, query):
    endpoint = register(tenant, url="http://127.0.0.1:9/hook")
    assert tenant.client.get(f"/v1/webhooks/{endpoint['id']}/deliveries?{query}").status_code == 400


def test_retrying_for_a_disabled_endpoint_is_409(tenant, loopback, worked):
    project = tenant.create_project(name="A")
    with Receiver(Reply(status=410)) as gone:
        endpoint = register(tenant, url=gone.url, projectIds=[project["id"]])
        delivery = worked(lambda: tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json")).json()
    tenant.client.patch(f"/v1/webhooks/{endpoint['id']}", {"enabled": False}, format="json")

    response = tenant.client.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/retry")

    assert (response.status_code, response.json()["code"]) == (409, "endpoint_disabled")


class TestOtherOrganization:
    """Another organization's endpoints and deliveries are 404 everywhere, and untouched."""

    @pytest.fixture
    def foreign(self, other_tenant, receiver, worked):
        project = other_tenant.create_project(name="Theirs")
        endpoint = register(other_tenant, url=receiver.url, projectIds=[project["id"]])
        delivery = worked(
            lambda: other_tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json")
        ).json()
        return endpoint, delivery

    def test_every_route_is_404(self, tenant, other_tenant, foreign):
        endpoint, delivery = foreign
        base = f"/v1/webhooks/{endpoint['id']}"
        responses = [
            tenant.client.get(base),
            tenant.client.patch(base, {"description": "mine"}, format="json"),
            tenant.client.post(f"{base}/test", {}, format="json"),
            tenant.client.get(f"{base}/deliveries"),
            tenant.client.get(f"{base}/deliveries/{delivery['id']}"),
            tenant.client.post(f"{base}/deliveries/{delivery['id']}/retry"),
            tenant.client.delete(base),
        ]
        assert [r.status_code for r in responses] == [404] * len(responses)
        assert other_tenant.client.get(base).json()["description"] == ""
        assert tenant.client.get("/v1/webhooks").json()["data"] == []

    def test_own_endpoint_cannot_reach_anothers_delivery(self, tenant, receiver, foreign):
        _, delivery = foreign
        mine = register(tenant, url=receiver.url)
        assert tenant.client.get(f"/v1/webhooks/{mine['id']}/deliveries/{delivery['id']}").status_code == 404

    def test_unknown_ids_are_404(self, tenant):
        assert tenant.client.get(f"/v1/webhooks/{new_id('whe')}").status_code == 404
        assert tenant.client.get(f"/v1/webhooks/{new_id('whe')}/deliveries").status_code == 404
