"""Liveness and readiness probes for load balancers and orchestrators."""

from django.db import connections, transaction
from django.http import JsonResponse

from renderowl.redis import get_redis


@transaction.non_atomic_requests
def healthz(request):
    """The process is alive and serving requests."""
    return JsonResponse({"status": "ok"})


def _check_database():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis():
    get_redis().ping()


CHECKS = {"database": _check_database, "redis": _check_redis}


@transaction.non_atomic_requests
def readyz(request):
    """PostgreSQL and Redis are reachable; 503 naming each one that is not."""
    down = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            down[name] = type(exc).__name__
    if down:
        return JsonResponse({"status": "unavailable", "down": down}, status=503)
    return JsonResponse({"status": "ok", "down": {}})
