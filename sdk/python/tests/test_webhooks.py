"""Webhook endpoints and deliveries through the SDK, and verify_webhook against real deliveries."""

import base64
import hashlib
import hmac
import time

import pytest
from conftest import TEMPLATE, unique

from renderowl_sdk import ValidationError, WebhookEvent, WebhookVerificationError, verify_webhook
from renderowl_sdk.models import RenderJob, WebhookEndpoint


def wait_for_delivery(client, webhook_id, delivery_id, attempts=1):
    for _ in range(120):
        delivery = client.webhooks.get_delivery(webhook_id, delivery_id)
        if delivery.status != "pending" and delivery.attempt_count >= attempts:
            return delivery
        client._sleep(0.25)
    raise AssertionError(f"delivery {delivery_id} still pending")


def test_endpoint_crud_and_a_test_delivery_that_verifies(client, receiver):
    own = client.projects.create(name=unique("Hooks"))
    endpoint = client.webhooks.create(url=receiver.url + "/hook", description="SDK", events=["webhook.test"],
                                      project_ids=[own.id])
    assert endpoint.id.startswith("whe_") and endpoint.status == "active" and endpoint.project_ids == [own.id]
    assert client.webhooks.get(endpoint.id).url == receiver.url + "/hook"
    assert endpoint.id in [e.id for e in client.webhooks.list(limit=100)]
    assert client.webhooks.update(endpoint.id, description="SDK tests").description == "SDK tests"

    queued = client.webhooks.test(endpoint.id)
    assert queued.status == "pending" and queued.event_type == "webhook.test"
    received = receiver.next()
    event = verify_webhook(received["body"], received["headers"], own.webhook_secret)
    assert isinstance(event, WebhookEvent) and event.type == "webhook.test" and event.id == queued.event_id
    assert event.project_id == own.id
    assert isinstance(event.object, WebhookEndpoint) and event.object.id == endpoint.id

    delivered = wait_for_delivery(client, endpoint.id, queued.id)
    assert delivered.status == "succeeded" and delivered.attempts[0].response_status == 200
    assert delivered.payload.encode() == received["body"]
    assert [d.id for d in client.webhooks.deliveries(endpoint.id, status="succeeded")] == [queued.id]

    retried = client.webhooks.retry_delivery(endpoint.id, queued.id)
    assert retried.status == "pending"
    again = receiver.next()
    assert again["headers"]["webhook-id"] == received["headers"]["webhook-id"]
    assert verify_webhook(again["body"], again["headers"], own.webhook_secret).id == event.id
    assert wait_for_delivery(client, endpoint.id, queued.id, attempts=2).attempts[1].manual

    with pytest.raises(WebhookVerificationError, match="No signature"):
        verify_webhook(received["body"], received["headers"], "ab" * 32)

    client.webhooks.delete(endpoint.id)
    assert endpoint.id not in [e.id for e in client.webhooks.list(limit=100)]


def test_a_render_event_verifies_with_both_secrets_during_a_rotation(client, receiver):
    own = client.projects.create(name=unique("Rotation"))
    tpl = client.assets.upload(own.id, TEMPLATE, wait=True)
    endpoint = client.webhooks.create(url=receiver.url, events=["render.queued"], project_ids=[own.id])
    old_secret = own.webhook_secret
    new_secret = client.projects.rotate_webhook_secret(own.id).webhook_secret
    job = client.renders.submit(own.id, template_id=tpl.id, input_props={"title": "Hooked"},
                                output={"width": 320, "height": 180})
    received = receiver.next(event_type="render.queued")
    assert len(received["headers"]["webhook-signature"].split()) == 2
    for secret in (new_secret, old_secret, [old_secret, "00" * 32]):
        event = verify_webhook(received["body"], received["headers"], secret)
        assert isinstance(event.object, RenderJob) and event.object.id == job.id
    client.webhooks.delete(endpoint.id)


def test_registering_an_unknown_event_type_is_refused_before_sending(client):
    with pytest.raises(ValidationError) as caught:
        client.webhooks.create(url="https://example.com/hook", events=["render.exploded"])
    assert caught.value.errors[0]["field"] == "events[0]"


# Unit tests of the verification rules on a payload signed here, as the platform signs.

SECRET = "3a1a6814e5271fd8ad272929fe74c76fb27cf78af27b0a07b0338b40c1c7d3d7"
BODY = b'{"id":"evt_1","type":"asset.ready","createdAt":"2026-12-06T09:00:00Z","projectId":"prj_1","data":{"object":{"id":"ast_1","status":"ready"}}}'


def signed(body=BODY, secret=SECRET, timestamp=None, event_id="evt_1"):
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(bytes.fromhex(secret), f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {"Webhook-Id": event_id, "Webhook-Timestamp": str(timestamp),
            "Webhook-Signature": "v1," + base64.b64encode(digest).decode()}


def test_verify_accepts_renderowl_headers_and_a_whsec_key():
    headers = {key.replace("Webhook", "X-Renderowl"): value for key, value in signed().items()}
    whsec = "whsec_" + base64.b64encode(bytes.fromhex(SECRET)).decode()
    event = verify_webhook(BODY.decode(), headers, whsec)
    assert event.object.status == "ready" and event.created_at.year == 2026


def test_verify_rejects_an_old_or_future_timestamp():
    now = 1_800_000_000
    assert verify_webhook(BODY, signed(timestamp=now - 300), SECRET, now=now).id == "evt_1"
    for timestamp in (now - 301, now + 301):
        with pytest.raises(WebhookVerificationError, match="timestamp"):
            verify_webhook(BODY, signed(timestamp=timestamp), SECRET, now=now)


def test_verify_rejects_a_tampered_body_a_missing_header_and_a_bad_secret():
    headers = signed()
    with pytest.raises(WebhookVerificationError, match="No signature"):
        verify_webhook(BODY.replace(b"ready", b"faild"), headers, SECRET)
    with pytest.raises(WebhookVerificationError, match="Missing header webhook-signature"):
        verify_webhook(BODY, {k: v for k, v in headers.items() if k != "Webhook-Signature"}, SECRET)
    with pytest.raises(WebhookVerificationError, match="secret"):
        verify_webhook(BODY, headers, "not-hex")
    with pytest.raises(WebhookVerificationError, match="No secret"):
        verify_webhook(BODY, headers, None)  # e.g. PROJECT_SECRETS.get() of an unknown project
    with pytest.raises(WebhookVerificationError, match="No signature"):
        verify_webhook(BODY, {**headers, "Webhook-Signature": "v2,abc v1,!!!"}, SECRET)


def test_verify_refuses_a_parsed_body_or_a_non_text_secret_with_a_verification_error():
    headers = signed()
    for parsed in ({"id": "evt_1"}, ["evt_1"], 5):  # request.json instead of the raw body
        with pytest.raises(WebhookVerificationError, match="raw body"):
            verify_webhook(parsed, headers, SECRET)
    with pytest.raises(WebhookVerificationError, match="secret"):
        verify_webhook(BODY, headers, SECRET.encode())
