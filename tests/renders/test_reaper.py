"""A render whose worker died is queued again by the reaper, or failed `worker_lost` after its last attempt."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from renders.tasks import reap_lost_renders_task
from tests.renders.conftest import wait_until
from tests.renders.test_api import project, queued, template  # noqa: F401 - fixtures

__all__ = ["project", "template"]

# The reaper finds lost jobs through the owner connection: it must see what the test committed.
pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


def left_rendering(tenant, job_id, *, attempts):
    """The state a worker killed mid-render leaves: rendering, its lease running out, no one renewing it."""
    with tenant_context(tenant.id):
        RenderJob.objects.filter(pk=job_id).update(
            status=RenderJob.Status.RENDERING, attempts=attempts, started_at=timezone.now(),
            lease_expires_at=timezone.now() + timedelta(seconds=settings.RENDER_LEASE_SECONDS),
        )


def lapse(tenant, job_id):
    with tenant_context(tenant.id):
        RenderJob.objects.filter(pk=job_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def test_a_render_whose_worker_died_is_rendered_again_on_a_new_attempt(tenant, project, template, worked):
    job = queued(tenant, project, template)
    left_rendering(tenant, job["id"], attempts=1)

    assert reap_lost_renders_task.apply().get() == 0  # the lease is still running: the worker may be alive
    lapse(tenant, job["id"])
    worked(lambda: reap_lost_renders_task.apply())

    rendered = tenant.client.get(f"/v1/renders/{job['id']}").json()
    assert (rendered["status"], rendered["attempts"], rendered["error"]) == ("completed", 2, None)
    assert rendered["outputUrl"]


def test_a_render_lost_on_its_last_attempt_fails_with_worker_lost(tenant, project, template):
    job = queued(tenant, project, template)
    left_rendering(tenant, job["id"], attempts=settings.RENDER_MAX_ATTEMPTS)
    lapse(tenant, job["id"])

    assert reap_lost_renders_task.apply().get() == 1

    failed = tenant.client.get(f"/v1/renders/{job['id']}").json()
    assert (failed["status"], failed["error"]["code"]) == ("failed", "worker_lost")


def test_a_run_given_up_on_cannot_finish_the_newer_attempt(tenant, project, template, worked):
    from renders.rendering import _finish_attempt

    job = queued(tenant, project, template)
    left_rendering(tenant, job["id"], attempts=2)
    assert _finish_attempt(tenant.id, job["id"], attempt=1, key="stale", size=1, duration_ms=1) == "rendering"
    with tenant_context(tenant.id):
        assert RenderJob.objects.get(pk=job["id"]).output_key == ""


def lease_of(tenant, job_id):
    with tenant_context(tenant.id):
        return RenderJob.objects.get(pk=job_id).lease_expires_at


def test_a_live_renderer_keeps_its_lease_while_it_reports_no_progress(tenant, project, template, settings):
    from renders.rendering import lease_heartbeat
    from renders.scheduling import render_claim_next

    settings.RENDER_LEASE_SECONDS = 2  # renewed every quarter of it
    job_id = queued(tenant, project, template)["id"]
    job = render_claim_next()
    assert job.id == job_id
    claimed_until = lease_of(tenant, job_id)

    with lease_heartbeat(job) as heartbeat:  # fetching inputs, a stalled encoder, a long upload: no progress
        wait_until(lambda: timezone.now() > claimed_until + timedelta(seconds=0.5), timeout=10)
        assert reap_lost_renders_task.apply().get() == 0  # the claim's lease is long gone, the renewed one is not
        assert lease_of(tenant, job_id) > claimed_until
    assert not heartbeat.is_alive()


def test_an_attempt_removes_what_dead_attempts_left_in_the_work_dir(tenant, project, template, worked, settings, tmp_path):
    import os
    import time

    settings.RENDER_WORK_DIR = tmp_path / "work"
    job_id = queued(tenant, project, template)["id"]
    killed = settings.RENDER_WORK_DIR / f"{job_id}-1-abcd"  # the job's attempt whose worker was killed
    ancient = settings.RENDER_WORK_DIR / "rnd_other-1-abcd"  # older than any render may run
    live = settings.RENDER_WORK_DIR / "rnd_another-1-abcd"  # another renderer's, in use
    for workdir in (killed, ancient, live):
        (workdir / "input").mkdir(parents=True)
    old = time.time() - settings.RENDER_TASK_TIME_LIMIT_SECONDS - 60
    os.utime(ancient, (old, old))

    worked(lambda: wake_renderer())

    assert tenant.client.get(f"/v1/renders/{job_id}").json()["status"] == "completed"
    assert sorted(settings.RENDER_WORK_DIR.iterdir()) == [live]  # and this attempt removed its own


def wake_renderer():
    from django.db import transaction

    from renders.services import render_wake_on_commit

    with transaction.atomic():
        render_wake_on_commit()
