"""The signed bytes of an event: its envelope, with `data.object` rendered as the API renders the resource."""

import json

from events.registry import event_serializer
from renderowl.api.renderers import camelize


def event_body(*, event, event_type, instance=None, data=None):
    """The envelope as compact camelCase JSON; `data.object` is `data`, or `instance` through the type's serializer."""
    if data is None:
        data = event_serializer(event_type.serializer)(instance).data
    return json.dumps(
        camelize(
            {
                "id": event.id,
                "type": event.type,
                "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
                "organization_id": str(event.organization_id),
                "project_id": event.project_id,
                "data": {"object": data},
            },
        ),
        separators=(",", ":"),
        default=str,
    )
