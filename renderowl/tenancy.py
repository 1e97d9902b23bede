"""The tenancy context: which organization a request or task acts for, and the one operator bypass.

Application code scopes querysets to the organization (see `renderowl.api.viewsets`);
PostgreSQL row-level security is the second wall. Its policies read the setting
`app.organization_id`, which `tenant_context` sets transaction-locally, so nothing
survives into the next use of a pooled connection.
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)

OWNER_DB_ALIAS = "owner"
RLS_SETTING = "app.organization_id"

current_organization_id: ContextVar[str | None] = ContextVar("current_organization_id", default=None)
_bypass_reason: ContextVar[str | None] = ContextVar("tenancy_bypass_reason", default=None)


def activate_organization(organization_id, *, using="default", already_set=False):
    """Set the organization for the current transaction (and the log context); requires an open transaction.

    `already_set`: a query of this transaction already ran `set_config(RLS_SETTING, organization_id, true)`
    (the API key's lookup does), so only the log context is left to set.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError(
            "activate_organization() needs an open transaction: wrap the work in tenant_context(), "
            "or enable ATOMIC_REQUESTS for the database."
        )
    if not already_set:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [RLS_SETTING, str(organization_id)])
    current_organization_id.set(str(organization_id))


@contextmanager
def tenant_context(organization_id, *, using="default"):
    """Run the block in one transaction in which only `organization_id`'s rows are visible.

    Nested inside an outer transaction, the outer organization setting is restored on exit.
    """
    token = current_organization_id.set(str(organization_id))
    connection = connections[using]
    outer = None
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s, true)", [RLS_SETTING])
            outer = cursor.fetchone()[0] or ""
    try:
        with transaction.atomic(using=using):
            activate_organization(organization_id, using=using)
            yield
        if outer is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, %s, true)", [RLS_SETTING, outer])
    finally:
        current_organization_id.reset(token)


@contextmanager
def organization_scope(organization_id):
    """Name the organization for the block (logs, tasks it queues) without opening a transaction."""
    token = current_organization_id.set(str(organization_id))
    try:
        yield
    finally:
        current_organization_id.reset(token)


@contextmanager
def dangerously_bypass_tenancy(*, reason, routine=False):
    """Route every query in the block through the owner role, which row-level security does not bind.

    For operator paths only (the admin, maintenance commands, the platform's own schedulers).
    Each use is logged with its reason: at WARNING, or at DEBUG when `routine` (the platform's own
    scheduler ticks, every few seconds, always with the same reason: at INFO they would bury the log).
    """
    logger.log(logging.DEBUG if routine else logging.WARNING, "tenancy bypass", extra={"bypass_reason": reason})
    token = _bypass_reason.set(reason)
    try:
        yield
    finally:
        _bypass_reason.reset(token)


@contextmanager
def operator_tenant_context(organization_id):
    """From an operator path (an admin action), act for one organization exactly as its own requests and tasks do.

    The bypass is suspended for the block, which is its own `tenant_context` transaction: the application
    role under row-level security. So a service called here commits when the block ends, and its on-commit
    work (events, tasks) runs then, outside the bypass, rather than before the owner's transaction commits
    or inside it. Hence no transaction may be open on the default connection: mark the admin view
    `transaction.non_atomic_requests`.
    """
    if connections["default"].in_atomic_block:
        raise RuntimeError(
            "operator_tenant_context() must open its own transaction, so that what it queues on commit runs once "
            "its work is committed: call it outside any transaction (decorate the view with "
            "django.db.transaction.non_atomic_requests)."
        )
    token = _bypass_reason.set(None)
    try:
        with tenant_context(organization_id):
            yield
    finally:
        _bypass_reason.reset(token)


def tenancy_bypassed():
    """Whether the current code runs inside dangerously_bypass_tenancy()."""
    return _bypass_reason.get() is not None


@cache
def is_platform_app(app_label):
    """Whether the app is one of the platform's own (a top-level package of this code base, not a dependency).

    Platform tables are the application role's to use, under row-level security where they carry an
    organization; every other app's tables (auth, sessions, the admin log, content types, beat's
    schedule) are operator tables, reached only through the owner connection.
    """
    app_path = Path(apps.get_app_config(app_label).path).resolve()
    return app_path.parent == Path(settings.BASE_DIR).resolve()


class TenancyRouter:
    """Platform tables through the application role (the owner inside the bypass); operator tables as the owner.

    Migrations run only as the owner.
    """

    def db_for_read(self, model, **hints):
        if tenancy_bypassed() or not is_platform_app(model._meta.app_label):
            return OWNER_DB_ALIAS
        return None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == OWNER_DB_ALIAS


class OperatorBypassMiddleware:
    """The Django admin is an operator path: signed-in staff see every organization through the audited bypass.

    Place it after AuthenticationMiddleware. Anyone else (the login page, a scanner) gets no bypass: the
    admin then only reads its own operator tables, which the owner connection serves anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/admin/"):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if not (user is not None and user.is_active and user.is_staff):
            return self.get_response(request)
        with dangerously_bypass_tenancy(reason=f"admin {request.method} {request.path}"):
            with transaction.atomic(using=OWNER_DB_ALIAS):
                return self.get_response(request)
