"""GET /v1/renders/{id}/events inside the web process's handler (renderowl.serving, driven over ASGI in the test).

Here the settings can change per test: a stream's time limit, its client leaving, the organization's limit,
and the refusals that come before any stream.
"""

import json
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.db import connections

from renderowl.redis import get_redis
from renderowl.serving import RenderowlASGIHandler
from renders.tasks import render_next_task
from tests.conftest import Tenant
from tests.renderowl.test_serving import ANSWER_TIMEOUT_SECONDS, scope
from tests.renders.test_events_stream import queued_render

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


@asynccontextmanager
async def serving():
    """The web process's handler with one request thread, whose database connections are closed afterwards."""
    handler = RenderowlASGIHandler(threads=1)
    try:
        yield handler
    finally:
        handler.request_threads.submit(connections.close_all).result()
        handler.request_threads.shutdown()


def events_scope(tenant, render_id):
    return scope("GET", f"/v1/renders/{render_id}/events", {"authorization": f"Bearer {tenant.issued.raw_key}"})


async def open_stream(handler, tenant, render_id):
    """(communicator, status, the first body message's bytes)."""
    communicator = ApplicationCommunicator(handler, events_scope(tenant, render_id))
    start = await communicator.receive_output(ANSWER_TIMEOUT_SECONDS)
    first = await communicator.receive_output(ANSWER_TIMEOUT_SECONDS)
    return communicator, start["status"], first.get("body", b"")


async def read_to_end(communicator):
    body = b""
    while True:
        message = await communicator.receive_output(ANSWER_TIMEOUT_SECONDS)
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body


def data_lines(body):
    return [json.loads(line[len(b"data: "):]) for line in body.split(b"\n") if line.startswith(b"data: ")]


def test_a_stream_sends_what_the_feed_receives_until_the_final_state():
    tenant = Tenant("Follower")
    job = queued_render(tenant)

    @async_to_sync
    async def stream():
        async with serving() as handler:
            communicator, status, first = await open_stream(handler, tenant, job["id"])
            cancelled = await sync_to_async(tenant.client.delete)(f"/v1/renders/{job['id']}")
            body = first + await read_to_end(communicator)
            await communicator.wait(ANSWER_TIMEOUT_SECONDS)
            return status, cancelled.status_code, body

    status, cancelled, body = stream()
    assert (status, cancelled) == (200, 200)
    assert [job["status"] for job in data_lines(body)] == ["queued", "cancelled"]


def test_a_completed_renders_stream_signs_its_output_as_it_sends_it():
    tenant = Tenant("Downloader")
    job = queued_render(tenant)
    assert render_next_task() == "completed"  # the renderer takes the one queued job

    @async_to_sync
    async def stream():
        async with serving() as handler:
            communicator, status, first = await open_stream(handler, tenant, job["id"])
            body = first + await read_to_end(communicator)
            await communicator.wait(ANSWER_TIMEOUT_SECONDS)
            return body

    (completed,) = data_lines(stream())
    assert completed["status"] == "completed" and completed["outputUrlExpiresAt"]
    download = tenant.client.get(urlsplit(completed["outputUrl"]).path)
    assert download.status_code == 200
    assert len(b"".join(download.streaming_content)) == completed["outputSize"]


def test_a_stream_ends_after_render_events_max_seconds_without_a_final_state(settings):
    settings.RENDER_EVENTS_MAX_SECONDS = 0.6
    settings.RENDER_EVENTS_KEEPALIVE_SECONDS = 0.2
    tenant = Tenant("Limited")
    job = queued_render(tenant)

    @async_to_sync
    async def stream():
        async with serving() as handler:
            communicator, status, first = await open_stream(handler, tenant, job["id"])
            body = first + await read_to_end(communicator)
            await communicator.wait(ANSWER_TIMEOUT_SECONDS)
            return status, body

    status, body = stream()
    assert status == 200
    assert [job["status"] for job in data_lines(body)] == ["queued"]
    assert b": keepalive\n\n" in body  # idle until its time ran out: the client reconnects with Last-Event-ID


def test_a_client_that_leaves_frees_its_organizations_stream_slot(settings):
    settings.RENDER_EVENTS_PER_ORGANIZATION = 1
    tenant = Tenant("One at a time")
    job = queued_render(tenant)

    @async_to_sync
    async def streams():
        async with serving() as handler:
            first, first_status, _ = await open_stream(handler, tenant, job["id"])
            refused = ApplicationCommunicator(handler, events_scope(tenant, job["id"]))
            refused_start = await refused.receive_output(ANSWER_TIMEOUT_SECONDS)
            refused_body = await read_to_end(refused)
            await first.send_input({"type": "http.disconnect"})
            await first.wait(ANSWER_TIMEOUT_SECONDS)
            left_by_itself = not first.future.cancelled()  # wait() cancels an application still running
            again, again_status, _ = await open_stream(handler, tenant, job["id"])
            await again.send_input({"type": "http.disconnect"})
            await again.wait(ANSWER_TIMEOUT_SECONDS)
            return first_status, left_by_itself, refused_start, refused_body, again_status

    first_status, left_by_itself, refused_start, refused_body, again_status = streams()
    assert first_status == 200
    assert left_by_itself  # the stream stopped when its client left, not at its time limit
    assert refused_start["status"] == 429
    assert dict(refused_start["headers"])[b"Retry-After"] == b"2"
    assert json.loads(refused_body)["code"] == "too_many_event_streams"
    assert again_status == 200


def test_a_malformed_last_event_id_is_400(tenant):
    job = queued_render(tenant)
    response = tenant.client.get(f"/v1/renders/{job['id']}/events", HTTP_LAST_EVENT_ID="evt_1")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_last_event_id"
    assert body["errors"] == [{"field": "Last-Event-ID", "message": body["detail"]}]


def test_head_answers_the_streams_headers_without_opening_it(tenant):
    job = queued_render(tenant)
    response = tenant.client.head(f"/v1/renders/{job['id']}/events")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response.content == b""


def test_without_redis_the_stream_is_503_and_polling_still_answers(tenant, settings):
    job = queued_render(tenant)
    get_redis.cache_clear()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    try:
        response = tenant.client.get(f"/v1/renders/{job['id']}/events")
        assert response.status_code == 503
        assert response.json()["code"] == "events_unavailable"
        assert response["Retry-After"] == "2"
        assert tenant.client.get(f"/v1/renders/{job['id']}").status_code == 200
    finally:
        get_redis.cache_clear()
