"""A hook call end to end through a real Celery worker: hook → run → render → the run completed with its render."""

import time
from urllib.parse import urlsplit

import pytest
from celery.contrib.testing.worker import start_worker
from rest_framework.test import APIClient

from renderowl.celery import app
from renderowl.redis import get_redis
from tests.automations.conftest import create_automation, template_document
from tests.conftest import Tenant
from tests.renders.conftest import upload_template

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)
QUEUES = ["automations", "events", "renders"]


def purge():
    """Drop what other tests left queued, and the marks saying a dispatch of events is queued (it is gone now)."""
    with app.connection_for_write() as connection:
        for queue in QUEUES:
            connection.default_channel.queue_purge(queue)
    redis = get_redis()
    for key in redis.scan_iter("events:dispatch-pending:*"):
        redis.delete(key)


def test_a_hook_call_is_rendered_by_the_workers_and_its_run_completes(asset_storage):
    tenant = Tenant("Worker")
    project = tenant.create_project(name="Hooks")
    template = upload_template(tenant, project["id"], template_document())
    automation = create_automation(tenant, project, template)
    purge()
    with start_worker(app, pool="solo", perform_ping_check=False, queues=QUEUES):
        response = APIClient().post(urlsplit(automation["hookUrl"]).path, b'{"name": "grace"}',
                                    content_type="application/json")
        assert response.status_code == 202, response.content
        deadline = time.monotonic() + 60
        while (run := tenant.client.get(f"/v1/automation-runs/{response.json()['runId']}").json())["status"] in (
            "pending", "rendering"
        ):
            assert time.monotonic() < deadline, f"the run is still {run['status']} after 60 s"
            time.sleep(0.1)
    purge()
    assert (run["status"], run["input"]) == ("completed", {"title": "GRACE"}), run
    job = tenant.client.get(f"/v1/renders/{run['renderId']}").json()
    assert (job["status"], job["automationRunId"]) == ("completed", run["id"])
