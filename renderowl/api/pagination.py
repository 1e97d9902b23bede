"""Keyset (cursor) pagination over (sort key, id): every page costs what the first one costs.

The cursor is opaque to clients: base64url JSON of the sort and the last row's key and id, signed
with an HMAC keyed from SECRET_KEY. A cursor the server did not issue is refused before it is
decoded, so a forged one can never reach json.loads or a query (a lone surrogate, an offset
PostgreSQL refuses, brackets nested a thousand deep were all 500s).
"""

import base64
import binascii
import json
import re
from datetime import datetime

from django.core import signing
from django.db.models import BooleanField, DateTimeField
from django.db.models.expressions import RawSQL
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from renderowl.api.errors import InvalidRequest

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
PAGINATION_PARAMS = ("limit", "cursor", "sort")
# Signed cursors are base64url payload, ".", base64url signature; issued ones are far shorter than this.
CURSOR_PATTERN = re.compile(r"[A-Za-z0-9_\-]{1,4000}\.[A-Za-z0-9_\-]{20,100}")


def cursor_signer():
    """Signs with SECRET_KEY and still accepts cursors signed with SECRET_KEY_FALLBACKS during a rotation."""
    return signing.Signer(salt="renderowl.api.pagination.cursor", sep=".")


def invalid_cursor():
    return InvalidRequest(
        "cursor is not one this API issued; pass nextCursor from the previous page unchanged.",
        code="invalid_cursor",
        field="cursor",
    )


class KeysetPagination(BasePagination):
    """Paginates by one of the view's `sort_fields` (wire name -> model field), ties broken by id."""

    def paginate_queryset(self, queryset, request, view=None):
        rows, self.has_more, self.next_cursor = self.for_view(view).paginate(queryset, request.query_params)
        return rows

    def for_view(self, view):
        """This paginator with the sorts of `view` (a viewset, or its class)."""
        self.sort_fields = view.sort_fields
        self.default_sort = view.default_sort
        return self

    def get_paginated_response(self, data):
        return Response({"data": data, "has_more": self.has_more, "next_cursor": self.next_cursor})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "hasMore", "nextCursor"],
            "properties": {
                "data": schema,
                "hasMore": {"type": "boolean", "description": "Whether another page follows."},
                "nextCursor": {
                    "type": ["string", "null"],
                    "description": "Pass as `cursor` to fetch the next page; null on the last page.",
                },
            },
        }

    def get_schema_operation_parameters(self, view):
        sorts = [f"{prefix}{name}" for name in view.sort_fields for prefix in ("", "-")]
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"Page size, 1-{MAX_LIMIT}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "nextCursor from the previous page.",
                "schema": {"type": "string"},
            },
            {
                "name": "sort",
                "in": "query",
                "required": False,
                "description": "Sort key; a leading - sorts descending.",
                "schema": {"type": "string", "enum": sorts, "default": view.default_sort},
            },
        ]

    def parse(self, query_params):
        """Validate limit, sort and cursor; returns (limit, sort, cursor values or None)."""
        limit = self._parse_limit(query_params.get("limit"))
        sort = query_params.get("sort", self.default_sort)
        if sort.removeprefix("-") not in self.sort_fields:
            allowed = ", ".join(f"{name}, -{name}" for name in self.sort_fields)
            raise InvalidRequest(f"Unknown sort {sort!r}; use one of {allowed}.", code="invalid_sort", field="sort")
        cursor = query_params.get("cursor")
        return limit, sort, self._decode(cursor, sort) if cursor else None

    def paginate(self, queryset, query_params):
        limit, sort, after = self.parse(query_params)
        rows = list(self.page_queryset(queryset, sort=sort, limit=limit, after=self.typed_after(queryset.model, sort, after)))
        return self.page_of(rows, queryset.model, sort=sort, limit=limit)

    def typed_after(self, model, sort, after):
        """A decoded cursor's (value, id) with the value as its sort field holds it, or None for the first page."""
        if after is None:
            return None
        value, last_id = after
        if isinstance(model._meta.get_field(self.sort_fields[sort.removeprefix("-")]), DateTimeField):
            value = self._parse_datetime(value)
        return value, last_id

    def page_queryset(self, queryset, *, sort, limit, after):
        """The page's rows, one more than `limit` to tell whether another follows, after `after` (typed_after)."""
        descending = sort.startswith("-")
        field = self.sort_fields[sort.removeprefix("-")]
        if after is not None:
            value, last_id = after
            column = queryset.model._meta.get_field(field).column
            operator = "<" if descending else ">"
            table = queryset.model._meta.db_table
            condition = RawSQL(
                f'("{table}"."{column}", "{table}"."id") {operator} (%s, %s)',
                [value, last_id],
                output_field=BooleanField(),
            )
            queryset = queryset.filter(condition)
        prefix = "-" if descending else ""
        return queryset.order_by(f"{prefix}{field}", f"{prefix}id")[: limit + 1]

    def page_of(self, rows, model, *, sort, limit):
        """(the page's rows, whether more follow, the next cursor) of `page_queryset`'s rows."""
        field = self.sort_fields[sort.removeprefix("-")]
        has_more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if has_more:
            last = rows[-1]
            # Rows of .values() (TenantViewSet.paginate_queryset) or model instances.
            if isinstance(last, dict):
                next_cursor = self._encode(sort, last[field], last[model._meta.pk.attname])
            else:
                next_cursor = self._encode(sort, getattr(last, field), last.pk)
        return rows, has_more, next_cursor

    @staticmethod
    def _parse_limit(raw):
        if raw is None:
            return DEFAULT_LIMIT
        if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
            raise InvalidRequest(
                f"limit must be a whole number from 1 to {MAX_LIMIT}.", code="invalid_limit", field="limit"
            )
        return int(raw)

    @staticmethod
    def _parse_datetime(value):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise invalid_cursor()
        return parsed

    @staticmethod
    def _encode(sort, value, last_id):
        if isinstance(value, datetime):
            value = value.isoformat()
        # UTF-8 rather than \u escapes: a 255-character name stays well inside a URL's length limits.
        payload = json.dumps({"s": sort, "v": value, "id": last_id}, separators=(",", ":"), ensure_ascii=False)
        return cursor_signer().sign(base64.urlsafe_b64encode(payload.encode()).decode().rstrip("="))

    def _decode(self, cursor, sort):
        invalid = invalid_cursor()
        if not CURSOR_PATTERN.fullmatch(cursor):
            raise invalid
        try:
            encoded = cursor_signer().unsign(cursor)
        except signing.BadSignature:
            raise invalid from None
        # Signed by this server, so well-formed; the checks below only guard against a leaked SECRET_KEY.
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            payload = json.loads(raw)
        except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
            raise invalid from None
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
            raise invalid
        if payload.get("s") != sort:
            raise InvalidRequest(
                "cursor was issued for another sort; keep the same sort while paging.",
                code="invalid_cursor",
                field="cursor",
            )
        value = payload.get("v")
        if not isinstance(value, str) or "\x00" in value or "\x00" in payload["id"]:
            raise invalid
        return value, payload["id"]
