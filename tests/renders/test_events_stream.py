"""GET /v1/renders/{id}/events: a render's states as Server-Sent Events, through the Procfile's real web server.

The server runs with one process of two request threads, short keepalive and reconcile intervals, and a
limit of STREAMS streams per organization; renders are run in the test's own process (the worker's
code), which publishes to the same Redis. Its database connections are named, so pg_stat_activity
shows what the server holds while streams are open.
"""

import http.client
import json
import time
from contextlib import ExitStack
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django.utils import timezone

from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from renders.tasks import render_next_task
from tests.conftest import Tenant
from tests.renderowl.test_slow_clients import CLIENT_TIMEOUT_SECONDS, database_url_for_tests, request, web_server
from tests.renders.conftest import upload_template
from tests.renders.test_api import SMALL, small_template

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)

STREAMS = 50
WEB_THREADS = 2
# Keepalives keep a stream that never ends from timing out: a test gives up on it after this long.
STREAM_DEADLINE_SECONDS = 10
APPLICATION_NAME = "renderowl-events-test"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """The web server, for the whole module: (port, storage root)."""
    root = tmp_path_factory.mktemp("events-server")
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    separator = "&" if "?" in database_url else "?"
    environment = {
        "DATABASE_URL": f"{database_url}{separator}application_name={APPLICATION_NAME}",
        "DJANGO_ENV": "test",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": str(WEB_THREADS),
        "ASSET_STORAGE_BACKEND": "local",
        "ASSET_STORAGE_ROOT": str(root / "storage"),
        "RENDER_EVENTS_KEEPALIVE_SECONDS": "0.5",
        "RENDER_EVENTS_RECONCILE_SECONDS": "1",
        "RENDER_EVENTS_MAX_SECONDS": str(3 * STREAM_DEADLINE_SECONDS),
        "RENDER_EVENTS_PER_ORGANIZATION": str(STREAMS),
    }
    with web_server(root / "server.log", environment) as port:
        yield port, root / "storage"


@pytest.fixture(autouse=True)
def asset_storage(settings, server):
    """The test stores assets and outputs where the server reads them."""
    settings.ASSET_STORAGE_BACKEND = "local"
    settings.ASSET_STORAGE_ROOT = server[1]


@pytest.fixture
def port(server):
    return server[0]


