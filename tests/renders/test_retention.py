"""Render outputs are deleted RENDER_OUTPUT_RETENTION_DAYS after completion, durably; the job stays and says so."""

import io
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from assets.models import ObjectDeletion
from assets.storage import get_storage
from assets.tasks import sweep_object_deletions_task
from renders.models import RenderJob
from renders.rendering import output_key
from renders.retention import render_outputs_expire_batch
from renders.tasks import expire_render_outputs_task
from tests.assets.conftest import s3_behind_proxy, s3_endpoint, s3_objects, s3_storage, store_proxy  # noqa: F401 - fixtures
from tests.renders.conftest import upload_template
from tests.renders.test_api import events_of, project, queued, small_template, submit, template  # noqa: F401

__all__ = ["project", "template"]

# Retention and the sweeps work through the owner connection: they must see what the test committed.
pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


def completed(tenant, project, template, worked):
    """A render submitted and rendered (eagerly) to completion."""
    job = worked(lambda: submit(tenant, project, template)).json()
    rendered = tenant.client.get(f"/v1/renders/{job['id']}").json()
    assert rendered["status"] == "completed", rendered
    return rendered


def row(job_id):
    return RenderJob.objects.using("owner").get(pk=job_id)


def completed_days_ago(job_id, days):
    RenderJob.objects.using("owner").filter(pk=job_id).update(completed_at=timezone.now() - timedelta(days=days))


def stored(key):
    return get_storage().head(key=key) is not None


def deletions():
    return list(ObjectDeletion.objects.using("owner").order_by("pk"))


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


def with_a_second_attempts_output(job_id):
    """The job as if its first attempt's worker was lost after storing: its output is the second attempt's."""
    job = row(job_id)
    first = job.output_key
    job.attempts = 2
    second = output_key(job)
    get_storage().save(key=second, content_type="video/mp4", stream=io.BytesIO(b"second attempt"))
    RenderJob.objects.using("owner").filter(pk=job_id).update(attempts=2, output_key=second)
    return first, second


def test_an_output_past_retention_is_deleted_every_attempts_file_and_the_render_says_so(
    tenant, project, template, worked
):
    old = completed(tenant, project, template, worked)
    recent = completed(tenant, project, template, worked)
    first, second = with_a_second_attempts_output(old["id"])
    recent_key = row(recent["id"]).output_key
    completed_days_ago(old["id"], settings.RENDER_OUTPUT_RETENTION_DAYS + 1)
    completed_days_ago(recent["id"], settings.RENDER_OUTPUT_RETENTION_DAYS - 1)

    assert worked(lambda: expire_render_outputs_task.apply()).get() == 1

    assert not stored(first) and not stored(second) and stored(recent_key)
    assert deletions() == []  # each file's deletion done and its record gone
    expired = tenant.client.get(f"/v1/renders/{old['id']}").json()
    assert (expired["status"], expired["outputUrl"], expired["outputUrlExpiresAt"]) == ("completed", None, None)
    assert expired["outputDeletedAt"] is not None
    assert (expired["outputSize"], expired["completedAt"] is not None) == (old["outputSize"], True)
    kept = tenant.client.get(f"/v1/renders/{recent['id']}").json()
    assert kept["outputUrl"] and kept["outputDeletedAt"] is None
    listed = tenant.client.get(f"/v1/projects/{project['id']}/renders").json()["data"]
    assert {job["id"]: job["outputDeletedAt"] is not None for job in listed} == {old["id"]: True, recent["id"]: False}
    assert events_of(tenant, old["id"])[-1] == "render.completed"  # no event: the retention is a published policy
    assert worked(lambda: expire_render_outputs_task.apply()).get() == 0


def test_outputs_let_go_of_just_before_a_crash_are_deleted_by_beat(tenant, project, template, worked):
    job = completed(tenant, project, template, worked)
    key = row(job["id"]).output_key
    completed_days_ago(job["id"], 31)

    # The batch commits the job's change with the record of its file's deletion; then the process dies.
    [expired] = render_outputs_expire_batch(cutoff=timezone.now() - timedelta(days=30), batch_size=10)

    assert stored(key) and tenant.client.get(f"/v1/renders/{job['id']}").json()["outputUrl"] is None
    [deletion] = deletions()
    assert (deletion.asset_id, deletion.storage_key, deletion.reason) == (job["id"], key, "retention")
    assert expired.deletion_ids == [deletion.pk]
    assert worked(lambda: sweep_object_deletions_task.apply()).get() == 0  # the deletion's own task may still come
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert worked(lambda: sweep_object_deletions_task.apply()).get() == 1
    assert not stored(key) and deletions() == []


