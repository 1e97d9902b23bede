"""Each trigger end to end: HTTP in, the run task and the render run eagerly once committed, the run following
its render; exactly one run per trigger event; the hook's token, signature, size and rate limits."""

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import time_machine

from assets.processing import asset_process
from automations.firing import automation_schedule_tick
from automations.models import AutomationRun
from automations.tasks import run_automation_task, schedule_tick_task
from events.models import Event
from events.services import event_dispatch
from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from tests.assets.media import make_image
from tests.assets.test_api import create, put
from tests.automations.conftest import create_automation, template_document
from tests.renders.conftest import upload_template


def hook_path(automation):
    return urlsplit(automation["hookUrl"]).path


def call_hook(anonymous, automation, body=b'{"name": "ada"}', content_type="application/json", **headers):
    return anonymous.generic("POST", hook_path(automation), body, content_type=content_type,
                             **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()})


def runs_of(tenant, automation):
    return tenant.client.get(f"/v1/automations/{automation['id']}/runs").json()["data"]


def event_types(tenant, prefix):
    with tenant_context(tenant.id):
        return [event.type for event in Event.objects.order_by("created_at", "id") if event.type.startswith(prefix)]


def renders_count(tenant):
    with tenant_context(tenant.id):
        return RenderJob.objects.count()


# Manual


def test_a_manual_trigger_renders_and_the_run_follows_its_render_to_completed(tenant, project, template, worked):
    automation = create_automation(tenant, project, template)
    response = worked(lambda: tenant.client.post(
        f"/v1/automations/{automation['id']}/trigger", {"payload": {"name": "ada", "Keep-Case": 1}}, format="json"
    ))
    assert response.status_code == 202, response.content
    accepted = response.json()
    assert (accepted["id"][:4], accepted["status"], accepted["trigger"]) == ("arn_", "pending", "manual")
    assert accepted["payload"] == {"name": "ada", "Keep-Case": 1}

    run = tenant.client.get(f"/v1/automation-runs/{accepted['id']}").json()
    assert (run["status"], run["input"], run["error"]) == ("completed", {"title": "ADA"}, None)
    assert run["finishedAt"] is not None
    job = tenant.client.get(f"/v1/renders/{run['renderId']}").json()
    assert (job["status"], job["automationId"], job["automationRunId"]) == ("completed", automation["id"], run["id"])
    assert job["inputProps"]["title"] == "ADA" and job["outputUrl"]
    assert event_types(tenant, "automation.") == ["automation.run.completed"]
    assert tenant.client.get(f"/v1/automations/{automation['id']}").json()["lastRunAt"] is not None
    # Running the task again changes nothing: one render.
    with tenant_context(tenant.id):
        assert run_automation_task(run["id"]) == "completed"
    assert renders_count(tenant) == 1


