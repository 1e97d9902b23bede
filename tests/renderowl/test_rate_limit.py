"""The per-organization rate limit, with the clock held still (time-machine) so a window never turns mid-test."""

import uuid
from datetime import UTC, datetime, timedelta

import time_machine
from django.test import override_settings
from rest_framework.test import APIClient

from organizations.services import api_key_create
from renderowl.redis import RATE_WINDOW_SECONDS, get_redis, rate_window_hit

# Ten seconds into a minute: fifty seconds remain in the window.
START = datetime(2031, 3, 4, 5, 6, 10, tzinfo=UTC)


@override_settings(RATE_LIMIT_PER_MINUTE=3)
def test_requests_over_the_limit_are_429_with_retry_after_and_ratelimit_headers(tenant):
    with time_machine.travel(START, tick=False):
        responses = [tenant.client.get("/v1/projects") for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r["RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert {r["RateLimit-Limit"] for r in responses} == {"3"}
    assert {r["RateLimit-Reset"] for r in responses} == {"50"}
    refused = responses[-1]
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert refused["Retry-After"] == "50"
    assert refused.json()["detail"] == "Rate limit exceeded for this organization. Retry after 50 seconds."


@override_settings(RATE_LIMIT_PER_MINUTE=3)
def test_the_budget_returns_when_the_next_minute_starts(tenant):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            tenant.client.get("/v1/projects")
    with time_machine.travel(START + timedelta(seconds=50), tick=False):
        response = tenant.client.get("/v1/projects")

    assert response.status_code == 200
    assert (response["RateLimit-Remaining"], response["RateLimit-Reset"]) == ("2", "60")


@override_settings(RATE_LIMIT_PER_MINUTE=2)
def test_the_keys_of_one_organization_share_its_budget_and_other_organizations_have_their_own(tenant, other_tenant):
    second_key = APIClient(HTTP_AUTHORIZATION=f"Bearer {api_key_create(organization=tenant.organization).raw_key}")
    with time_machine.travel(START, tick=False):
        first = [tenant.client.get("/v1/projects").status_code for _ in range(2)]
        second = second_key.get("/v1/projects")
        other = other_tenant.client.get("/v1/projects")

    assert first == [200, 200]
    assert second.status_code == 429
    assert other.status_code == 200
    assert other["RateLimit-Remaining"] == "1"


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


def test_a_window_counter_expires_with_its_window_and_its_first_hit_sets_the_expiry():
    name = f"test:{uuid.uuid4().hex}"
    with time_machine.travel(START, tick=False):
        first, second = rate_window_hit(name), rate_window_hit(name)
    key = f"ratelimit:{name}:{int(START.timestamp()) // RATE_WINDOW_SECONDS}"
    assert (first.count, second.count) == (1, 2)
    assert 0 < get_redis().ttl(key) <= RATE_WINDOW_SECONDS + 1
    get_redis().delete(key)
