"""The Server-Sent Events parser (pure logic)."""

from renderowl_sdk._sse import parse_events


def test_events_comments_retry_and_multiline_data():
    lines = ["retry: 2000", "", ": keepalive", "", "id: 1-0", "data: {\"a\":", "data: 1}", "", "event: named",
             "data:x", "", "id: 3-0", "data: tail"]
    events = list(parse_events(lines))
    # The block cut off by the end of the stream ("tail", no blank line after it) is not an event.
    assert [(e.id, e.data, e.event) for e in events] == [("1-0", '{"a":\n1}', None), (None, "x", "named")]
