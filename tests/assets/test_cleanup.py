"""Nothing stored outlives its asset: deletion that survives a failing store, expiry, revoked URLs, the sweeps."""

import io
import json
import logging
import os
import time
from datetime import timedelta

import pytest
import requests
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core.management import CommandError, call_command
from django.utils import timezone

from assets.cleanup import assets_expire_pending_uploads, object_deletions_sweep, retry_delay
from assets.models import Asset, ObjectDeletion
from assets.storage import get_storage, object_key
from assets.tasks import delete_stored_objects_task
from events.models import Event
from projects.models import Project
from renderowl.celery import app
from renderowl.ids import new_id
from renderowl.tenancy import tenant_context
from tests.assets.test_api import TEMPLATE, create, put
from tests.assets.test_processing import asset_row
from tests.conftest import Tenant

transactional = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


def deletions():
    """Every recorded object deletion, seen by the owner (as beat sees them)."""
    return list(ObjectDeletion.objects.using("owner").order_by("pk"))


def wait_until(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.05)


def s3_upload(tenant, project_id, body=TEMPLATE, **fields):
    created = create(tenant, project_id, size=len(body), **fields).json()
    upload = created["upload"]
    assert requests.put(upload["url"], data=body, headers=upload["headers"], timeout=10).status_code == 200
    return created["asset"]


def key_of(asset_id):
    return Asset.objects.using("owner").get(pk=asset_id).storage_key


# Deleting an asset while the store is failing


@transactional
def test_deleting_an_asset_while_the_store_is_down_answers_204_and_the_file_goes_once_it_is_back(
    s3_behind_proxy, s3_objects
):
    tenant = Tenant("Outage")
    project = tenant.create_project(name="P")
    asset = s3_upload(tenant, project["id"])
    key = key_of(asset["id"])
    s3_behind_proxy.down = True

    with start_worker(app, pool="solo", perform_ping_check=False, queues=["assets"]):
        response = tenant.client.delete(f"/v1/assets/{asset['id']}")

        assert response.status_code == 204
        wait_until(lambda: [d.attempts for d in deletions()] == [1], "the first deletion attempt")
        assert tenant.client.get(f"/v1/assets/{asset['id']}").status_code == 404
        assert key in s3_objects()
        [deletion] = deletions()
        assert deletion.reason == "deleted" and "ServiceUnavailable" in deletion.last_error
        assert deletion.next_attempt_at > timezone.now()

        s3_behind_proxy.down = False
        assert object_deletions_sweep(now=timezone.now()) == 0  # not due yet
        assert object_deletions_sweep(now=deletion.next_attempt_at) == 1
        wait_until(lambda: deletions() == [], "the retried deletion")
    assert key not in s3_objects()


@transactional
def test_a_deletion_that_keeps_failing_is_retried_later_each_time_and_then_logged_as_an_error(s3_behind_proxy, caplog):
    caplog.set_level(logging.WARNING, logger="assets.cleanup")  # an in-process Celery worker may have raised the root's
    tenant = Tenant("Outage")
    project = tenant.create_project(name="P")
    asset = s3_upload(tenant, project["id"])
    s3_behind_proxy.down = True
    tenant.client.delete(f"/v1/assets/{asset['id']}")
    [deletion] = deletions()

    assert delete_stored_objects_task([deletion.pk]) == {"deleted": 0, "failed": 1}
    [once] = deletions()
    ObjectDeletion.objects.using("owner").filter(pk=deletion.pk).update(attempts=4)  # three more failed runs
    assert delete_stored_objects_task([deletion.pk]) == {"deleted": 0, "failed": 1}
    [fifth] = deletions()

    assert once.attempts == 1 and once.next_attempt_at - timezone.now() <= timedelta(minutes=1)
    assert fifth.attempts == 5 and fifth.next_attempt_at - timezone.now() > timedelta(minutes=15)
    logged = [(r.levelno, r.getMessage(), r.attempts) for r in caplog.records if r.name == "assets.cleanup"]
    assert logged == [
        (logging.WARNING, "stored object not deleted; it will be retried", 1),
        (logging.ERROR, "stored object still not deleted; check the store's reachability and credentials", 5),
    ]
    assert all(r.asset_id == asset["id"] for r in caplog.records if r.name == "assets.cleanup")


def test_retries_double_from_a_minute_up_to_six_hours():
    assert [retry_delay(n) for n in (1, 2, 3, 9, 10, 30)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=256),
        timedelta(hours=6), timedelta(hours=6),
    ]


# purgedeleted


