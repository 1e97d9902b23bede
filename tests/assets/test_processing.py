"""Processing end to end: events through the outbox, the S3 backend through the API, crashes and the sweep."""

import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import requests
from celery.contrib.testing.worker import start_worker
from django.core.management import CommandError, call_command
from django.utils import timezone

from assets.models import Asset
from assets.processing import asset_process, assets_sweep_stale_processing
from events.models import Event
from renderowl.celery import app
from renderowl.tenancy import tenant_context
from tests.assets.test_api import TEMPLATE, create, put
from tests.conftest import Tenant
from tests.webhooks.test_worker import database_url_for_tests

transactional = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


def events_of(tenant):
    with tenant_context(tenant.id):
        return list(Event.objects.order_by("created_at").values_list("type", flat=True))


def asset_row(tenant, asset_id):
    with tenant_context(tenant.id):
        return Asset.objects.get(pk=asset_id)


def test_the_lifecycle_is_announced_through_the_outbox(tenant):
    project = tenant.create_project(name="P")
    good = create(tenant, project["id"], size=len(TEMPLATE)).json()
    put(tenant, good["upload"], TEMPLATE)
    bad = create(tenant, project["id"], size=4, name="bad.json").json()
    put(tenant, bad["upload"], b"{{{{")
    for asset in (good["asset"], bad["asset"]):
        tenant.client.post(f"/v1/assets/{asset['id']}/upload-complete")
        asset_process(organization_id=tenant.id, asset_id=asset["id"])

    assert events_of(tenant) == ["asset.uploaded", "asset.ready", "asset.uploaded", "asset.failed"]
    with tenant_context(tenant.id):
        failed = json.loads(Event.objects.get(type="asset.failed").body)
    assert failed["data"]["object"]["id"] == bad["asset"]["id"]
    assert failed["data"]["object"]["error"]["code"] == "invalid_json"


def test_processing_twice_changes_nothing(tenant):
    project = tenant.create_project(name="P")
    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    put(tenant, created["upload"], TEMPLATE)
    tenant.client.post(f"/v1/assets/{created['asset']['id']}/upload-complete")

    assert asset_process(organization_id=tenant.id, asset_id=created["asset"]["id"]) == "ready"
    assert asset_process(organization_id=tenant.id, asset_id=created["asset"]["id"]) is None
    assert events_of(tenant) == ["asset.uploaded", "asset.ready"]


def test_the_s3_backend_from_create_to_ready_over_real_http(tenant, s3_storage):
    project = tenant.create_project(name="P")
    body = TEMPLATE
    created = create(tenant, project["id"], size=len(body)).json()
    upload = created["upload"]

    stored = requests.put(upload["url"], data=body, headers=upload["headers"], timeout=10)

    assert stored.status_code == 200, stored.text
    assert tenant.client.post(f"/v1/assets/{created['asset']['id']}/upload-complete").json()["status"] == "processing"
    assert asset_process(organization_id=tenant.id, asset_id=created["asset"]["id"]) == "ready"
    download = tenant.client.get(f"/v1/assets/{created['asset']['id']}?include=downloadUrl").json()["downloadUrl"]
    assert requests.get(download, timeout=10).content == body


def test_a_store_that_accepted_the_wrong_size_is_caught_at_upload_complete(tenant, s3_storage):
    project = tenant.create_project(name="P")
    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    upload = created["upload"]
    # moto checks no signature or length: a client that lies about Content-Length gets its bytes stored.
    longer = TEMPLATE + b" " * 100
    requests.put(upload["url"], data=longer, headers={**upload["headers"], "Content-Length": str(len(longer))}, timeout=10)

    response = tenant.client.post(f"/v1/assets/{created['asset']['id']}/upload-complete")

    assert (response.status_code, response.json()["code"]) == (409, "upload_size_mismatch")
    assert asset_row(tenant, created["asset"]["id"]).status == "pending"


