"""The base every API viewset extends: organization scoping that cannot be forgotten, the tenancy
context, Idempotency-Key on POST, strict query parameters, keyset pagination, `Location` on 201
and the rate-limit headers."""

import json
import uuid
from datetime import datetime

from django.db import transaction
from django.db.models import DateTimeField
from django.http import Http404
from django.urls import reverse
from rest_framework import mixins, status, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from renderowl.api.converters import RESOURCE_ID_PATTERN
from renderowl.api.errors import ApiError, InvalidRequest
from renderowl.api.idempotency import IdempotentReplay, idempotency_begin
from renderowl.api.pagination import PAGINATION_PARAMS, KeysetPagination
from renderowl.api.renderers import CamelCaseRow
from renderowl.api.throttling import rate_limit_headers
from renderowl.prepared import PreparedQuery
from renderowl.tenancy import activate_organization

# The compiled reads of viewsets with `prepared_retrieve` or `prepared_list`, by what shapes their SQL.
_prepared_queries = {}


def _prepared_query(key, make):
    """The PreparedQuery kept under `key`, made by `make()` the first time it is asked for."""
    prepared = _prepared_queries.get(key)
    if prepared is None:
        prepared = _prepared_queries[key] = make()
    return prepared


class ListModelMixin(mixins.ListModelMixin):
    """DRF's list; when the serializer writes rows (TenantViewSet.paginate_queryset), straight to camelCase."""

    def list(self, request, *args, **kwargs):
        if self.row_columns() is None:
            return super().list(request, *args, **kwargs)
        if self.prepared_list:
            page = self.prepared_page()
        else:
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer_class().camel_case_rows(page))


class RetrieveModelMixin(mixins.RetrieveModelMixin):
    """DRF's retrieve; when the serializer writes rows, the row of its columns is written straight to camelCase."""

    def retrieve(self, request, *args, **kwargs):
        columns = self.row_columns()
        if columns is None:
            return super().retrieve(request, *args, **kwargs)
        return Response(CamelCaseRow(self.get_serializer_class().camel_case_rows([self.get_row(columns)])[0]))


