"""End to end through real Celery workers: commit → publish → fan-out → signed delivery, and crashes."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import quote

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connections
from django.utils import timezone
from standardwebhooks import Webhook

from events.models import Event
from events.services import event_emit, events_sweep_unpublished
from renderowl.celery import app
from renderowl.tenancy import tenant_context
from tests.conftest import Tenant
from tests.webhooks.receiver import Receiver, Reply
from webhooks.delivery import UNFINISHED, deliveries_lease_due
from webhooks.models import Attempt, Delivery
from webhooks.signing import standard_webhooks_secret
from webhooks.tasks import queue_attempts


def emit(tenant, project_id, type, data):
    return event_emit(type=type, organization_id=tenant.id, project_id=project_id, data=data)

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


def wait_until(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def delivery_status(tenant, event_id):
    with tenant_context(tenant.id):
        return list(Delivery.objects.filter(event_id=event_id).values_list("status", "attempt_count"))


def register(tenant, url):
    assert tenant.client.post("/v1/webhooks", {"url": url}, format="json").status_code == 201


def test_an_event_committed_with_its_change_is_delivered_by_the_worker(loopback):
    tenant = Tenant("E2E")
    project = tenant.create_project(name="P")
    with Receiver() as receiver, start_worker(app, pool="solo", perform_ping_check=False, queues=["events", "webhooks"]):
        register(tenant, receiver.url)
        with tenant_context(tenant.id):
            event = emit(tenant, project["id"], "render.completed", {"id": "rnd_1"})
        (request,) = receiver.wait_for(1)
        wait_until(lambda: delivery_status(tenant, event.id) == [("succeeded", 1)])
    verified = Webhook(standard_webhooks_secret(project["webhookSecret"])).verify(
        request.body, {k.lower(): v for k, v in request.headers.items()}
    )
    assert (verified["id"], verified["type"], verified["data"]["object"]) == (event.id, "render.completed", {"id": "rnd_1"})


def test_an_event_whose_publish_was_lost_is_swept_up_and_delivered(loopback):
    tenant = Tenant("Sweep")
    project = tenant.create_project(name="P")
    with Receiver() as receiver:
        register(tenant, receiver.url)
        with tenant_context(tenant.id):
            event = emit(tenant, project["id"], "asset.ready", {})
        # Redis restarts without persistence before any worker takes the message: it is gone.
        with app.connection_for_write() as connection:
            assert connection.default_channel.queue_purge("events") >= 1
        with tenant_context(tenant.id):
            assert Event.objects.get(pk=event.id).published_at is None
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["events", "webhooks"]):
            # The broker took it, so it is probably still queued: the sweep leaves it alone for a while.
            republish_after = timedelta(seconds=settings.EVENTS_REPUBLISH_AFTER_SECONDS)
            assert events_sweep_unpublished(now=timezone.now() + republish_after / 2) == 0
            assert events_sweep_unpublished(now=timezone.now() + republish_after + timedelta(seconds=1)) == 1
            receiver.wait_for(1)
            wait_until(lambda: delivery_status(tenant, event.id) == [("succeeded", 1)])


def database_url_for_tests():
    owner = connections["owner"].settings_dict
    auth = quote(owner["USER"]) + (f":{quote(owner['PASSWORD'])}" if owner["PASSWORD"] else "")
    if owner["HOST"].startswith("/"):
        return f"postgresql://{auth}@/{owner['NAME']}?host={owner['HOST']}"
    return f"postgresql://{auth}@{owner['HOST']}:{owner['PORT'] or 5432}/{owner['NAME']}"


def start_worker_process():
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "DJANGO_ENV": "test",
        "WEBHOOKS_ALLOW_LOOPBACK": "true",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "renderowl", "worker", "-Q", "events,webhooks", "-P", "solo", "-c", "1",
         "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
        env=env,
        cwd=settings.BASE_DIR,
    )


def test_a_worker_killed_mid_attempt_loses_no_delivery(loopback):
    tenant = Tenant("Crash")
    project = tenant.create_project(name="P")
    with Receiver(Reply(delay=30), default=Reply(status=200)) as receiver:
        register(tenant, receiver.url)
        worker = start_worker_process()
        try:
            with tenant_context(tenant.id):
                event = emit(tenant, project["id"], "render.failed", {})
            receiver.wait_for(1, timeout=60)  # the worker is now inside the attempt
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
        # The killed attempt is counted and logged as unfinished; the delivery stays pending.
        assert delivery_status(tenant, event.id) == [("pending", 1)]

        # Once the lease runs out, the dispatcher hands the delivery to a live worker.
        assert deliveries_lease_due(now=timezone.now()) == []
        leased = deliveries_lease_due(now=timezone.now() + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS + 1))
        assert [delivery_id for delivery_id, _, _ in leased] == [d for d, in Delivery.objects.using("owner").values_list("id")]
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["events", "webhooks"]):
            queue_attempts(leased)
            second = receiver.wait_for(2)[1]
            wait_until(lambda: delivery_status(tenant, event.id) == [("succeeded", 2)])
    assert second.headers["X-Renderowl-Id"] == event.id
    with tenant_context(tenant.id):
        errors = list(Attempt.objects.filter(delivery__event_id=event.id).values_list("error", flat=True))
    assert errors == [UNFINISHED, ""]


def test_the_sweep_backs_off_and_gives_up_on_an_event_it_cannot_publish(caplog):
    tenant = Tenant("Stuck")
    project = tenant.create_project(name="P")
    with tenant_context(tenant.id):
        event = emit(tenant, project["id"], "asset.ready", {})
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("events")  # no worker will ever fan it out
    start = timezone.now() + timedelta(seconds=settings.EVENTS_REPUBLISH_AFTER_SECONDS + 1)
    published = []
    for minute in range(0, 3 * 24 * 60, 7):
        published.append(events_sweep_unpublished(now=start + timedelta(minutes=minute)))
    assert sum(published) == settings.EVENTS_MAX_REPUBLISH_ATTEMPTS
    minutes = [index * 7 for index, count in enumerate(published) if count]
    gaps = [later - earlier for earlier, later in zip(minutes, minutes[1:])]
    assert gaps[-1] > gaps[0] and minutes[-1] >= 4 * 60  # exponential backoff: the tenth try comes hours later
    event = Event.objects.using("owner").get(pk=event.id)
    assert (event.publish_attempts, event.next_publish_at) == (settings.EVENTS_MAX_REPUBLISH_ATTEMPTS, None)
    (gave_up,) = [record for record in caplog.records if record.levelname == "ERROR"]
    assert gave_up.event_id == event.id and "gave up" in gave_up.getMessage()
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("events")
