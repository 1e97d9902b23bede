"""Operator paths for renders: the admin (filters, retry, cancel) and the renderstatus command."""

import io
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from renders.rendering import _finish_attempt
from renders.tasks import reap_lost_renders_task
from tests.renders.conftest import upload_template
from tests.renders.test_api import events_of, project, queued, small_template, template  # noqa: F401 - fixtures
from tests.renders.test_reaper import lapse, left_rendering

__all__ = ["project", "template"]

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)

ADMIN = "/admin/renders/renderjob/"


def failed_worker_lost(tenant, project, template):
    """A render whose worker was lost on each of its attempts: failed worker_lost by the reaper."""
    job = queued(tenant, project, template)
    left_rendering(tenant, job["id"], attempts=settings.RENDER_MAX_ATTEMPTS)
    lapse(tenant, job["id"])
    assert reap_lost_renders_task.apply().get() == 1
    failed = tenant.client.get(f"/v1/renders/{job['id']}").json()
    assert (failed["status"], failed["error"]["code"]) == ("failed", "worker_lost")
    return failed


def act(operator, action, *job_ids):
    """Run an admin action on the jobs; returns the page it lands on (with its messages)."""
    response = operator.post(ADMIN, {"action": action, "_selected_action": list(job_ids)}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def get(tenant, job_id):
    return tenant.client.get(f"/v1/renders/{job_id}").json()


# The admin


def test_the_admin_lists_every_organizations_renders_filtered_and_searched(operator, tenant, other_tenant, project,
                                                                            template):
    waiting = queued(tenant, project, template)
    failed = failed_worker_lost(tenant, project, template)
    their_project = other_tenant.create_project(name="Theirs")
    theirs = queued(other_tenant, their_project, upload_template(other_tenant, their_project["id"], small_template()))

    def listed(query=""):
        page = operator.get(f"{ADMIN}{query}").content.decode()
        return {job["id"] for job in (waiting, failed, theirs) if job["id"] in page}

    assert listed() == {waiting["id"], failed["id"], theirs["id"]}
    assert listed("?status__exact=failed") == {failed["id"]}
    assert listed(f"?organization__id__exact={other_tenant.id}") == {theirs["id"]}
    assert listed("?engine__exact=ffmpeg") == {waiting["id"], failed["id"], theirs["id"]}
    assert listed("?engine__exact=remotion") == set()
    assert listed(f"?q={waiting['id']}") == {waiting["id"]}
    detail = operator.get(f"{ADMIN}{failed['id']}/change/").content.decode()
    assert "worker_lost" in detail and 'name="status"' not in detail  # read-only
    assert operator.get(f"{ADMIN}add/").status_code == 403
    assert operator.get(f"{ADMIN}{failed['id']}/delete/").status_code == 403


def test_retrying_a_failed_render_queues_it_again_and_it_renders(operator, tenant, project, template, worked):
    job = failed_worker_lost(tenant, project, template)

    page = worked(lambda: act(operator, "retry", job["id"]))

    assert f"Queued {job['id']} again." in page
    rendered = get(tenant, job["id"])
    assert (rendered["status"], rendered["error"], rendered["progress"]) == ("completed", None, 1.0)
    assert rendered["attempts"] == settings.RENDER_MAX_ATTEMPTS + 1 and rendered["outputUrl"]
    sequence = events_of(tenant, job["id"])
    failed_at = sequence.index("render.failed")
    assert sequence[failed_at:failed_at + 3] == ["render.failed", "render.queued", "render.started"]
    assert sequence[-1] == "render.completed"


def test_a_retried_render_gets_fresh_attempts_and_an_older_attempt_still_cannot_finish_it(operator, tenant, project,
                                                                                         template):
    job = failed_worker_lost(tenant, project, template)
    act(operator, "retry", job["id"])
    retried = get(tenant, job["id"])
    assert (retried["status"], retried["stage"], retried["error"], retried["startedAt"]) == (
        "queued", "queued", None, None,
    )

    # Its worker is lost again: the reaper queues it again (a fresh attempt) instead of failing it.
    left_rendering(tenant, job["id"], attempts=settings.RENDER_MAX_ATTEMPTS + 1)
    lapse(tenant, job["id"])
    reap_lost_renders_task.apply()
    assert get(tenant, job["id"])["status"] == "queued"
    left_rendering(tenant, job["id"], attempts=settings.RENDER_MAX_ATTEMPTS + 2)
    # The attempt before the retry, its worker not dead after all, finishes late: ignored.
    assert _finish_attempt(tenant.id, job["id"], attempt=settings.RENDER_MAX_ATTEMPTS, key="stale", size=1,
                           duration_ms=1) == "rendering"
    lapse(tenant, job["id"])
    reap_lost_renders_task.apply()
    failed = get(tenant, job["id"])
    assert (failed["status"], failed["error"]["code"]) == ("failed", "worker_lost")
    assert f"each of {settings.RENDER_MAX_ATTEMPTS} attempts" in failed["error"]["message"]


def test_retry_refuses_a_render_that_has_not_failed_and_reports_each_job(operator, tenant, project, template):
    failed = failed_worker_lost(tenant, project, template)
    waiting = queued(tenant, project, template)

    page = act(operator, "retry", failed["id"], waiting["id"])

    assert f"Queued {failed['id']} again." in page
    assert f"The render {waiting['id']} is queued; only a failed render can be retried." in page
    assert get(tenant, failed["id"])["status"] == get(tenant, waiting["id"])["status"] == "queued"
    assert events_of(tenant, waiting["id"]) == ["render.queued"]


def test_retry_refuses_a_render_whose_template_or_project_is_gone(operator, tenant, project, template):
    job = failed_worker_lost(tenant, project, template)
    assert tenant.client.delete(f"/v1/assets/{template['id']}").status_code == 204

    page = act(operator, "retry", job["id"])

    assert f"its template {template['id']} was deleted" in page
    assert get(tenant, job["id"])["status"] == "failed"
    assert events_of(tenant, job["id"])[-1] == "render.failed"

    assert tenant.client.delete(f"/v1/projects/{project['id']}").status_code == 204
    page = act(operator, "retry", job["id"])
    assert f"its project {project['id']} was deleted" in page
    with tenant_context(tenant.id):
        assert RenderJob.objects.get(pk=job["id"]).status == "failed"


def test_cancel_cancels_a_queued_render_and_refuses_one_that_failed(operator, tenant, project, template):
    waiting = queued(tenant, project, template)
    failed = failed_worker_lost(tenant, project, template)

    page = act(operator, "cancel", waiting["id"], failed["id"])

    assert f"Cancelled {waiting['id']}." in page
    assert f"The render {failed['id']} is failed; only a pending or queued render can be cancelled." in page
    assert get(tenant, waiting["id"])["status"] == "cancelled"
    assert events_of(tenant, waiting["id"]) == ["render.queued", "render.cancelled"]
    assert get(tenant, failed["id"])["status"] == "failed"


# renderstatus


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=dt_timezone.utc)