def large_wav(path, megabytes):
    """A valid, silent PCM WAV of about `megabytes` MB, written fast (no encoder)."""
    data = megabytes * 1024 * 1024
    with open(path, "wb") as wav:
        wav.write(b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 2, 48000, 192000, 4, 16))
        wav.write(b"data" + struct.pack("<I", data))
        chunk = bytes(1024 * 1024)
        for _ in range(megabytes):
            wav.write(chunk)
    return path


def worker_environment(settings):
    """The environment of a worker process that uses the test's database, broker and (S3) storage settings."""
    return {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "DJANGO_ENV": "test",
        "ASSET_STORAGE_BACKEND": "s3",
        "AWS_STORAGE_BUCKET_NAME": settings.AWS_STORAGE_BUCKET_NAME,
        "AWS_S3_ENDPOINT_URL": settings.AWS_S3_ENDPOINT_URL,
        "AWS_S3_REGION_NAME": settings.AWS_S3_REGION_NAME,
        "AWS_ACCESS_KEY_ID": settings.AWS_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": settings.AWS_SECRET_ACCESS_KEY,
        "AWS_S3_ADDRESSING_STYLE": settings.AWS_S3_ADDRESSING_STYLE,
    }


@transactional
def test_a_worker_killed_mid_extraction_leaves_nothing_stuck(tmp_path, settings, s3_behind_proxy):
    """The worker reads the object through a store that stalls after 64 KiB: it is killed at that known point."""
    tenant = Tenant("Crash")
    project = tenant.create_project(name="P")
    body = large_wav(tmp_path / "clip.wav", 2).read_bytes()
    created = create(tenant, project["id"], type="audio", contentType="audio/wav", name="clip.wav", size=len(body)).json()
    upload = created["upload"]
    assert requests.put(upload["url"], data=body, headers=upload["headers"], timeout=10).status_code == 200
    asset_id = created["asset"]["id"]
    s3_behind_proxy.stall_reads_after = 64 * 1024

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "renderowl", "worker", "-Q", "assets", "-P", "solo",
         "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
        env=worker_environment(settings),
        cwd=settings.BASE_DIR,
    )
    try:
        tenant.client.post(f"/v1/assets/{asset_id}/upload-complete")
        assert s3_behind_proxy.stalled.wait(timeout=60), "the worker never read the object"
        # Claimed (the run counted itself) and blocked mid-read: nothing can be recorded now.
        assert asset_row(tenant, asset_id).processing_attempts == 1
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    s3_behind_proxy.stall_reads_after = None
    s3_behind_proxy.release.set()
    stuck = asset_row(tenant, asset_id)
    assert (stuck.status, stuck.processing_attempts) == ("processing", 1)

    assert assets_sweep_stale_processing(now=timezone.now()) == 0  # not stale yet
    later = timezone.now() + timedelta(seconds=settings.ASSET_PROCESSING_TIMEOUT_SECONDS + 61)
    with start_worker(app, pool="solo", perform_ping_check=False, queues=["assets"]):
        assert assets_sweep_stale_processing(now=later) == 1
        deadline = time.monotonic() + 60
        while asset_row(tenant, asset_id).status == "processing":
            assert time.monotonic() < deadline, "the re-queued run did not finish"
            time.sleep(0.05)
    finished = asset_row(tenant, asset_id)
    assert (finished.status, finished.processing_attempts) == ("ready", 2)
    assert finished.metadata["sampleRate"] == 48000 and finished.metadata["channels"] == 2


@transactional
def test_an_asset_whose_runs_keep_dying_fails_after_the_last_attempt(settings):
    settings.ASSET_MAX_PROCESSING_ATTEMPTS = 2
    tenant = Tenant("Doomed")
    project = tenant.create_project(name="P")
    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    put(tenant, created["upload"], TEMPLATE)
    asset_id = created["asset"]["id"]
    tenant.client.post(f"/v1/assets/{asset_id}/upload-complete")
    with tenant_context(tenant.id):  # two runs that claimed the asset and died
        Asset.objects.filter(pk=asset_id).update(processing_attempts=2)

    assert asset_process(organization_id=tenant.id, asset_id=asset_id) == "failed"

    failed = tenant.client.get(f"/v1/assets/{asset_id}").json()
    assert failed["error"]["code"] == "processing_gave_up"
    assert events_of(tenant)[-1] == "asset.failed"


