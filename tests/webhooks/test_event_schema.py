"""openapi.json documents the webhook event envelope (WebhookEvent), derived from the event-type registry."""

import json
from pathlib import Path

from django.conf import settings
from jsonschema import Draft202012Validator

from events.registry import event_types

SCHEMA = json.loads((Path(settings.BASE_DIR) / "openapi.json").read_text())


def webhook_event_validator():
    return Draft202012Validator({"$ref": "#/components/schemas/WebhookEvent", "components": SCHEMA["components"]})


def test_every_registered_event_type_has_exactly_one_envelope():
    schemas = SCHEMA["components"]["schemas"]
    documented = [
        name
        for ref in schemas["WebhookEvent"]["oneOf"]
        for name in schemas[ref["$ref"].rsplit("/", 1)[1]]["properties"]["type"]["enum"]
    ]

    assert sorted(documented) == sorted(event_types())


def test_a_sent_test_event_matches_the_documented_envelope(tenant, receiver):
    project = tenant.create_project(name="P")
    endpoint = tenant.client.post("/v1/webhooks", {"url": receiver.url, "projectIds": [project["id"]]}, format="json")

    delivery = tenant.client.post(f"/v1/webhooks/{endpoint.json()['id']}/test", {}, format="json").json()
    event = json.loads(delivery["payload"])

    assert list(webhook_event_validator().iter_errors(event)) == []
    event["data"]["object"] = {"id": "not an endpoint"}
    assert list(webhook_event_validator().iter_errors(event)) != []