class EventStream:
    """An open GET /v1/renders/{id}/events, read event by event as a browser's EventSource would."""

    def __init__(self, port, tenant, render_id, *, last_event_id=None):
        headers = {"Authorization": f"Bearer {tenant.issued.raw_key}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT_SECONDS)
        self.connection.request("GET", f"/v1/renders/{render_id}/events", headers=headers)
        self.response = self.connection.getresponse()
        self.comments = []
        self.retry = None
        self.deadline = time.monotonic() + STREAM_DEADLINE_SECONDS

    def next(self):
        """The next event as {"id", "data"}, or None once the server has ended the stream."""
        fields = {}
        while True:
            assert time.monotonic() < self.deadline, f"no end of the stream after {STREAM_DEADLINE_SECONDS} s"
            line = self.response.readline()
            if not line:
                assert not fields, f"the stream ended inside an event: {fields}"
                return None
            line = line.decode().rstrip("\n")
            if not line:
                if "data" in fields:
                    return {"id": fields.get("id"), "data": json.loads(fields["data"])}
                fields = {}
            elif line.startswith(":"):
                self.comments.append(line)
            else:
                name, _, value = line.partition(": ")
                if name == "retry":
                    self.retry = int(value)
                else:
                    fields[name] = value

    def rest(self):
        """Every event up to the end of the stream."""
        events = []
        while (event := self.next()) is not None:
            events.append(event)
        return events

    def close(self):
        self.connection.close()


def open_stream(port, tenant, render_id, **kwargs):
    stream = EventStream(port, tenant, render_id, **kwargs)
    assert stream.response.status == 200, stream.response.read()
    assert stream.response.headers["Content-Type"] == "text/event-stream"
    assert stream.response.headers["Cache-Control"] == "no-cache"
    return stream


def queued_render(tenant):
    project = tenant.create_project(name="Streams")
    template = upload_template(tenant, project["id"], small_template())
    response = tenant.client.post(
        f"/v1/projects/{project['id']}/renders", {"templateId": template["id"], "output": SMALL},
    )
    assert response.status_code == 201, response.content
    return response.json()


def without_signed_url(job):
    return {key: value for key, value in job.items() if key not in ("outputUrl", "outputUrlExpiresAt")}


def followed_render(port, tenant):
    """A render followed from queued to completed: (the job as submitted, every event of its stream)."""
    job = queued_render(tenant)
    stream = open_stream(port, tenant, job["id"])
    first = stream.next()
    assert stream.retry == 2000
    assert render_next_task() == "completed"  # the renderer takes the one queued job
    return job, [first, *stream.rest()]


def test_events_arrive_in_order_until_the_render_completes_and_the_stream_ends(port):
    tenant = Tenant("Streamer")
    job, events = followed_render(port, tenant)

    assert events[0]["data"] == {**job, "outputUrl": None, "outputUrlExpiresAt": None}  # the current state first
    statuses = [event["data"]["status"] for event in events]
    assert statuses[0] == "queued" and statuses[-1] == "completed"
    assert set(statuses[1:-1]) == {"rendering"} and len(statuses) >= 3
    assert events[1]["data"]["stage"] == "preparing"
    progress = [event["data"]["progress"] for event in events]
    assert progress == sorted(progress) and progress[-1] == 1.0
    ids = [tuple(map(int, event["id"].split("-"))) for event in events]
    assert ids == sorted(set(ids))
    assert all(event["data"]["outputUrl"] is None for event in events[:-1])

    # The final event is the job as GET shows it, with an outputUrl of its own that downloads the output.
    final = events[-1]["data"]
    current = tenant.client.get(f"/v1/renders/{job['id']}").json()
    assert without_signed_url(final) == without_signed_url(current)
    assert final["outputUrl"] and final["outputUrlExpiresAt"]
    status, _, body = request(port, "GET", urlsplit(final["outputUrl"]).path)
    assert status == 200 and len(body) == final["outputSize"]


def test_a_reconnect_with_last_event_id_gets_only_the_later_events(port):
    tenant = Tenant("Resumer")
    job, events = followed_render(port, tenant)

    resumed = open_stream(port, tenant, job["id"], last_event_id=events[1]["id"]).rest()
    assert [event["id"] for event in resumed] == [event["id"] for event in events[2:]]
    assert [without_signed_url(event["data"]) for event in resumed] == [
        without_signed_url(event["data"]) for event in events[2:]
    ]

    # An id from further back than the render's history reaches starts again from the current state.
    restarted = open_stream(port, tenant, job["id"], last_event_id="1-0").rest()
    assert [event["id"] for event in restarted] == [events[-1]["id"]]

    # Once the final event was received there is nothing more: 204 tells EventSource to stop reconnecting.
    status, _, body = request(port, "GET", f"/v1/renders/{job['id']}/events", headers={
        "Authorization": f"Bearer {tenant.issued.raw_key}", "Last-Event-ID": events[-1]["id"],
    })
    assert (status, body) == (204, b"")


def test_a_finished_jobs_stream_sends_its_final_state_and_ends(port):
    tenant = Tenant("Finished")
    job = queued_render(tenant)
    assert tenant.client.delete(f"/v1/renders/{job['id']}").status_code == 200

    events = open_stream(port, tenant, job["id"]).rest()
    assert [(event["data"]["status"], event["data"]["outputUrl"]) for event in events] == [("cancelled", None)]


def test_another_organizations_render_is_not_found(port):
    owner, other = Tenant("Owner"), Tenant("Other")
    job = queued_render(owner)
    status, headers, body = request(port, "GET", f"/v1/renders/{job['id']}/events", headers={
        "Authorization": f"Bearer {other.issued.raw_key}", "Accept": "text/event-stream",
    })
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["code"] == "not_found"


def test_a_state_whose_publication_was_lost_reaches_the_stream_from_the_database(port):
    tenant = Tenant("Lost")
    job = queued_render(tenant)
    stream = open_stream(port, tenant, job["id"])
    assert stream.next()["data"]["status"] == "queued"

    # Committed without render_event, as if the process died between the commit and its append to the feed.
    with tenant_context(tenant.id):
        RenderJob.objects.filter(pk=job["id"]).update(
            status=RenderJob.Status.CANCELLED, completed_at=timezone.now(), updated_at=timezone.now(),
        )
    events = stream.rest()
    assert [event["data"]["status"] for event in events] == ["cancelled"]
    assert stream.comments and set(stream.comments) == {": keepalive"}  # the idle stream was kept alive


def test_many_idle_streams_hold_no_request_thread_nor_database_connection(port):
    tenant, other = Tenant("Crowd"), Tenant("Other crowd")
    job = queued_render(tenant)
    auth = {"Authorization": f"Bearer {tenant.issued.raw_key}"}

    with ExitStack() as held:
        streams = []
        for _ in range(STREAMS):
            stream = open_stream(port, tenant, job["id"])
            held.callback(stream.close)
            assert stream.next()["data"]["status"] == "queued"
            streams.append(stream)

        # One more of this organization's is refused; another organization's is not.
        status, headers, body = request(port, "GET", f"/v1/renders/{job['id']}/events", headers=auth)
        assert (status, json.loads(body)["code"]) == (429, "too_many_event_streams")
        assert int(headers["Retry-After"]) >= 1
        other_job = queued_render(other)
        other_stream = open_stream(port, other, other_job["id"])
        held.callback(other_stream.close)

        # The two request threads answer everyone else meanwhile, many times over.
        for _ in range(10 * WEB_THREADS):
            status, _, body = request(port, "GET", f"/v1/renders/{job['id']}", headers=auth)
            assert status == 200, body

        # The server holds at most one connection per request thread and database role, and no transaction
        # stays open: streams hold none; what runs is requests and idle streams' brief reconciling reads.
        with connections["owner"].cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(*) FILTER (WHERE now() - xact_start > interval '1 second') "
                "FROM pg_stat_activity WHERE application_name = %s",
                [APPLICATION_NAME],
            )
            held, long_transactions = cursor.fetchone()
        assert 1 <= held <= 2 * WEB_THREADS
        assert long_transactions == 0

        # Every stream is live: the cancellation reaches all of them, and ends them.
        status, _, body = request(port, "DELETE", f"/v1/renders/{job['id']}", headers=auth)
        assert status == 200, body
        for stream in streams:
            assert [event["data"]["status"] for event in stream.rest()] == ["cancelled"]

    # Their slots are free again.
    stream = open_stream(port, tenant, job["id"])
    assert [event["data"]["status"] for event in stream.rest()] == ["cancelled"]
