import pytest
from django.test import override_settings

from renderowl.redis import get_redis


def test_healthz_is_ok_without_auth(anonymous):
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(databases=["default", "owner"])
def test_readyz_checks_database_redis_and_the_operator_role(anonymous):
    response = anonymous.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "down": {}}


@pytest.mark.django_db(databases=["default", "owner"])
def test_readyz_is_503_naming_redis_but_no_exception_when_it_is_unreachable(anonymous, caplog):
    get_redis.cache_clear()
    try:
        with override_settings(REDIS_URL="redis://127.0.0.1:1/0"), caplog.at_level("WARNING", logger="renderowl.health"):
            response = anonymous.get("/readyz")
    finally:
        get_redis.cache_clear()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "down": {"redis": "unavailable"}}
    assert "Error" not in response.content.decode()
    (logged,) = [record for record in caplog.records if record.getMessage() == "readiness check failed"]
    assert logged.dependency == "redis" and logged.exc_info[0].__name__ == "ConnectionError"
