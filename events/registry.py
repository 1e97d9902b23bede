"""The one registry of event types and of the subscribers events are handed to.

Each app registers its own types from its `AppConfig.ready()`; choices, endpoint filters, OpenAPI
enums and the docs' list of types all derive from here, so adding a type needs no migration.
Subscribers (webhook fan-out today, automations later) are called with each committed event.
"""

from dataclasses import dataclass
from functools import cache

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    payload: str  # what `data.object` holds: the OpenAPI component of the resource
    serializer: str  # dotted path of the API serializer that renders `data.object`

    @property
    def resource(self):
        return self.name.split(".")[0]


_types: dict[str, EventType] = {}
_subscribers: dict[str, object] = {}


def event_types_register(*types):
    """Add event types; registering the same type twice (a reloaded app) is harmless."""
    for event_type in types:
        existing = _types.get(event_type.name)
        if existing is not None and existing != event_type:
            raise ValueError(f"Event type {event_type.name!r} is registered twice with different definitions.")
        _types[event_type.name] = event_type


def event_types():
    """Every registered event type by name, in registration order (the apps' order)."""
    return dict(_types)


def event_type_get(name):
    try:
        return _types[name]
    except KeyError:
        raise ValueError(f"Unknown event type {name!r}; register it in its app's ready() first.") from None


def event_filter_choices():
    """The exact types, then a `<resource>.*` wildcard per resource: what an endpoint may filter on."""
    return [*_types, *event_wildcards()]


def event_wildcards():
    return sorted({f"{event_type.resource}.*" for event_type in _types.values()})


def event_filter_is_valid(pattern):
    """An exact event type or a `<resource>.*` wildcard."""
    return pattern in _types or pattern in event_wildcards()


def event_matches(filters, event_type):
    """Whether a subscriber with `filters` (empty means every event) takes `event_type`."""
    if not filters:
        return True
    return event_type in filters or f"{event_type.split('.')[0]}.*" in filters


@cache
def event_serializer(serializer_path):
    return import_string(serializer_path)


def event_subscribe(name, handler):
    """Hand committed events to `handler(events=[…], now=…)`, inside the transaction that marks them dispatched.

    `events` are one organization's, in order; a dispatch takes several at once when they wait together.
    A handler must be idempotent per event (it may see an event again after a crash) and must not
    reach the network: it records work (deliveries, runs) and queues it on commit.
    """
    _subscribers[name] = handler


def event_subscribers():
    return list(_subscribers.values())
