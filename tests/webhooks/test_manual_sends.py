"""Test sends and retries are queued for a worker: no request waits on a receiver, and none holds a transaction."""

import threading

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections

from renderowl.celery import app
from tests.conftest import Tenant
from tests.webhooks.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


def register(tenant, url, project):
    response = tenant.client.post("/v1/webhooks", {"url": url, "projectIds": [project["id"]]}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def detail(tenant, endpoint, delivery):
    return tenant.client.get(f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}").json()


def open_transactions():
    """Sessions of the application role with a transaction open, other than this one."""
    connection = connections["owner"]
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND usename = %s",
                [connections["default"].settings_dict["USER"]],
            )
            return cursor.fetchone()[0]
    finally:
        connection.close()


def test_no_transaction_is_open_while_the_receiver_is_called(loopback):
    tenant = Tenant("NoTx")
    project = tenant.create_project(name="P")
    seen = []
    arrived = threading.Event()

    def check_transactions():
        seen.append(open_transactions())
        arrived.set()

    with Receiver(on_request=check_transactions) as receiver:
        endpoint = register(tenant, receiver.url, project)
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["webhooks"]):
            response = tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json")
            assert response.status_code == 202
            assert arrived.wait(20)
            receiver.wait_for(1)
    assert seen == [0]


def test_a_receiver_trickling_its_answer_is_cut_at_the_deadline_and_fails(tenant, loopback, worked, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    project = tenant.create_project(name="P")
    with Receiver(Reply(status=200, body=b"x" * 1000, trickle=0.05)) as slow:
        endpoint = register(tenant, slow.url, project)
        queued = worked(lambda: tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json")).json()
    delivery = detail(tenant, endpoint, queued)
    (attempt,) = delivery["attempts"]
    assert delivery["status"] == "failed"
    assert attempt["succeeded"] is False
    assert attempt["error"] == "ExchangeTimeout: The receiver did not answer in full within 0.5 s."


def test_a_2xx_whose_body_breaks_off_is_a_failed_attempt(tenant, loopback, worked):
    project = tenant.create_project(name="P")
    with Receiver(Reply(status=200, body=b"partial", declared_length=1000)) as broken:
        endpoint = register(tenant, broken.url, project)
        queued = worked(lambda: tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json")).json()
    delivery = detail(tenant, endpoint, queued)
    (attempt,) = delivery["attempts"]
    assert (delivery["status"], attempt["responseStatus"], attempt["succeeded"]) == ("failed", 200, False)
    assert "IncompleteRead" in attempt["error"] or "ProtocolError" in attempt["error"]


def test_an_organization_has_a_few_manual_sends_in_flight_at_most(loopback, settings):
    settings.WEBHOOK_MANUAL_SENDS_IN_FLIGHT = 2
    tenant, other = Tenant("Busy"), Tenant("Other")
    project, other_project = tenant.create_project(name="P"), other.create_project(name="Q")
    endpoint = register(tenant, "http://127.0.0.1:9/hook", project)
    other_endpoint = register(other, "http://127.0.0.1:9/hook", other_project)
    sends = [tenant.client.post(f"/v1/webhooks/{endpoint['id']}/test", {}, format="json") for _ in range(3)]
    assert [response.status_code for response in sends] == [202, 202, 409]
    assert sends[2].json()["code"] == "too_many_manual_sends"
    retry = tenant.client.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{sends[0].json()['id']}/retry")
    assert (retry.status_code, retry.json()["code"]) == (409, "too_many_manual_sends")
    assert other.client.post(f"/v1/webhooks/{other_endpoint['id']}/test", {}, format="json").status_code == 202