class TenantViewSet(viewsets.GenericViewSet):
    """Scopes every queryset to the caller's organization.

    Subclasses declare `queryset` and narrow it in `scope_queryset()`; overriding
    `get_queryset()` is an error at class creation, so the organization filter cannot be lost.
    """

    pagination_class = KeysetPagination
    lookup_value_regex = RESOURCE_ID_PATTERN  # a malformed id is a 404 before any query
    sort_fields = {"createdAt": "created_at"}
    default_sort = "-createdAt"
    list_filter_params = ()
    # Response fields shown once (secrets): an Idempotency-Key replay answers them as null, and no copy is stored.
    idempotency_redacted_fields = ()
    # True where the retrieve's row depends on nothing of the request but the organization and the id, or the
    # list's page on nothing but the organization and the pagination parameters: scope_queryset reads no query
    # parameter or URL kwarg for that action. Its SQL is then compiled once per connection (renderowl.prepared),
    # not per request; scope_queryset sees a viewset with only its action set.
    prepared_retrieve = False
    prepared_list = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(): narrow the queryset in scope_queryset() instead, "
                "so that the organization scope of TenantViewSet always applies."
            )

    @property
    def organization(self):
        return self.request.user.organization

    def get_queryset(self):
        queryset = self.queryset.model._default_manager.filter(organization_id=self.request.user.organization_id)
        return self.scope_queryset(queryset)

    def validated_body(self, serializer_class):
        """The request body checked by `serializer_class` (400 problem+json otherwise), as validated data."""
        params = serializer_class(data=self.request.data)
        params.is_valid(raise_exception=True)
        return dict(params.validated_data)

    def scope_queryset(self, queryset):
        """Hook: narrow the organization's queryset (live rows only, filters). Override this."""
        return queryset

    def row_columns(self):
        """The columns a page of the serializer's rows needs, or None when it writes instances only."""
        row_columns = getattr(self.get_serializer_class(), "row_columns", None)
        return row_columns() if row_columns is not None else None

    def get_row(self, columns):
        """`get_object()` as a `.values(*columns)` row: DRF's lookup, 404 and object permissions, no model instance."""
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        if self.prepared_retrieve and self.action == "retrieve":
            row = self._prepared_row(columns).row(organization_id=self.request.user.organization_id, value=value)
            if row is None:
                raise Http404
        else:
            row = get_object_or_404(self.filter_queryset(self.get_queryset()).values(*columns), **{self.lookup_field: value})
        self.check_object_permissions(self.request, row)
        return row

    @classmethod
    def _prepared_row(cls, columns):
        def build(*, organization_id, value):
            return cls._scoped("retrieve", organization_id).values(*columns).filter(**{cls.lookup_field: value})

        return _prepared_query((cls, "retrieve", columns), lambda: PreparedQuery(build, organization_id=uuid.UUID, value=str))

    def prepared_page(self):
        """paginate_queryset() of a `prepared_list` viewset: the same page, from SQL compiled once per sort, limit,
        first page or not, and connection."""
        paginator = self.paginator.for_view(self)
        limit, sort, after = paginator.parse(self.request.query_params)
        model = self.queryset.model
        after = paginator.typed_after(model, sort, after)
        prepared = _prepared_query(
            (type(self), "list", sort, limit, after is None),
            lambda: self._prepared_list_query(sort=sort, limit=limit, first=after is None),
        )
        values = {"organization_id": self.request.user.organization_id}
        if after is not None:
            values["after_value"], values["after_id"] = after
        rows, paginator.has_more, paginator.next_cursor = paginator.page_of(
            prepared.rows(**values), model, sort=sort, limit=limit
        )
        return rows

    @classmethod
    def _prepared_list_query(cls, *, sort, limit, first):
        model = cls.queryset.model
        columns = cls._page_columns(model, cls.serializer_class.row_columns())  # prepared_list: the serializer writes rows
        paginator = cls.pagination_class().for_view(cls)
        parameters = {"organization_id": uuid.UUID}
        if not first:
            sort_field = model._meta.get_field(cls.sort_fields[sort.removeprefix("-")])
            parameters.update(after_value=datetime if isinstance(sort_field, DateTimeField) else str, after_id=str)

        def build(*, organization_id, after_value=None, after_id=None):
            rows = cls._scoped("list", organization_id).values(*columns)
            after = None if after_id is None else (after_value, after_id)
            return paginator.page_queryset(rows, sort=sort, limit=limit, after=after)

        return PreparedQuery(build, **parameters)

    @classmethod
    def _scoped(cls, action, organization_id):
        """get_queryset() as a viewset with only `action` set would scope it: the prepared reads' queryset."""
        if cls.filter_backends:
            raise TypeError(f"{cls.__name__}: filter backends read the request, so its reads cannot be prepared.")
        return cls(action=action).scope_queryset(cls.queryset.model._default_manager.filter(organization_id=organization_id))

    @classmethod
    def _page_columns(cls, model, columns):
        """The columns of a page's rows: the serializer's, plus what a cursor needs (every sort field, the id)."""
        return tuple(dict.fromkeys([*columns, *cls.sort_fields.values(), model._meta.pk.attname]))

    def paginate_queryset(self, queryset):
        """A page of rows (dicts of the serializer's columns) when the serializer can write them, else of instances.

        A row skips the model instance Django builds per row, and the columns the response does not show.
        """
        columns = self.row_columns()
        if columns is not None:
            queryset = queryset.values(*self._page_columns(queryset.model, columns))
        return super().paginate_queryset(queryset)

    def created_location(self, data):
        """The path of what a 201 created, for its Location header: this router's detail route of `data["id"]`.

        Override when the created resource is nested in the body or lives under another route.
        """
        return reverse(f"{self.basename}-detail", kwargs={"pk": data["id"]})

    def initial(self, request, *args, **kwargs):
        self.idempotency = None
        super().initial(request, *args, **kwargs)
        activate_organization(
            request.user.organization_id, already_set=getattr(request.user, "organization_activated", False)
        )
        if self.action == "list":
            self._reject_unknown_query_params(request)
        if request.method == "POST":
            self.idempotency = idempotency_begin(request=request, organization_id=request.user.organization_id)
            # Released by RequestContextMiddleware once the request's transaction has committed or rolled back.
            request._request.idempotency_lock = self.idempotency

    def _reject_unknown_query_params(self, request):
        allowed = set(PAGINATION_PARAMS) | set(self.list_filter_params)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise InvalidRequest(
                f"Unknown query parameter {unknown[0]!r}; this list accepts {', '.join(sorted(allowed))}.",
                code="unknown_query_parameter",
                field=unknown[0],
            )

    def handle_exception(self, exc):
        if isinstance(exc, IdempotentReplay):
            response = Response(json.loads(exc.record.response_body), status=exc.record.response_status)
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        idempotency, self.idempotency = getattr(self, "idempotency", None), None
        if idempotency is not None:
            try:
                if status.is_success(response.status_code):
                    idempotency.store(
                        status=response.status_code, body=response.data, redact=self.idempotency_redacted_fields
                    )
                    response["Idempotent-Replayed"] = "false"
            except ApiError as exc:
                transaction.set_rollback(True)
                response = self.handle_exception(exc)
        if response.status_code == status.HTTP_201_CREATED and "Location" not in response:
            response["Location"] = request.build_absolute_uri(self.created_location(response.data))
        for header, value in rate_limit_headers(request).items():
            response[header] = value
        return super().finalize_response(request, response, *args, **kwargs)
