"""OpenAPI: the webhook event envelope, one component per resource, derived from the event-type registry.

No operation returns an event (they arrive at the customer's receiver), so without this hook the
envelope would be missing from openapi.json and from the SDKs generated from it.
"""

from events.registry import event_types

ENVELOPE_DESCRIPTION = (
    "The body of a webhook delivery: `data.object` is the resource as it was when the event was recorded "
    "(its GET fields, never a signed URL). Deduplicate by `id`."
)


def event_component_name(payload):
    return f"{payload}Event"


def envelope_schema(payload, type_names):
    return {
        "type": "object",
        "description": f"The events whose `data.object` is a {payload}: {', '.join(type_names)}.",
        "properties": {
            "id": {"type": "string", "description": "evt_…; the same on every attempt and retry."},
            "type": {"type": "string", "enum": type_names},
            "createdAt": {"type": "string", "format": "date-time"},
            "organizationId": {"type": "string", "format": "uuid"},
            "projectId": {"type": "string", "description": "The project whose webhookSecret signs the delivery."},
            "data": {
                "type": "object",
                "properties": {"object": {"$ref": f"#/components/schemas/{payload}"}},
                "required": ["object"],
            },
        },
        "required": ["id", "type", "createdAt", "organizationId", "projectId", "data"],
    }


def document_webhook_events(result, generator, request, public):
    """Postprocessing hook: `WebhookEvent` is a union of one envelope per resource an event can carry."""
    by_payload = {}
    for event_type in event_types().values():
        by_payload.setdefault(event_type.payload, []).append(event_type.name)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for payload, type_names in by_payload.items():
        schemas[event_component_name(payload)] = envelope_schema(payload, type_names)
    schemas["WebhookEvent"] = {
        "description": ENVELOPE_DESCRIPTION,
        "oneOf": [{"$ref": f"#/components/schemas/{event_component_name(payload)}"} for payload in by_payload],
    }
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result