@transactional
def test_purgedeleted_removes_old_deleted_projects_and_orphans_with_their_files(asset_storage):
    tenant = Tenant("Purge")
    doomed, kept = tenant.create_project(name="Doomed"), tenant.create_project(name="Kept")
    old = create(tenant, doomed["id"], size=len(TEMPLATE)).json()
    put(tenant, old["upload"], TEMPLATE)
    fresh = create(tenant, kept["id"], size=len(TEMPLATE)).json()
    put(tenant, fresh["upload"], TEMPLATE)
    tenant.client.delete(f"/v1/projects/{doomed['id']}")
    from projects.models import Project

    Project.objects.using("owner").filter(pk=doomed["id"]).update(deleted_at=timezone.now() - timedelta(days=31))
    Asset.objects.using("owner").filter(pk=old["asset"]["id"]).update(orphaned_at=timezone.now() - timedelta(days=31))
    out = io.StringIO()

    call_command("purgedeleted", "--older-than", "30d", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[-1] == "Removed 1 projects and 1 assets."
    assert f"asset {old['asset']['id']}" in lines and f"project {doomed['id']}" in lines
    assert list(Asset.objects.using("owner").values_list("id", flat=True)) == [fresh["asset"]["id"]]
    stored = [p for p in asset_storage.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(stored) == 1 and fresh["asset"]["id"] in str(stored[0])
    with pytest.raises(CommandError, match="30d"):
        call_command("purgedeleted", "--older-than", "a month")


def test_a_template_with_text_postgresql_cannot_store_fails_at_once(tenant):
    project = tenant.create_project(name="P")
    body = TEMPLATE.replace(b'"title-card"', b'"title\\u0000card"')
    created = create(tenant, project["id"], size=len(body)).json()
    put(tenant, created["upload"], body)
    tenant.client.post(f"/v1/assets/{created['asset']['id']}/upload-complete")

    assert asset_process(organization_id=tenant.id, asset_id=created["asset"]["id"]) == "failed"
    error = tenant.client.get(f"/v1/assets/{created['asset']['id']}").json()["error"]
    assert error["code"] == "invalid_json" and "$.composition" in error["message"]


def test_an_object_gone_from_storage_fails_as_upload_missing(tenant, asset_storage):
    project = tenant.create_project(name="P")
    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    put(tenant, created["upload"], TEMPLATE)
    tenant.client.post(f"/v1/assets/{created['asset']['id']}/upload-complete")
    for path in asset_storage.rglob("*"):
        if path.is_file():
            path.unlink()

    assert asset_process(organization_id=tenant.id, asset_id=created["asset"]["id"]) == "failed"
    assert tenant.client.get(f"/v1/assets/{created['asset']['id']}").json()["error"]["code"] == "upload_missing"


def test_an_s3_upload_url_stores_once(tenant, s3_storage):
    project = tenant.create_project(name="P")
    created = create(tenant, project["id"], size=len(TEMPLATE)).json()
    upload = created["upload"]
    assert upload["headers"]["If-None-Match"] == "*"
    assert requests.put(upload["url"], data=TEMPLATE, headers=upload["headers"], timeout=10).status_code == 200
    tenant.client.post(f"/v1/assets/{created['asset']['id']}/upload-complete")

    swapped = TEMPLATE.replace(b"title-card", b"other-card")
    again = requests.put(upload["url"], data=swapped, headers=upload["headers"], timeout=10)

    assert again.status_code == 412
    download = tenant.client.get(f"/v1/assets/{created['asset']['id']}?include=downloadUrl").json()["downloadUrl"]
    assert requests.get(download, timeout=10).content == TEMPLATE


# Templates: bounded customer input, through the upload flow and the processing entry point


def processed_template(tenant, document):
    """Upload `document` (a dict, or the bytes of the file) as a template, process it, and GET the asset."""
    project = tenant.create_project(name="Templates")
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    created = create(tenant, project["id"], size=len(body)).json()
    assert put(tenant, created["upload"], body).status_code < 300
    asset_id = created["asset"]["id"]
    assert tenant.client.post(f"/v1/assets/{asset_id}/upload-complete").json()["status"] == "processing"
    asset_process(organization_id=tenant.id, asset_id=asset_id)
    return tenant.client.get(f"/v1/assets/{asset_id}").json()


def test_an_integer_longer_than_python_converts_fails_the_template_at_once(tenant):
    # Python refuses to convert integers of more than 4300 digits: the run crashed and the asset sat
    # `processing` until the sweep retried it, three times over.
    body = TEMPLATE.replace(b'"defaultProps": {', b'"defaultProps": {"count": ' + b"7" * 4301 + b", ")

    asset = processed_template(tenant, body)

    assert (asset["status"], asset["error"]["code"]) == ("failed", "invalid_template")
    assert asset["error"]["message"].startswith(
        "The template is invalid: $.defaultProps.count: 77777777777777777777… (4301 characters) is not a number "
        "JSON carries exactly: integers must lie within ±2^53"
    )
    assert events_of(tenant) == ["asset.uploaded", "asset.failed"]


def test_a_frame_rate_that_makes_the_template_endless_fails_naming_the_field(tenant):
    document = {**json.loads(TEMPLATE), "fps": 1e-300}

    asset = processed_template(tenant, document)

    assert (asset["status"], asset["error"]["code"]) == ("failed", "invalid_template")
    assert "$.durationInFrames: 150 frames at 1e-300 fps last 1.5e+302 s, longer than the 600 s" in (
        asset["error"]["message"]
    )


def test_a_template_may_require_a_prop_it_has_no_default_for(tenant):
    document = json.loads(TEMPLATE)
    document["inputSchema"]["required"] = ["title", "clip"]  # an asset prop cannot have a default

    asset = processed_template(tenant, document)

    assert asset["status"] == "ready", asset["error"]
    assert asset["metadata"]["defaultProps"] == {"title": "Hello"}


def test_a_default_that_breaks_its_own_property_schema_still_fails(tenant):
    document = json.loads(TEMPLATE)
    document["inputSchema"]["required"] = ["title", "clip"]
    document["defaultProps"]["title"] = "T" * 81

    asset = processed_template(tenant, document)

    assert (asset["status"], asset["error"]["code"]) == ("failed", "invalid_template")
    assert asset["error"]["message"].startswith(f"The template is invalid: $.defaultProps.title: '{'T' * 81}' is too long")


# The first alarm may land in a weakref callback, where Python drops the exception (and reports it);
# the next one, a tenth of a second later, interrupts the validation.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_template_processing_has_a_time_budget_of_its_own(tenant, settings):
    # Every word is tried against 201 alternatives: about 5 s of validation, far past a budget of 50 ms.
    settings.TEMPLATE_PROCESSING_TIMEOUT_SECONDS = 0.05
    document = json.loads(TEMPLATE)
    alternatives = [{"const": number} for number in range(200)] + [{"type": "string"}]
    document["inputSchema"]["properties"]["words"] = {"type": "array", "items": {"anyOf": alternatives}}
    document["defaultProps"]["words"] = ["word"] * 2000

    asset = processed_template(tenant, document)

    assert (asset["status"], asset["error"]["code"]) == ("failed", "template_too_complex")
    assert asset["error"]["message"].startswith(
        "Validating the template took more than 0.05 s, the most one may take; simplify inputSchema"
    )
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL  # the worker's alarm is left as it was
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
