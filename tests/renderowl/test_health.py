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
def test_readyz_is_503_naming_redis_when_it_is_unreachable(anonymous):
    get_redis.cache_clear()
    try:
        with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
            response = anonymous.get("/readyz")
    finally:
        get_redis.cache_clear()
    assert response.status_code == 503
    assert list(response.json()["down"]) == ["redis"]
