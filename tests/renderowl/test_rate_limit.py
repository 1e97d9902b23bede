from django.test import override_settings
from rest_framework.test import APIClient

from organizations.services import api_key_create


@override_settings(RATE_LIMIT_PER_MINUTE=3)
def test_requests_over_the_per_key_limit_are_429_with_retry_after(tenant):
    statuses = [tenant.client.get("/v1/projects").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = tenant.client.get("/v1/projects")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 61


@override_settings(RATE_LIMIT_PER_MINUTE=2)
def test_each_key_has_its_own_budget(tenant):
    for _ in range(3):
        tenant.client.get("/v1/projects")
    second_key = api_key_create(organization=tenant.organization).raw_key
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {second_key}").get("/v1/projects").status_code == 200


def test_the_api_keeps_serving_when_redis_is_down(tenant, settings):
    from renderowl.redis import get_redis

    get_redis.cache_clear()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    try:
        listed = tenant.client.get("/v1/projects")
        created = tenant.client.post("/v1/projects", {"name": "Offline"}, format="json", HTTP_IDEMPOTENCY_KEY="k-offline")
        replayed = tenant.client.post("/v1/projects", {"name": "Offline"}, format="json", HTTP_IDEMPOTENCY_KEY="k-offline")
    finally:
        get_redis.cache_clear()
    assert listed.status_code == 200
    assert created.status_code == 201
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == created.json()["id"]