@transactional
def test_purgedeleted_works_in_batches_and_a_file_the_store_refuses_stays_queued(s3_behind_proxy, s3_objects):
    tenant = Tenant("Purge")
    project = tenant.create_project(name="Doomed")
    assets = [s3_upload(tenant, project["id"], name=f"card-{n}.json") for n in range(3)]
    keys = [key_of(asset["id"]) for asset in assets]
    refused = assets[1]["id"]
    s3_behind_proxy.refused_deletes.add(refused)
    tenant.client.delete(f"/v1/projects/{project['id']}")
    Project.objects.using("owner").filter(pk=project["id"]).update(deleted_at=timezone.now() - timedelta(days=31))
    out = io.StringIO()

    call_command("purgedeleted", "--older-than", "30d", "--batch-size", "2", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line for line in lines if line.startswith("asset ")] == [f"asset {a}" for a in sorted(a["id"] for a in assets)]
    [not_deleted] = [line for line in lines if line.startswith("file of asset ")]
    assert not_deleted.startswith(f"file of asset {refused} not deleted (StorageError: ")
    assert not_deleted.endswith("; queued for retry")
    assert f"project {project['id']}" in lines
    assert lines[-1] == "Removed 1 projects and 3 assets; 1 files could not be deleted yet and are queued for retry."
    assert not Asset.objects.using("owner").exists() and not Project.objects.using("owner").exists()
    assert s3_objects("org/") & set(keys) == {keys[1]}
    [queued] = deletions()
    assert (queued.asset_id, queued.reason, queued.attempts) == (refused, "purged", 1)

    s3_behind_proxy.refused_deletes.clear()
    assert delete_stored_objects_task([queued.pk]) == {"deleted": 1, "failed": 0}
    assert s3_objects("org/") & set(keys) == set() and deletions() == []


def test_purgedeleted_refuses_a_batch_size_that_is_not_a_positive_number(db):
    with pytest.raises(CommandError, match="--batch-size takes a whole number of at least 1; not '0'"):
        call_command("purgedeleted", "--older-than", "30d", "--batch-size", "0")


# Pending uploads that never come


@transactional
def test_a_pending_asset_past_its_upload_url_and_the_margin_expires_with_its_bytes(settings, asset_storage):
    settings.ASSET_UPLOAD_EXPIRY_MARGIN_SECONDS = 3600
    tenant = Tenant("Expiry")
    project = tenant.create_project(name="P")
    start = timezone.now()
    abandoned = create(tenant, project["id"], size=len(TEMPLATE)).json()  # uploaded, never completed
    assert put(tenant, abandoned["upload"], TEMPLATE).status_code == 201
    completed = create(tenant, project["id"], size=len(TEMPLATE)).json()
    put(tenant, completed["upload"], TEMPLATE)
    tenant.client.post(f"/v1/assets/{completed['asset']['id']}/upload-complete")
    renewed = create(tenant, project["id"], size=len(TEMPLATE)).json()
    with time_machine.travel(start + timedelta(minutes=50)):
        assert tenant.client.post(f"/v1/assets/{renewed['asset']['id']}/upload-url").status_code == 200
    sweep_at = start + timedelta(minutes=15, seconds=3600 + 5)

    assert assets_expire_pending_uploads(now=sweep_at - timedelta(seconds=10)) == 0  # within the margin
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["assets"]):
        assert assets_expire_pending_uploads(now=sweep_at) == 1
        wait_until(lambda: deletions() == [], "the expired asset's file deletion")

    expired = tenant.client.get(f"/v1/assets/{abandoned['asset']['id']}").json()
    assert expired["status"] == "failed" and expired["error"]["code"] == "upload_expired"
    assert "create a new asset" in expired["error"]["message"]
    failed_events = [json.loads(e.body)["data"]["object"] for e in Event.objects.using("owner").filter(type="asset.failed")]
    assert [(e["id"], e["error"]["code"]) for e in failed_events] == [(abandoned["asset"]["id"], "upload_expired")]
    stored = sorted(p.parent.name for p in asset_storage.rglob("*") if p.is_file() and not p.name.startswith("."))
    assert stored == [completed["asset"]["id"]]
    assert asset_row(tenant, renewed["asset"]["id"]).status == "pending"
    assert asset_row(tenant, completed["asset"]["id"]).status in ("processing", "ready")  # the worker may run it
    assert assets_expire_pending_uploads(now=sweep_at) == 0  # nothing twice


# A fresh upload URL


def test_a_pending_asset_gets_a_fresh_upload_url_once_the_first_expired(tenant, other_tenant):
    project = tenant.create_project(name="P")
    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    asset_id = created["asset"]["id"]

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        late = put(tenant, created["upload"], TEMPLATE)
        fresh = tenant.client.post(f"/v1/assets/{asset_id}/upload-url")
        assert fresh.status_code == 200, fresh.content
        stored = put(tenant, fresh.json()["upload"], TEMPLATE)

    assert (late.status_code, late.json()["code"]) == (403, "signed_url_expired")
    assert fresh.json()["asset"]["id"] == asset_id and fresh.json()["asset"]["status"] == "pending"
    assert fresh.json()["upload"]["expiresAt"] > created["upload"]["expiresAt"]
    assert stored.status_code == 201
    assert other_tenant.client.post(f"/v1/assets/{asset_id}/upload-url").status_code == 404


