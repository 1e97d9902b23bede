"""Serializer building blocks shared by every app."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.signals import setting_changed
from django.core.validators import RegexValidator
from django.db import models
from django.dispatch import receiver
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from renderowl.api.renderers import PRESERVED_FIELDS, CamelCaseRows, camel_key, camelize
from renderowl.text import storable_text

METADATA_MAX_KEYS = 50
METADATA_MAX_KEY_LENGTH = 40
METADATA_MAX_VALUE_LENGTH = 500


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers and booleans instead of coercing them to text."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# ASCII whitespace, spelled out: Python's str.strip() and ECMA-262's \s disagree on the rest.
ASCII_WHITESPACE = " \t\n\r\x0b\x0c"
NOT_BLANK_PATTERN = "[^ \\t\\n\\r\\x0b\\x0c]"


class NonBlankCharField(StrictCharField):
    """A required-content string: ASCII whitespace is trimmed, and something must remain.

    Its OpenAPI pattern says exactly that, so clients and the server agree on what is blank.
    """

    def __init__(self, **kwargs):
        kwargs["trim_whitespace"] = False
        super().__init__(**kwargs)
        self.error_messages["blank"] = "Must contain something other than whitespace."
        self.validators.append(RegexValidator(NOT_BLANK_PATTERN, message=self.error_messages["blank"]))

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip(ASCII_WHITESPACE)
        if not value:
            self.fail("blank")
        return value


class BlankAsNullCharField(serializers.CharField):
    """A read-only string column whose empty value ("", the column's default) is written as null."""

    def to_representation(self, value):
        return super().to_representation(value) or None


class StrictIntegerField(serializers.IntegerField):
    """An integer field that takes JSON numbers only, not "12" or true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A boolean field that takes JSON true/false only, not "yes", 1 or "on"."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictRegexField(serializers.RegexField, StrictCharField):
    """A StrictCharField that must also match a pattern."""


class BoundedListField(serializers.ListField):
    """A list with a required `max_length`, checked before any item is: an oversized list costs one error.

    DRF's ListField validates every item and only then its length, so a 200,000-item list answered
    200,000 item errors. Use this for every list a request body may carry.
    """

    def __init__(self, *, max_length, **kwargs):
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not declare, so a typo is an error rather than silently ignored."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["The request body must be a JSON object."]})
        unknown = sorted(set(data) - {name for name, field in self.fields.items() if not field.read_only})
        if unknown:
            # Echoed back, so a name JSON output cannot carry (a lone surrogate) is shown escaped.
            raise serializers.ValidationError(
                {name if storable_text(name) else ascii(name): ["Unknown field."] for name in unknown}
            )
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": METADATA_MAX_KEYS,
        "propertyNames": {"minLength": 1, "maxLength": METADATA_MAX_KEY_LENGTH},
        "additionalProperties": {"type": "string", "maxLength": METADATA_MAX_VALUE_LENGTH},
        "description": f"Your own string map: at most {METADATA_MAX_KEYS} keys of 1-{METADATA_MAX_KEY_LENGTH} "
        f"characters, values up to {METADATA_MAX_VALUE_LENGTH}.",
    }
)
class MetadataField(serializers.DictField):
    """Customer-owned string map: at most 50 keys of up to 40 characters, values up to 500."""

    def __init__(self, **kwargs):
        super().__init__(child=StrictCharField(max_length=METADATA_MAX_VALUE_LENGTH, allow_blank=True), **kwargs)

    def to_internal_value(self, data):
        # Counted before the values are checked, so a map of 100,000 bad values is one error, not 100,000.
        if isinstance(data, dict) and len(data) > METADATA_MAX_KEYS:
            raise serializers.ValidationError(f"At most {METADATA_MAX_KEYS} keys.")
        value = super().to_internal_value(data)
        for key in value:
            if not 1 <= len(key) <= METADATA_MAX_KEY_LENGTH:
                raise serializers.ValidationError(f"Keys must be 1-{METADATA_MAX_KEY_LENGTH} characters long.")
            if not storable_text(key):
                raise serializers.ValidationError("Keys must not contain NUL or unpaired surrogate characters.")
        return value


class UtcDateTimeField(serializers.DateTimeField):
    """A DateTimeField that writes a UTC value as DRF does (ISO 8601, `Z`) without its per-value time zone lookup.

    With TIME_ZONE = "UTC" and no zone activated (the API activates none), DRF's conversion of each value
    to the current zone changes nothing but costs a context-local lookup: 200 of them on a page of 100 rows.
    """

    def to_representation(self, value):
        if (
            type(value) is datetime
            and value.utcoffset() == ZERO
            and "timezone" not in self.__dict__
            and settings.TIME_ZONE == "UTC"
            and str(getattr(self, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
        ):
            return utc_isoformat(value)
        return super().to_representation(value)


ZERO = timedelta(0)


def utc_isoformat(value):
    """A UTC datetime as DRF writes it: ISO 8601 with `Z` for `+00:00`."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# How a plan writes a value whose field is one of these DRF fields, unchanged in a subclass: the value itself
# when it already has the type the field would turn it into (DRF's str(), int(), float() or bool() of it is
# the value), else through the field. JSONField writes any value as it is.
_ANY = object()
_DATETIME = object()
_IDENTITY_TYPES = (
    (serializers.CharField, str),
    (serializers.IntegerField, int),
    (serializers.FloatField, float),
    (serializers.BooleanField, bool),
    (serializers.JSONField, _ANY),
)
_DATETIME_WRITERS = (serializers.DateTimeField.to_representation, UtcDateTimeField.to_representation)


def _kept_as_is(field):
    """The type of value `field` writes unchanged (`_ANY`: every value), `_DATETIME`, or None: ask the field."""
    writer = type(field).to_representation
    for drf_class, kept in _IDENTITY_TYPES:
        if writer is drf_class.to_representation:
            if drf_class is serializers.JSONField and field.binary:
                return None
            return kept
    if writer is serializers.ChoiceField.to_representation:
        # DRF maps str(value) back to its choice: the value itself only when every choice is a string.
        return str if all(type(choice) is str for choice in field.choices) else None
    if (
        writer in _DATETIME_WRITERS
        and "format" not in field.__dict__
        and "timezone" not in field.__dict__
        and str(api_settings.DATETIME_FORMAT).lower() == ISO_8601
        and settings.USE_TZ
        and settings.TIME_ZONE == "UTC"
    ):
        return _DATETIME
    return None


class PlannedField(NamedTuple):
    """One readable field of a serializer class: where its value comes from and how it is written."""

    key: str
    field: serializers.Field
    attname: str | None  # the model column it reads directly, when its source is one
    kept: object  # a type written unchanged, _ANY, _DATETIME or None (see _kept_as_is)
    method: str | None  # a SerializerMethodField's method, called on the serializer being rendered


@dataclass(frozen=True)
class RepresentationPlan:
    fields: tuple
    # Every field reads one column and needs nothing else of the instance: rows of .values(*columns) will do.
    columns: tuple | None
    # For such rows: (camelCase key, column, writer of the value as the renderer would send it), per field.
    wire_writers: tuple | None


# The Python type every value such a model column reads back as (`.values()` rows), when Django converts nothing on
# the way out. Not FloatField: DRF writes float(value), and a row built by hand may hold an int there.
_COLUMN_TYPES = (
    (models.BooleanField, bool),
    (models.CharField, str),
    (models.TextField, str),
    (models.IntegerField, int),
    # With USE_TZ, as _kept_as_is requires for _DATETIME: an aware datetime in UTC, the connection's time zone.
    (models.DateTimeField, datetime),
)


def _column_type(model_field):
    if model_field is None or hasattr(model_field, "from_db_value"):
        return None
    return next((kind for field_class, kind in _COLUMN_TYPES if isinstance(model_field, field_class)), None)


def _writes_string_map(field):
    """A DictField of DRF's CharField writing (MetadataField): a map of strings is written unchanged."""
    return (
        type(field).to_representation is serializers.DictField.to_representation
        and type(field.child).to_representation is serializers.CharField.to_representation
    )


def _wire_writer(planned, column_type=None):
    """A function writing one value of `planned` as `to_representation` and then the renderer's camelize would,
    or None where the column's value is already that (`camel_case_rows` copies it without a call).

    `column_type`: the type every non-null value of the column has (`_column_type`).
    """
    field, kept = planned.field, planned.kept
    # A customer's map keeps its keys; a scalar has none to re-case.
    keep_keys = planned.key in PRESERVED_FIELDS
    if (kept is _ANY and keep_keys) or (kept is not None and kept is column_type):
        return None
    if kept is _DATETIME and column_type is datetime:
        # The API's renderer writes a datetime of the column (UTC, read back by the C loader) as the field would.
        return None
    if keep_keys and _writes_string_map(field):

        def write_string_map(value):
            # Keys of stored JSON are strings; string values are what DRF's str() of each would make them.
            if type(value) is dict:
                for item in value.values():
                    if type(item) is not str:
                        return field.to_representation(value)
                return value
            return None if value is None else field.to_representation(value)

        return write_string_map
    if kept is _DATETIME:

        def write_datetime(value):
            if type(value) is datetime and value.utcoffset() == ZERO:
                return utc_isoformat(value)
            return None if value is None else field.to_representation(value)

        return write_datetime

    def write(value):
        if value is None:
            return None
        if kept is _ANY or type(value) is kept:
            written = value
        else:
            written = field.to_representation(value)
        return written if keep_keys or not isinstance(written, (dict, list, tuple)) else camelize(written)

    return write


_plans = {}


@receiver(setting_changed)
def _forget_plans(*, setting, **kwargs):
    """A plan decides from settings (time zone, datetime format) how to write datetimes."""
    if setting in {"TIME_ZONE", "USE_TZ", "REST_FRAMEWORK"}:
        _plans.clear()


class ModelSerializer(serializers.ModelSerializer):
    # No docstring: drf-spectacular would publish it as the description of every subclass that has none.
    #
    # The API's ModelSerializer: DRF's output, with less machinery per row (a page serializes 100). DRF builds
    # a serializer's fields on every instance (each retrieve, each page), then walks each value through its
    # field. Here the fields are built once per class (`representation_plan`), a field whose source is a column
    # of the model reads it directly, and a value that already is what its field would write (a str for a
    # CharField, a UTC datetime for a DateTimeField) is written without a call. The output is DRF's, byte for
    # byte (tests/renderowl/test_serializers.py); anything else goes through the field. So a readable field must
    # not depend on the serializer's context (none of the API's do); a SerializerMethodField's method is called
    # on the serializer being rendered, with its context.

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping, models.DateTimeField: UtcDateTimeField}

    @classmethod
    def representation_plan(cls):
        """The class's readable fields, built once from a serializer of the class with no instance or context."""
        plan = _plans.get(cls)
        if plan is None:
            plan = _plans[cls] = cls._build_plan()
        return plan

    @classmethod
    def _build_plan(cls):
        model = cls.Meta.model
        planned, column_types = [], {}
        for field in cls()._readable_fields:
            attname = None
            if len(field.source_attrs) == 1:
                try:
                    model_field = model._meta.get_field(field.source_attrs[0])
                except FieldDoesNotExist:
                    model_field = None
                # A foreign key is a column only under its attname (project_id), its value the raw key.
                if (
                    model_field is not None
                    and model_field.concrete
                    and (not model_field.is_relation or field.source_attrs[0] == model_field.attname)
                ):
                    attname = model_field.attname
                    column_types[field.field_name] = _column_type(model_field)
            method = field.method_name if isinstance(field, serializers.SerializerMethodField) else None
            planned.append(PlannedField(field.field_name, field, attname, _kept_as_is(field), method))
        instance_free = all(item.attname is not None for item in planned) and (
            cls.to_representation is ModelSerializer.to_representation
        )
        columns = tuple(item.attname for item in planned) if instance_free else None
        wire_writers = tuple(
            (camel_key(item.key), item.attname, _wire_writer(item, column_types.get(item.key))) for item in planned
        )
        return RepresentationPlan(fields=tuple(planned), columns=columns, wire_writers=wire_writers if columns else None)

    @classmethod
    def row_columns(cls):
        """The columns whose `.values()` rows this serializer writes as it writes instances, or None if it needs instances."""
        return cls.representation_plan().columns

    @classmethod
    def camel_case_rows(cls, rows):
        """Rows of `.values(*row_columns())` as the API sends them, in one pass: what the renderer would make of
        `cls(rows, many=True).data`, without the snake_case dicts it would re-key one by one."""
        writers = cls.representation_plan().wire_writers
        return CamelCaseRows([
            {key: row[column] if write is None else write(row[column]) for key, column, write in writers} for row in rows
        ])

    def to_representation(self, instance):
        is_row = type(instance) is dict
        if not is_row and not isinstance(instance, self.Meta.model):
            return super().to_representation(instance)
        representation = {}
        for key, field, attname, kept, method in self.representation_plan().fields:
            if method is not None:
                representation[key] = getattr(self, method)(instance)
                continue
            if attname is None or (is_row and attname not in instance):
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
                if isinstance(value, PKOnlyObject) and value.pk is None:
                    value = None
            else:
                value = instance[attname] if is_row else getattr(instance, attname)
            if value is None:
                representation[key] = None
            elif kept is _ANY or type(value) is kept:
                representation[key] = value
            elif kept is _DATETIME and type(value) is datetime and value.utcoffset() == ZERO:
                representation[key] = utc_isoformat(value)
            else:
                representation[key] = field.to_representation(value)
        return representation
