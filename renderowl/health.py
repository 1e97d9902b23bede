"""Liveness and readiness probes for load balancers and orchestrators."""

import logging

from django.db import connections, transaction
from django.http import JsonResponse

from renderowl.redis import get_redis

logger = logging.getLogger(__name__)


@transaction.non_atomic_requests
def healthz(request):
    """The process is alive and serving requests."""
    return JsonResponse({"status": "ok"})


def _check_database():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis():
    get_redis().ping()


def _check_operator_role():
    """The owner role must bypass row-level security, or the schedulers and the admin see no tenant rows."""
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            raise PermissionError("the owner role in DATABASE_URL lacks BYPASSRLS")


CHECKS = {"database": _check_database, "redis": _check_redis, "operatorRole": _check_operator_role}


@transaction.non_atomic_requests
def readyz(request):
    """PostgreSQL and Redis are reachable and the owner role can do its job; 503 naming what is not.

    The public answer is one word per failed dependency; what failed and why goes to the log only.
    """
    down = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure means not ready
            logger.warning("readiness check failed", extra={"dependency": name}, exc_info=True)
            down[name] = "unavailable"
    if down:
        return JsonResponse({"status": "unavailable", "down": down}, status=503)
    return JsonResponse({"status": "ok", "down": {}})
