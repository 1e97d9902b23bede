"""A render whose worker died is queued again by the reaper, or failed `worker_lost` after its last attempt."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from renders.tasks import reap_lost_renders_task
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
