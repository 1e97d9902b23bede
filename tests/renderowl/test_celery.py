"""Tasks run with the organization of the code that queued them, through one mechanism."""

import time
import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections
from django.utils import timezone

from renderowl.celery import ORGANIZATION_HEADER, QUEUES, app
from renderowl.models import IdempotencyRecord
from renderowl.redis import get_redis
from renderowl.tasks import prune_idempotency_records_task
from renderowl.tenancy import tenant_context


@app.task(name="tests.report_organization")
def report_organization(marker):
    """Test task: records what the worker sees as the organization, in the app and in PostgreSQL."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT current_setting('app.organization_id', true)")
        database_setting = cursor.fetchone()[0]
    from renderowl.tenancy import current_organization_id

    get_redis().set(marker, f"{current_organization_id.get()}|{database_setting or ''}", ex=60)


def wait_for(marker, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = get_redis().get(marker)
        if value is not None:
            return value.decode()
        time.sleep(0.05)
    raise AssertionError(f"the worker did not run the task within {timeout}s")


def test_configuration_matches_the_design():
    conf = app.conf
    assert {q.name for q in conf.task_queues} >= {"renders", "assets", "webhooks", "automations"}
    assert set(QUEUES) == {q.name for q in conf.task_queues}
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost, conf.worker_prefetch_multiplier) == (True, True, 1)
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_inside_a_tenant_context_runs_inside_it():
    from tests.conftest import Tenant

    tenant = Tenant("Worker org")
    inside, outside = f"test:celery:{uuid.uuid4()}", f"test:celery:{uuid.uuid4()}"
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["default"], shutdown_timeout=10):
        with tenant_context(tenant.id):
            report_organization.delay(inside)
        report_organization.delay(outside)

        assert wait_for(inside) == f"{tenant.id}|{tenant.id}"
        assert wait_for(outside) == "None|"


def test_the_publish_hook_stamps_the_header_only_inside_a_tenant_context(tenant):
    headers = {}
    from renderowl.celery import _carry_organization

    _carry_organization(headers=headers)
    assert ORGANIZATION_HEADER not in headers
    with tenant_context(tenant.id):
        _carry_organization(headers=headers)
    assert headers[ORGANIZATION_HEADER] == str(tenant.id)


@pytest.mark.django_db(databases=["default", "owner"], transaction=True)
def test_prune_deletes_only_expired_idempotency_records_of_every_organization():
    from tests.conftest import Tenant

    tenants = [Tenant("Prune A"), Tenant("Prune B")]
    for tenant in tenants:
        tenant.client.post("/v1/projects", {"name": "Old"}, format="json", HTTP_IDEMPOTENCY_KEY="old")
        tenant.client.post("/v1/projects", {"name": "New"}, format="json", HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyRecord.objects.using("owner").filter(key="old").update(created_at=timezone.now() - timedelta(days=2))

    assert prune_idempotency_records_task.apply().get() == 2

    assert sorted(IdempotencyRecord.objects.using("owner").values_list("key", flat=True)) == ["new", "new"]
