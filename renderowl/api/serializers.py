"""Serializer building blocks shared by every app."""

from datetime import datetime, timedelta
from functools import cached_property

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import RegexValidator
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

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
            and value.utcoffset() == timedelta(0)
            and "timezone" not in self.__dict__
            and settings.TIME_ZONE == "UTC"
            and str(getattr(self, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
        ):
            text = value.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return super().to_representation(value)


class ModelSerializer(serializers.ModelSerializer):
    """The API's ModelSerializer: DRF's output, with less machinery per row (a page serializes 100).

    Model datetimes go through UtcDateTimeField, and a field whose source is a plain column of the model
    reads the attribute directly instead of through DRF's generic attribute walk; others are DRF's.
    """

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping, models.DateTimeField: UtcDateTimeField}

    @cached_property
    def _representation_plan(self):
        """[(field, attribute name or None)] for the readable fields, once per serializer (a list's child is one)."""
        model = self.Meta.model
        plan = []
        for field in self._readable_fields:
            attname = None
            if len(field.source_attrs) == 1:
                try:
                    model_field = model._meta.get_field(field.source_attrs[0])
                except FieldDoesNotExist:
                    model_field = None
                if model_field is not None and model_field.concrete and not model_field.is_relation:
                    attname = model_field.attname
            plan.append((field, attname))
        return plan

    def to_representation(self, instance):
        if not isinstance(instance, self.Meta.model):
            return super().to_representation(instance)
        representation = {}
        for field, attname in self._representation_plan:
            if attname is not None:
                attribute = getattr(instance, attname)
            else:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            representation[field.field_name] = None if check_for_none is None else field.to_representation(attribute)
        return representation