def test_a_dry_run_answers_the_mapped_input_and_creates_nothing(tenant, project, template):
    automation = create_automation(tenant, project, template)
    response = tenant.client.post(f"/v1/automations/{automation['id']}/trigger",
                                  {"payload": {"name": "ada"}, "dryRun": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["input"] == {"title": "ADA"}
    assert response.json()["output"]["format"] == "mp4"
    refused = tenant.client.post(f"/v1/automations/{automation['id']}/trigger", {"payload": {}, "dryRun": True},
                                 format="json")
    assert (refused.status_code, refused.json()["code"]) == (422, "mapping_failed")
    assert "$.name" in refused.json()["detail"]
    assert runs_of(tenant, automation) == [] and renders_count(tenant) == 0


def test_a_payload_the_mapping_cannot_read_fails_the_run_naming_prop_and_path(tenant, project, template, worked):
    automation = create_automation(tenant, project, template)
    worked(lambda: tenant.client.post(f"/v1/automations/{automation['id']}/trigger", {"payload": {"nom": "x"}},
                                      format="json"))
    (run,) = runs_of(tenant, automation)
    assert run["status"] == "failed" and run["renderId"] is None
    assert run["error"]["code"] == "mapping_failed"
    assert "inputProps.title (path $.name)" in run["error"]["message"]
    assert event_types(tenant, "automation.") == ["automation.run.failed"]
    assert renders_count(tenant) == 0


def test_mapped_props_the_template_refuses_fail_the_run_with_the_renders_error(tenant, project, template, worked):
    automation = create_automation(tenant, project, template)
    worked(lambda: tenant.client.post(f"/v1/automations/{automation['id']}/trigger",
                                      {"payload": {"name": "x" * 100}}, format="json"))
    (run,) = runs_of(tenant, automation)
    assert (run["status"], run["error"]["code"]) == ("failed", "invalid_input_props")
    assert run["input"] == {"title": "X" * 100}


def test_the_run_fails_with_the_render_that_fails(tenant, project, worked):
    broken = upload_template(tenant, project["id"], template_document(
        scene={"layers": [{"type": "image", "src": "https://no-such-host.invalid/none.png", "start": 0, "end": 1}]},
    ))
    automation = create_automation(tenant, project, broken)
    worked(lambda: tenant.client.post(f"/v1/automations/{automation['id']}/trigger", {"payload": {"name": "x"}},
                                      format="json"))
    (run,) = runs_of(tenant, automation)
    job = tenant.client.get(f"/v1/renders/{run['renderId']}").json()
    assert job["status"] == "failed"
    assert (run["status"], run["error"]) == ("failed", job["error"])
    assert event_types(tenant, "automation.") == ["automation.run.failed"]
    assert tenant.client.get(f"/v1/automations/{automation['id']}/runs?status=failed").json()["data"] == [run]
    assert tenant.client.get(f"/v1/automations/{automation['id']}/runs?status=completed").json()["data"] == []
    bad = tenant.client.get(f"/v1/automations/{automation['id']}/runs?status=done")
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "status")


def test_a_cancelled_render_fails_its_run(tenant, project, template, django_capture_on_commit_callbacks):
    automation = create_automation(tenant, project, template)
    run = tenant.client.post(f"/v1/automations/{automation['id']}/trigger", {"payload": {"name": "x"}},
                             format="json").json()
    with tenant_context(tenant.id):
        run_automation_task(run["id"])
    run = tenant.client.get(f"/v1/automation-runs/{run['id']}").json()
    assert run["status"] == "rendering"
    tenant.client.delete(f"/v1/renders/{run['renderId']}")
    with tenant_context(tenant.id):
        event = Event.objects.get(type="render.cancelled")
        event_dispatch(event_id=event.id)
    run = tenant.client.get(f"/v1/automation-runs/{run['id']}").json()
    assert (run["status"], run["error"]["code"]) == ("failed", "render_cancelled")


def test_one_dispatch_of_several_render_outcomes_ends_each_run_once(tenant, project, template):
    """A batch of events (one dispatch takes every waiting event of the organization) ends every run it concerns."""
    automation = create_automation(tenant, project, template)
    runs = []
    for name in ("x", "y"):
        run = tenant.client.post(f"/v1/automations/{automation['id']}/trigger", {"payload": {"name": name}},
                                 format="json").json()
        with tenant_context(tenant.id):
            run_automation_task(run["id"])
        runs.append(tenant.client.get(f"/v1/automation-runs/{run['id']}").json())
    assert [run["status"] for run in runs] == ["rendering", "rendering"]
    for run in runs:
        assert tenant.client.delete(f"/v1/renders/{run['renderId']}").status_code == 200
    with tenant_context(tenant.id):
        cancelled = list(Event.objects.filter(type="render.cancelled").order_by("created_at"))
        assert len(cancelled) == 2
        event_dispatch(event_id=cancelled[0].id)
        assert not Event.objects.filter(pk__in=[event.pk for event in cancelled], published_at=None).exists()
    ended = [tenant.client.get(f"/v1/automation-runs/{run['id']}").json() for run in runs]
    assert [(run["status"], run["error"]["code"]) for run in ended] == [("failed", "render_cancelled")] * 2
    assert event_types(tenant, "automation.") == ["automation.run.failed"] * 2


# Webhook hook


def test_a_hook_call_fires_the_automation_end_to_end(tenant, project, template, anonymous, worked):
    automation = create_automation(tenant, project, template)
    response = worked(lambda: call_hook(anonymous, automation))
    assert response.status_code == 202, response.content
    run_id = response.json()["runId"]
    run = tenant.client.get(f"/v1/automation-runs/{run_id}").json()
    assert (run["trigger"], run["status"], run["payload"]) == ("webhook", "completed", {"name": "ada"})
    assert tenant.client.get(f"/v1/renders/{run['renderId']}").json()["automationRunId"] == run_id


def test_a_hook_retried_with_the_same_idempotency_key_makes_one_run_and_one_render(tenant, project, template, anonymous,
                                                                                   worked):
    automation = create_automation(tenant, project, template)
    first = worked(lambda: call_hook(anonymous, automation, **{"Idempotency-Key": "form-42"}))
    again = worked(lambda: call_hook(anonymous, automation, **{"Idempotency-Key": "form-42"}))
    other = worked(lambda: call_hook(anonymous, automation, **{"Idempotency-Key": "form-43"}))
    assert first.json()["runId"] == again.json()["runId"] != other.json()["runId"]
    assert (first["Idempotent-Replayed"], again["Idempotent-Replayed"]) == ("false", "true")
    assert len(runs_of(tenant, automation)) == 2 and renders_count(tenant) == 2


def test_a_wrong_token_reads_exactly_as_an_unknown_automation(tenant, project, template, anonymous):
    automation = create_automation(tenant, project, template)
    wrong = anonymous.post(hook_path(automation)[:-3] + "xyz", b"{}", content_type="application/json")
    unknown = anonymous.post(f"/v1/hooks/aut_nosuchautomation000000/{hook_path(automation).rsplit('/', 1)[1]}", b"{}",
                             content_type="application/json")
    assert wrong.status_code == unknown.status_code == 404
    strip = lambda problem: {key: value for key, value in problem.items() if key != "requestId"}  # noqa: E731
    assert strip(wrong.json()) == strip(unknown.json())
    rotated = tenant.client.post(f"/v1/automations/{automation['id']}/hook-token/rotate").json()
    assert call_hook(anonymous, automation).status_code == 404
    assert call_hook(anonymous, rotated).status_code == 202
    assert len(runs_of(tenant, automation)) == 1


def test_a_disabled_automations_hook_is_409_and_records_nothing(tenant, project, template, anonymous):
    automation = create_automation(tenant, project, template, enabled=False)
    response = call_hook(anonymous, automation)
    assert (response.status_code, response.json()["code"]) == (409, "automation_disabled")
    assert runs_of(tenant, automation) == []


def test_a_signed_hook_needs_the_hmac_of_the_raw_body(tenant, project, template, anonymous):
    secret = "a-very-secret-key-123"
    automation = create_automation(tenant, project, template, trigger={"type": "webhook", "secret": secret})
    body = b'{"name":"signed"}'
    good = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert call_hook(anonymous, automation, body).status_code == 401
    wrong = call_hook(anonymous, automation, body, **{"X-Renderowl-Hook-Signature": "sha256=" + "0" * 64})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_signature")
    tampered = call_hook(anonymous, automation, b'{"name":"other"}', **{"X-Renderowl-Hook-Signature": good})
    assert tampered.status_code == 401
    assert call_hook(anonymous, automation, body, **{"X-Renderowl-Hook-Signature": good}).status_code == 202
    assert len(runs_of(tenant, automation)) == 1


@pytest.mark.parametrize("body, content_type, status, code", [
    (b"name=ada", "application/x-www-form-urlencoded", 400, "unsupported_content_type"),
    (b"{not json", "application/json", 400, "malformed_json"),
    (b'{"n": NaN}', "application/json", 400, "malformed_json"),
    (b'{"n": "\\u0000"}', "application/json", 400, "malformed_json"),
    (b"[" * 100 + b"]" * 100, "application/json", 400, "malformed_json"),
    (b'{"pad": "' + b"x" * 300 + b'"}', "application/json", 413, "request_too_large"),
])
def test_a_hook_takes_json_only_within_its_size_limit(tenant, project, template, anonymous, settings, body,
                                                      content_type, status, code):
    settings.AUTOMATION_HOOK_MAX_BYTES = 256
    automation = create_automation(tenant, project, template)
    response = call_hook(anonymous, automation, body, content_type)
    assert (response.status_code, response.json()["code"]) == (status, code), response.content
    assert runs_of(tenant, automation) == []


def test_a_hook_is_rate_limited_per_automation(tenant, project, template, anonymous, settings):
    settings.AUTOMATION_HOOK_RATE_PER_MINUTE = 2
    automation = create_automation(tenant, project, template)
    other = create_automation(tenant, project, template)
    with time_machine.travel(datetime(2026, 12, 6, 9, 0, 15, tzinfo=timezone.utc), tick=False):
        assert [call_hook(anonymous, automation).status_code for _ in range(2)] == [202, 202]
        limited = call_hook(anonymous, automation)
        assert call_hook(anonymous, other).status_code == 202
    assert (limited.status_code, limited.json()["code"], limited["Retry-After"]) == (429, "rate_limited", "45")
    assert len(runs_of(tenant, automation)) == 2


# Asset upload


def upload_tagged_image(tenant, project, tmp_path, worked, *, tags):
    data = make_image(tmp_path / "logo.png").read_bytes()
    created = create(tenant, project["id"], type="image", name="logo.png", contentType="image/png", size=len(data),
                     tags=tags)
    assert created.status_code == 201, created.content
    asset = created.json()["asset"]
    put(tenant, created.json()["upload"], data)
    assert tenant.client.post(f"/v1/assets/{asset['id']}/upload-complete").status_code == 200
    worked(lambda: asset_process(organization_id=tenant.id, asset_id=asset["id"]))
    return asset


def test_an_upload_fires_the_asset_upload_automations_whose_filters_take_it(tenant, project, template, tmp_path,
                                                                            worked):
    mapping = {"title": {"path": "$.data.object.name", "transform": "uppercase"}, "logo": {"path": "$.data.object.id"}}
    branded = create_automation(tenant, project, template, dataMapping=mapping,
                                trigger={"type": "asset_upload", "assetTypes": ["image"], "tags": ["brand"]})
    videos = create_automation(tenant, project, template, dataMapping=mapping,
                               trigger={"type": "asset_upload", "assetTypes": ["video"]})
    other_tag = create_automation(tenant, project, template, dataMapping=mapping,
                                  trigger={"type": "asset_upload", "tags": ["brand", "legal"]})
    asset = upload_tagged_image(tenant, project, tmp_path, worked, tags=["brand", "q4"])

    (run,) = runs_of(tenant, branded)
    assert (run["trigger"], run["status"]) == ("asset_upload", "completed"), run
    assert run["input"] == {"title": "LOGO.PNG", "logo": asset["id"]}
    assert run["payload"]["type"] == "asset.ready" and run["payload"]["data"]["object"]["id"] == asset["id"]
    assert runs_of(tenant, videos) == runs_of(tenant, other_tag) == []

    # The same asset.ready handed to the subscribers again (a sweep's republish) makes no second run.
    with tenant_context(tenant.id):
        (event,) = [event for event in Event.objects.filter(type="asset.ready")
                    if json.loads(event.body)["data"]["object"]["id"] == asset["id"]]
        Event.objects.filter(pk=event.id).update(published_at=None)
        event_dispatch(event_id=event.id)
    assert len(runs_of(tenant, branded)) == 1 and renders_count(tenant) == 1


# Schedule (beat's own scheduler is driven in test_schedules.py)


def test_a_schedule_tick_handled_twice_makes_one_run(tenant, project, template, django_capture_on_commit_callbacks):
    automation = create_automation(tenant, project, template, dataMapping={"title": {"path": "$.scheduledAt",
                                   "transform": "formatDate", "format": "%H:%M", "timezone": "Europe/Berlin"}},
                                   trigger={"type": "schedule", "cron": "*/15 * * * *", "timezone": "Europe/Berlin"})
    at = datetime(2026, 12, 6, 9, 31, 20, tzinfo=timezone.utc)
    with tenant_context(tenant.id):
        first = automation_schedule_tick(automation_id=automation["id"], now=at)
        again = automation_schedule_tick(automation_id=automation["id"], now=at + timedelta(seconds=30))
        later = automation_schedule_tick(automation_id=automation["id"], now=at + timedelta(minutes=15))
    assert first.id == again.id != later.id
    assert first.payload["scheduledAt"] == "2026-12-06T09:30:00Z"
    assert later.payload["scheduledAt"] == "2026-12-06T09:45:00Z"
    with tenant_context(tenant.id):
        run_automation_task(first.id)
        assert AutomationRun.objects.get(pk=first.id).input == {"title": "10:30"}


def test_a_tick_of_a_disabled_automation_fires_nothing(tenant, project, template):
    automation = create_automation(tenant, project, template, enabled=False,
                                   trigger={"type": "schedule", "cron": "* * * * *"})
    with tenant_context(tenant.id):
        assert schedule_tick_task(automation["id"]) is None
    assert runs_of(tenant, automation) == []


def test_a_run_whose_automation_was_disabled_before_it_started_is_skipped(tenant, project, template):
    automation = create_automation(tenant, project, template)
    response = tenant.client.post(f"/v1/automations/{automation['id']}/trigger", {"payload": {"name": "x"}},
                                  format="json")
    run_id = response.json()["id"]
    with tenant_context(tenant.id):
        AutomationRun.objects.filter(pk=run_id).update(trigger="webhook")
    tenant.client.patch(f"/v1/automations/{automation['id']}", {"enabled": False}, format="json")
    with tenant_context(tenant.id):
        assert run_automation_task(run_id) == "skipped"
    run = tenant.client.get(f"/v1/automation-runs/{run_id}").json()
    assert (run["status"], run["error"]["code"]) == ("skipped", "automation_disabled")


def test_events_without_a_render_or_asset_object_pass_through_the_subscriber(tenant, project):
    from automations.firing import automations_on_event
    from events.services import event_emit

    with tenant_context(tenant.id):
        for type in ("render.failed", "asset.ready"):
            event = event_emit(type=type, organization_id=tenant.id, project_id=project["id"], data={})
            automations_on_event(events=[event], now=event.created_at)