def test_prunerenders_dry_run_lists_and_changes_nothing_then_it_deletes(tenant, project, template, worked):
    old = completed(tenant, project, template, worked)
    recent = completed(tenant, project, template, worked)
    with_a_second_attempts_output(old["id"])
    keys = [output_key(row(old["id"]), attempt=n) for n in (1, 2)]
    completed_days_ago(old["id"], 31)
    completed_days_ago(recent["id"], 2)

    assert run("prunerenders", "--older-than", "30d", "--dry-run") == [
        f"render {old['id']}", "Would expire the outputs of 1 renders: 2 files to delete.",
    ]
    assert all(stored(key) for key in keys) and deletions() == []
    assert tenant.client.get(f"/v1/renders/{old['id']}").json()["outputUrl"]

    assert run("prunerenders", "--older-than", "30d") == [
        f"render {old['id']}", "Expired the outputs of 1 renders: 2 files deleted, 0 queued for retry.",
    ]
    assert not any(stored(key) for key in keys) and deletions() == []
    assert tenant.client.get(f"/v1/renders/{old['id']}").json()["outputDeletedAt"]
    assert run("prunerenders", "--older-than", "30d")[-1] == (
        "Expired the outputs of 0 renders: 0 files deleted, 0 queued for retry."
    )
    # The default is RENDER_OUTPUT_RETENTION_DAYS; a shorter age takes the recent one too.
    assert run("prunerenders", "--dry-run")[-1] == "Would expire the outputs of 0 renders: 0 files to delete."
    assert run("prunerenders", "--older-than", "24h") == [
        f"render {recent['id']}", "Expired the outputs of 1 renders: 1 files deleted, 0 queued for retry.",
    ]


def test_prunerenders_reports_a_file_the_store_refuses_and_beat_deletes_it_later(
    tenant, project, template, worked, request
):
    job = completed(tenant, project, template, worked)
    key = row(job["id"]).output_key
    # From here on the store is S3, behind a proxy that refuses to delete this job's files.
    proxy = request.getfixturevalue("s3_behind_proxy")
    bucket_keys = request.getfixturevalue("s3_objects")
    get_storage().save(key=key, content_type="video/mp4", stream=io.BytesIO(b"the output"))
    assert key in bucket_keys()
    completed_days_ago(job["id"], 31)
    proxy.refused_deletes.add(job["id"])

    lines = run("prunerenders", "--older-than", "30d")

    assert lines[0] == f"render {job['id']}"
    assert lines[1].startswith(f"file {key} of render {job['id']} not deleted (StorageError: ")
    assert lines[1].endswith("; queued for retry")
    assert lines[-1] == "Expired the outputs of 1 renders: 0 files deleted, 1 queued for retry."
    assert key in bucket_keys() and tenant.client.get(f"/v1/renders/{job['id']}").json()["outputUrl"] is None
    [deletion] = deletions()
    assert (deletion.reason, deletion.attempts) == ("retention", 1)

    proxy.refused_deletes.clear()
    with time_machine.travel(deletion.next_attempt_at + timedelta(seconds=1)):
        assert worked(lambda: sweep_object_deletions_task.apply()).get() == 1
    assert key not in bucket_keys() and deletions() == []


@pytest.mark.parametrize("args, message", [
    (["--older-than", "30"], "--older-than takes a number and a unit, like 30d, 12h or 90m; not '30'."),
    (["--older-than", "0d"], "--older-than must be more than 0"),
    (["--batch-size", "0"], "--batch-size takes a whole number of at least 1; not '0'."),
])
def test_prunerenders_refuses_bad_values_naming_the_fix(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("prunerenders", *args)


def test_prunerenders_exits_non_zero_with_the_error_on_stderr():
    result = subprocess.run(
        [sys.executable, "manage.py", "prunerenders", "--older-than", "a month", "--dry-run"],
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "CommandError: --older-than takes a number and a unit, like 30d, 12h or 90m; not 'a month'." in result.stderr


# The orphan sweep and render outputs


def test_the_orphan_sweep_removes_render_files_no_job_needs_and_keeps_the_rest(
    tenant, project, template, worked, other_tenant
):
    current = completed(tenant, project, template, worked)
    stale_attempt, current_key = with_a_second_attempts_output(current["id"])
    notes = current_key.rsplit("/", 1)[0] + "/notes.txt"  # not an output's name: not the sweep's to judge
    get_storage().save(key=notes, content_type="text/plain", stream=io.BytesIO(b"kept"))
    waiting = queued(tenant, project, template)
    waiting_key = output_key(row(waiting["id"]), attempt=1)  # a queued job's earlier attempt may be in flight
    get_storage().save(key=waiting_key, content_type="video/mp4", stream=io.BytesIO(b"in flight"))
    expired = completed(tenant, project, template, worked)
    expired_key = row(expired["id"]).output_key
    RenderJob.objects.using("owner").filter(pk=expired["id"]).update(output_key="", output_deleted_at=timezone.now())
    # A project deleted, then purged: its render jobs go with it (by cascade), their outputs stay behind.
    doomed_project = other_tenant.create_project(name="Doomed")
    doomed_template = upload_template(other_tenant, doomed_project["id"], small_template())
    gone = completed(other_tenant, doomed_project, doomed_template, worked)
    gone_key = row(gone["id"]).output_key
    assert other_tenant.client.delete(f"/v1/projects/{doomed_project['id']}").status_code == 204
    call_command("purgedeleted", "--older-than", "0m", stdout=io.StringIO())
    assert not RenderJob.objects.using("owner").filter(pk=gone["id"]).exists()

    lines = run("sweeporphanedfiles", "--grace", "0m")

    assert sorted(lines[:-1]) == sorted(f"file {key}" for key in (stale_attempt, expired_key, gone_key))
    assert lines[-1].startswith("Removed 3 orphaned files of ")
    assert not any(stored(key) for key in (stale_attempt, expired_key, gone_key))
    assert all(stored(key) for key in (current_key, notes, waiting_key))
    assert tenant.client.get(f"/v1/renders/{current['id']}").json()["outputUrl"]
