import threading

import pytest
from django.db import connections

from projects.models import Project
from renderowl.redis import get_redis
from renderowl.tenancy import tenant_context


def post(tenant, body, key):
    return tenant.client.post("/v1/projects", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def project_count(tenant):
    with tenant_context(tenant.id):
        return Project.objects.count()


def test_same_key_and_body_replays_the_first_response(tenant):
    first = post(tenant, {"name": "Once"}, "key-1")
    second = post(tenant, {"name": "Once"}, "key-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == {**first.json(), "webhookSecret": None}  # the secret is shown once, never stored
    assert first["Idempotent-Replayed"] == "false"
    assert second["Idempotent-Replayed"] == "true"
    assert project_count(tenant) == 1


def test_key_order_and_whitespace_do_not_change_the_fingerprint(tenant):
    post(tenant, {"name": "Same", "description": "d"}, "key-2")
    again = tenant.client.generic(
        "POST", "/v1/projects", '{ "description":"d",  "name":"Same" }',
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="key-2",
    )
    assert again["Idempotent-Replayed"] == "true"


def test_same_key_with_another_body_is_422_and_changes_nothing(tenant):
    post(tenant, {"name": "First"}, "key-3")

    response = post(tenant, {"name": "Second"}, "key-3")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert project_count(tenant) == 1


def test_keys_are_scoped_per_organization(tenant, other_tenant):
    assert post(tenant, {"name": "A"}, "shared-key").status_code == 201
    response = post(other_tenant, {"name": "B"}, "shared-key")
    assert response.status_code == 201
    assert response["Idempotent-Replayed"] == "false"


def test_error_responses_are_not_stored_so_a_corrected_retry_is_not_a_replay(tenant):
    tenant.create_project(name="Taken", slug="taken")
    assert post(tenant, {"name": "Dup", "slug": "taken"}, "key-4").status_code == 409
    # Same body: re-validated, still a conflict, not a replay.
    again = post(tenant, {"name": "Dup", "slug": "taken"}, "key-4")
    assert again.status_code == 409
    assert "Idempotent-Replayed" not in again


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "ünïcode"])
def test_malformed_key_is_400(tenant, key):
    response = tenant.client.post(
        "/v1/projects", {"name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1")
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert project_count(tenant) == 0


def test_a_duplicate_while_the_first_is_in_flight_is_409(tenant):
    lock = get_redis()
    from renderowl.api.idempotency import idempotency_lock_name

    lock.set(idempotency_lock_name(tenant.id, "busy-key"), "1", ex=30)
    try:
        response = post(tenant, {"name": "A"}, "busy-key")
    finally:
        lock.delete(idempotency_lock_name(tenant.id, "busy-key"))
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_request_in_progress"
    assert project_count(tenant) == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_exactly_one_project():
    from tests.conftest import Tenant

    tenant = Tenant("Concurrent")
    barrier = threading.Barrier(4)
    statuses = []

    def attempt():
        try:
            barrier.wait()
            statuses.append(post(tenant, {"name": "Race"}, "race-key").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert project_count(tenant) == 1
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    assert post(tenant, {"name": "Race"}, "race-key")["Idempotent-Replayed"] == "true"
