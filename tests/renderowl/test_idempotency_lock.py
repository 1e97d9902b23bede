"""The Idempotency-Key lock outlives the request's transaction, belongs to its request, and keeps no secrets."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from projects.models import Project
from projects.services import projects_clear_expired_previous_secrets
from projects.tasks import clear_expired_previous_secrets_task
from renderowl.api.idempotency import idempotency_lock_name
from renderowl.models import IdempotencyRecord
from renderowl.redis import get_redis
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


def during_the_request(callback):
    """Run `callback(project)` while the request that creates a project runs (a test's hook on the model)."""

    def receiver(sender, instance, created, **kwargs):
        if created:
            callback(instance)

    post_save.connect(receiver, sender=Project, dispatch_uid="test.during_the_request", weak=False)
    return lambda: post_save.disconnect(sender=Project, dispatch_uid="test.during_the_request")


def test_the_lock_is_held_until_the_requests_transaction_has_committed():
    tenant = Tenant("Lock")
    lock = idempotency_lock_name(tenant.id, "commit-key")
    held_at_commit = []
    stop = during_the_request(
        lambda project: transaction.on_commit(lambda: held_at_commit.append(get_redis().exists(lock)))
    )
    try:
        response = tenant.client.post("/v1/projects", {"name": "P"}, format="json", HTTP_IDEMPOTENCY_KEY="commit-key")
    finally:
        stop()
    assert response.status_code == 201
    assert held_at_commit == [1]  # still ours while the change committed: a duplicate then waits or replays
    assert not get_redis().exists(lock)  # and freed once the request is over


def test_a_request_never_frees_a_lock_another_request_holds():
    tenant = Tenant("Lock")
    lock = idempotency_lock_name(tenant.id, "slow-key")
    # As if this request's lock had expired mid-way and a duplicate had taken the key.
    stop = during_the_request(lambda project: get_redis().set(lock, "the-duplicates-token"))
    try:
        tenant.client.post("/v1/projects", {"name": "P"}, format="json", HTTP_IDEMPOTENCY_KEY="slow-key")
    finally:
        stop()
    assert get_redis().get(lock) == b"the-duplicates-token"
    get_redis().delete(lock)


def test_stored_responses_keep_no_webhook_secret():
    tenant = Tenant("Secrets")
    created = tenant.client.post("/v1/projects", {"name": "P"}, format="json", HTTP_IDEMPOTENCY_KEY="create-key")
    project = created.json()
    rotate = f"/v1/projects/{project['id']}/webhook-secret/rotate"
    rotated = tenant.client.post(rotate, HTTP_IDEMPOTENCY_KEY="rotate-key")
    secrets_shown = [project["webhookSecret"], rotated.json()["webhookSecret"]]

    stored = "".join(IdempotencyRecord.objects.using("owner").values_list("response_body", flat=True))
    assert all(secret and secret not in stored for secret in secrets_shown)

    replayed = tenant.client.post(rotate, HTTP_IDEMPOTENCY_KEY="rotate-key")
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.json() == {**rotated.json(), "webhookSecret": None}


def rotated_project(tenant):
    project = tenant.create_project(name="P")
    assert tenant.client.post(f"/v1/projects/{project['id']}/webhook-secret/rotate").status_code == 200
    return Project.objects.using("owner").get(pk=project["id"])


def test_the_previous_secret_is_forgotten_once_its_overlap_ends():
    project = rotated_project(Tenant("Rotated"))
    assert project.previous_webhook_secret
    expires_at = project.previous_webhook_secret_expires_at

    assert projects_clear_expired_previous_secrets(now=expires_at - timedelta(seconds=1)) == 0
    assert projects_clear_expired_previous_secrets(now=expires_at) == 1
    project.refresh_from_db()
    assert project.previous_webhook_secret == ""
    assert project.webhook_secret


def test_beat_clears_previous_secrets_past_their_expiry():
    project = rotated_project(Tenant("Rotated"))
    Project.objects.using("owner").filter(pk=project.pk).update(
        previous_webhook_secret_expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert clear_expired_previous_secrets_task.apply().get() == 1
    assert Project.objects.using("owner").get(pk=project.pk).previous_webhook_secret == ""
