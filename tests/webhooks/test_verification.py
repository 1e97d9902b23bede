"""The receiver-side verification helper: pure logic, checked against our own signer."""

import json
import time

import pytest

from webhooks.signing import delivery_headers, sign
from webhooks.verification import WebhookVerificationError, verify_webhook

SECRET = "ab" * 32
OTHER = "cd" * 32
BODY = json.dumps({"id": "evt_1", "type": "render.completed"}).encode()


def headers(timestamp=None, secrets=(SECRET,)):
    return delivery_headers(
        event_id="evt_1", event_type="render.completed", project_id="prj_1",
        secrets=list(secrets), timestamp=int(timestamp or time.time()), body=BODY,
    )


def test_a_genuine_fresh_delivery_verifies():
    assert verify_webhook(BODY, headers(), secret=SECRET)["id"] == "evt_1"
    assert verify_webhook(BODY.decode(), headers(), secret=SECRET)["type"] == "render.completed"


def test_standard_webhooks_header_names_alone_verify():
    standard = {k: v for k, v in headers().items() if k.startswith("webhook-")}
    assert verify_webhook(BODY, standard, secret=SECRET)["id"] == "evt_1"


def test_either_secret_verifies_during_a_rotation():
    rotating = headers(secrets=(OTHER, SECRET))
    assert verify_webhook(BODY, rotating, secret=SECRET)
    assert verify_webhook(BODY, rotating, secret=OTHER)


@pytest.mark.parametrize("skew", [-301, 301])
def test_timestamps_more_than_five_minutes_off_are_rejected(skew):
    now = time.time()
    with pytest.raises(WebhookVerificationError, match="too far"):
        verify_webhook(BODY, headers(timestamp=now + skew), secret=SECRET, now=now)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h: {k: v for k, v in h.items() if "signature" not in k.lower()},
        lambda h: {k: v for k, v in h.items() if "timestamp" not in k.lower()},
        lambda h: {**h, "X-Renderowl-Timestamp": "yesterday"},
        lambda h: {**h, "X-Renderowl-Signature": "v1,%%%not-base64%%%"},
        lambda h: {**h, "X-Renderowl-Signature": "v2," + h["X-Renderowl-Signature"].split(",")[1]},
        lambda h: {**h, "X-Renderowl-Signature": sign(secret=OTHER, event_id="evt_1", timestamp=h["webhook-timestamp"], body=BODY)},
        lambda h: {**h, "X-Renderowl-Id": "evt_2"},
        lambda h: {},
    ],
)
def test_malformed_or_forged_headers_raise_only_the_helpers_error(mangle):
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, mangle(headers()), secret=SECRET)


def test_a_tampered_body_or_wrong_secret_is_rejected():
    with pytest.raises(WebhookVerificationError, match="No signature"):
        verify_webhook(BODY + b" ", headers(), secret=SECRET)
    with pytest.raises(WebhookVerificationError, match="No signature"):
        verify_webhook(BODY, headers(), secret=OTHER)
    with pytest.raises(WebhookVerificationError, match="Malformed"):
        verify_webhook(BODY, headers(), secret="not-hex")


def test_a_signed_body_that_is_not_json_is_rejected():
    h = delivery_headers(event_id="e", event_type="t", project_id="p", secrets=[SECRET], timestamp=int(time.time()), body=b"<xml/>")
    with pytest.raises(WebhookVerificationError, match="not JSON"):
        verify_webhook(b"<xml/>", h, secret=SECRET)
