from django.test import override_settings

from renderowl.redis import get_redis


def test_healthz_is_ok_without_auth(anonymous):
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_and_redis(anonymous, db):
    response = anonymous.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "down": {}}


def test_readyz_is_503_naming_redis_when_it_is_unreachable(anonymous, db):
    get_redis.cache_clear()
    try:
        with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
            response = anonymous.get("/readyz")
    finally:
        get_redis.cache_clear()
    assert response.status_code == 503
    assert list(response.json()["down"]) == ["redis"]
