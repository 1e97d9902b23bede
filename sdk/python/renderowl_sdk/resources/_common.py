"""What every resource shares: the client, and how optional arguments become a request body."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._client import Renderowl


class NotGiven:
    """An argument left out (as opposed to None): it is not sent at all."""

    def __repr__(self):
        return "NOT_GIVEN"

    def __bool__(self):
        return False


NOT_GIVEN: Any = NotGiven()


def body(**fields: Any) -> dict[str, Any]:
    """The fields that were given, under their camelCase names (the keyword names are snake_case)."""
    return {camel(name): value for name, value in fields.items() if value is not NOT_GIVEN}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Resource:
    def __init__(self, client: Renderowl):
        self._client = client