def test_renderstatus_prints_queue_depth_per_priority_oldest_age_and_rendering_jobs(tenant, other_tenant, project,
                                                                                   template):
    their_project = other_tenant.create_project(name="Theirs")
    their_template = upload_template(other_tenant, their_project["id"], small_template())
    high = queued(tenant, project, template, priority="high")
    normal = [queued(tenant, project, template) for _ in range(2)]
    low = queued(other_tenant, their_project, their_template, priority="low")
    for job, seconds in [(high, 30), (normal[0], 90), (normal[1], 10), (low, 60)]:
        RenderJob.objects.using("owner").filter(pk=job["id"]).update(queued_at=NOW - timedelta(seconds=seconds))
    left_rendering(tenant, queued(tenant, project, template)["id"], attempts=1)
    for _ in range(2):
        left_rendering(other_tenant, queued(other_tenant, their_project, their_template)["id"], attempts=1)
    failed_worker_lost(tenant, project, template)  # neither queued nor rendering

    with time_machine.travel(NOW + timedelta(milliseconds=400), tick=False):
        lines = run("renderstatus")
        top_one = run("renderstatus", "--top", "1")
        top_none = run("renderstatus", "--top", "0")

    assert lines == [
        "queued.high=1",
        "queued.normal=2",
        "queued.low=1",
        "queued.total=4",
        "queued.oldest_age_seconds=90",
        "rendering.total=3",
        f"rendering.organization.{other_tenant.id}=2",
        f"rendering.organization.{tenant.id}=1",
    ]
    assert top_one == lines[:-1]
    assert top_none == lines[:-2]


def test_renderstatus_of_an_idle_platform_and_a_bad_top(db):
    assert run("renderstatus") == [
        "queued.high=0", "queued.normal=0", "queued.low=0", "queued.total=0", "queued.oldest_age_seconds=0",
        "rendering.total=0",
    ]
    with pytest.raises(CommandError, match="--top takes a whole number, 0 or more; not '-1'."):
        run("renderstatus", "--top", "-1")
