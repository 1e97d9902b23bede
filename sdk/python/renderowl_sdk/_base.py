"""The base of the generated models: lenient decoding from the API's camelCase JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True)
class Field:
    """How one attribute is read from the wire: its camelCase name and how to decode the value."""

    attr: str
    wire: str
    kind: str = "plain"  # plain | datetime | model | list_model
    model: str | None = None


def parse_datetime(value: Any) -> Any:
    """An ISO 8601 timestamp as an aware datetime; anything unparseable is kept as it came."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return value


class Model:
    """A response object. Unknown fields are kept in `extra`, never refused: a newer server must not break
    an older client. `to_dict()` gives back the JSON exactly as the API sent it."""

    _fields: ClassVar[tuple[Field, ...]] = ()
    _registry: ClassVar[dict[str, type[Model]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Model._registry[cls.__name__] = cls

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]):
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__} expects a JSON object, got {type(data).__name__}")
        values = {}
        for field in cls._fields:
            if field.wire in data:
                values[field.attr] = _decode(field, data[field.wire])
        instance = cls(**values)
        known = {field.wire for field in cls._fields}
        object.__setattr__(instance, "_raw", dict(data))
        object.__setattr__(instance, "extra", {key: value for key, value in data.items() if key not in known})
        return instance

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON (camelCase), as the API sent it."""
        raw = getattr(self, "_raw", None)
        if raw is not None:
            return dict(raw)
        return {field.wire: _encode(getattr(self, field.attr)) for field in self._fields}


def _decode(field: Field, value: Any) -> Any:
    if value is None:
        return None
    if field.kind == "datetime":
        return parse_datetime(value)
    if field.kind == "model":
        return Model._registry[field.model].from_dict(value) if isinstance(value, Mapping) else value
    if field.kind == "list_model" and isinstance(value, list):
        model = Model._registry[field.model]
        return [model.from_dict(item) if isinstance(item, Mapping) else item for item in value]
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return [_encode(item) for item in value]
    return value