def test_a_fresh_upload_url_is_409_once_a_file_is_stored_or_the_asset_left_pending(tenant):
    project = tenant.create_project(name="P")
    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    asset_id = created["asset"]["id"]
    put(tenant, created["upload"], TEMPLATE)

    stored = tenant.client.post(f"/v1/assets/{asset_id}/upload-url")
    tenant.client.post(f"/v1/assets/{asset_id}/upload-complete")
    processing = tenant.client.post(f"/v1/assets/{asset_id}/upload-url")

    assert (stored.status_code, stored.json()["code"]) == (409, "already_uploaded")
    assert f"POST /v1/assets/{asset_id}/upload-complete" in stored.json()["detail"]
    assert (processing.status_code, processing.json()["code"]) == (409, "asset_not_pending")
    assert processing.json()["detail"].startswith("This asset is processing: only a pending asset")


# Upload URLs that must stop working


@pytest.mark.parametrize("removed", ["asset", "project"])
def test_an_upload_url_stops_working_once_its_asset_or_project_is_deleted(tenant, asset_storage, removed):
    project = tenant.create_project(name="P")
    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    target = f"/v1/assets/{created['asset']['id']}" if removed == "asset" else f"/v1/projects/{project['id']}"
    assert tenant.client.delete(target).status_code == 204

    response = put(tenant, created["upload"], TEMPLATE)

    assert (response.status_code, response.json()["code"]) == (403, "upload_url_revoked")
    assert "create a new asset" in response.json()["detail"]
    assert not asset_storage.exists() or [p for p in asset_storage.rglob("*") if p.is_file()] == []


def test_an_upload_url_of_an_expired_asset_is_refused(tenant, asset_storage):
    project = tenant.create_project(name="P")
    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    with tenant_context(tenant.id):  # what the expiry sweep leaves (its own test is above)
        Asset.objects.filter(pk=created["asset"]["id"]).update(status="failed", error={"code": "upload_expired"})

    response = put(tenant, created["upload"], TEMPLATE)

    assert (response.status_code, response.json()["code"]) == (403, "upload_url_revoked")


# The orphan sweep


def age(root, days):
    """Make every file under `root` look written `days` ago (the store's clock, not the platform's)."""
    then = time.time() - days * 86400
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


@transactional
def test_sweeporphanedfiles_removes_local_files_no_asset_owns_once_past_the_grace_period(asset_storage):
    tenant = Tenant("Sweep")
    project = tenant.create_project(name="P")
    live = create(tenant, project["id"], size=len(TEMPLATE)).json()
    put(tenant, live["upload"], TEMPLATE)
    storage = get_storage()
    orphan = object_key(organization_id=tenant.id, project_id=project["id"], asset_id=new_id("ast"), filename="x.json")
    storage.save(key=orphan, content_type="application/json", stream=io.BytesIO(b"{}"))
    render_output = f"org/{tenant.id}/prj/{project['id']}/renders/out.mp4"  # not an asset's key: not ours
    storage.save(key=render_output, content_type="video/mp4", stream=io.BytesIO(b"mp4"))

    fresh = io.StringIO()
    call_command("sweeporphanedfiles", "--dry-run", stdout=fresh)
    age(asset_storage, days=2)
    dry = io.StringIO()
    call_command("sweeporphanedfiles", "--dry-run", stdout=dry)
    out = io.StringIO()
    call_command("sweeporphanedfiles", stdout=out)

    assert fresh.getvalue().splitlines() == ["Would remove 0 orphaned files of 3 stored."]
    assert dry.getvalue().splitlines() == [f"file {orphan}", "Would remove 1 orphaned files of 3 stored."]
    assert out.getvalue().splitlines() == [f"file {orphan}", "Removed 1 orphaned files of 3 stored."]
    assert storage.head(key=orphan) is None
    assert storage.head(key=render_output) is not None and storage.head(key=key_of(live["asset"]["id"])) is not None


@transactional
def test_sweeporphanedfiles_lists_the_s3_bucket_and_catches_an_upload_made_after_the_delete(s3_storage, s3_objects):
    tenant = Tenant("Sweep")
    project = tenant.create_project(name="P")
    kept = s3_upload(tenant, project["id"])
    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    doomed_key = key_of(created["asset"]["id"])
    assert tenant.client.delete(f"/v1/assets/{created['asset']['id']}").status_code == 204
    upload = created["upload"]
    # An S3 upload URL cannot be revoked: used after the delete, it still stores the file.
    assert requests.put(upload["url"], data=TEMPLATE, headers=upload["headers"], timeout=10).status_code == 200
    assert doomed_key in s3_objects()
    out = io.StringIO()

    call_command("sweeporphanedfiles", "--grace", "0m", stdout=out)

    assert f"file {doomed_key}" in out.getvalue().splitlines()
    assert doomed_key not in s3_objects() and key_of(kept["id"]) in s3_objects()
    with pytest.raises(CommandError, match="--grace takes a number and a unit"):
        call_command("sweeporphanedfiles", "--grace", "soon")
