"""A Server-Sent Events parser over an iterator of lines (the WHATWG event stream format)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass
class ServerSentEvent:
    data: str
    id: str | None = None
    event: str | None = None
    retry: int | None = None


def parse_events(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Yield one event per blank-line-terminated block that has data or an id. Comments (`: keepalive`) are
    skipped, and so is a block the stream ended in the middle of (its JSON would be cut)."""
    data: list[str] = []
    event_id = event = retry = None
    for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            if data or event_id is not None:  # a block of only `retry:` dispatches nothing
                yield ServerSentEvent(data="\n".join(data), id=event_id, event=event, retry=retry)
            data, event_id, event, retry = [], None, None, None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "id":
            event_id = value
        elif name == "event":
            event = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
