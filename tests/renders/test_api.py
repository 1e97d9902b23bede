"""The Renders API end to end: submissions through HTTP, the render task run eagerly once they commit."""

import json

import pytest
from django.utils import timezone
from pymediainfo import MediaInfo

from assets.models import Asset
from assets.storage import get_storage
from events.models import Event
from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from renders.tasks import render_next_task
from tests.assets import media
from tests.renders.conftest import upload_media, upload_template

SMALL = {"format": "mp4", "width": 160, "height": 90, "fps": 10}


def small_template(**changes):
    """A 1 s, 160×90, 10 fps ffmpeg template with a text layer and an optional image prop."""
    return {
        "engine": "ffmpeg", "width": 160, "height": 90, "fps": 10, "durationInFrames": 10,
        "inputSchema": {
            "type": "object",
            "properties": {"title": {"type": "string"}, "logo": {"type": "string", "x-renderowl-asset": "image"}},
        },
        "defaultProps": {"title": "Hi"},
        "scene": {"background": "#102030", "layers": [{"type": "text", "text": "{{title}}", "start": 0, "end": 1}]},
        **changes,
    }


@pytest.fixture
def project(tenant):
    return tenant.create_project(name="Renders")


@pytest.fixture
def template(tenant, project):
    uploaded = upload_template(tenant, project["id"], small_template())
    assert uploaded["status"] == "ready", uploaded
    return uploaded


def submit(tenant, project, template, **body):
    body = {"templateId": template["id"], "output": SMALL, **body}
    return tenant.client.post(f"/v1/projects/{project['id']}/renders", body)


def queued(tenant, project, template, **body):
    """A render submitted and left queued (its task is not run)."""
    response = submit(tenant, project, template, **body)
    assert response.status_code == 201, response.content
    return response.json()


def set_status(tenant, job_id, status):
    with tenant_context(tenant.id):
        RenderJob.objects.filter(pk=job_id).update(status=status)


def events_of(tenant, job_id):
    with tenant_context(tenant.id):
        return [
            event.type for event in Event.objects.order_by("created_at", "id")
            if event.type.startswith("render.") and json.loads(event.body)["data"]["object"]["id"] == job_id
        ]


# Rendering end to end


def test_a_submitted_render_is_rendered_stored_and_downloadable(tenant, project, template, worked):
    response = worked(lambda: submit(tenant, project, template, inputProps={"title": "Launch"}, priority="high"))

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["id"].startswith("rnd_")
    assert (created["status"], created["priority"], created["templateId"]) == ("queued", "high", template["id"])
    assert created["inputProps"] == {"title": "Launch"}
    assert response["Location"].endswith(f"/v1/renders/{created['id']}")
    job = tenant.client.get(f"/v1/renders/{created['id']}").json()
    assert (job["status"], job["progress"], job["error"], job["attempts"]) == ("completed", 1.0, None, 1)
    assert job["startedAt"] and job["completedAt"] and job["outputUrlExpiresAt"]
    with tenant_context(tenant.id):
        stored = RenderJob.objects.get(pk=created["id"])
    assert stored.output_key == f"org/{tenant.id}/prj/{project['id']}/{created['id']}/output.mp4"
    path = get_storage().local_path(key=stored.output_key)
    assert job["outputSize"] == path.stat().st_size
    video = MediaInfo.parse(path).video_tracks[0]
    assert (video.format, video.width, video.height) == ("AVC", 160, 90)
    assert abs(job["outputDurationMs"] - 1000) <= 100
    download = tenant.client.get(job["outputUrl"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == path.read_bytes()
    sequence = events_of(tenant, created["id"])
    assert sequence[:2] == ["render.queued", "render.started"] and sequence[-1] == "render.completed"
    assert 1 <= len(sequence[2:-1]) <= 11 and set(sequence[2:-1]) == {"render.progress"}  # throttled


def test_a_png_still_with_an_image_asset_renders(tenant, project, template, media_files, worked):
    logo = upload_media(tenant, project["id"], "image", media_files)
    response = worked(lambda: submit(
        tenant, project, template, inputProps={"logo": logo["id"]}, output={**SMALL, "format": "png", "frame": 3},
    ))

    job = tenant.client.get(f"/v1/renders/{response.json()['id']}").json()
    assert job["status"] == "completed", job
    assert job["output"]["format"] == "png" and job["outputDurationMs"] == 0
    with tenant_context(tenant.id):
        stored = RenderJob.objects.get(pk=job["id"])
    image = MediaInfo.parse(get_storage().local_path(key=stored.output_key)).image_tracks[0]
    assert (image.format, image.width, image.height) == ("PNG", 160, 90)


def scene_with_logo(logo_id, layer_type="image"):
    return small_template(scene={"background": "#000000", "layers": [
        {"type": layer_type, "src": logo_id, "x": 0, "y": 0, "width": 80, "height": 90},
    ]})


def test_an_asset_the_scene_names_itself_is_rendered_and_in_use(tenant, project, media_files, worked):
    from tests.renders.test_ffmpeg_engine import decoded_frames

    logo = upload_media(tenant, project["id"], "image", media_files)  # red
    branded = upload_template(tenant, project["id"], scene_with_logo(logo["id"]))
    assert branded["status"] == "ready", branded
    dry = submit(tenant, project, branded, output={**SMALL, "format": "png"}, **{"inputProps": {}})
    queued_job = queued(tenant, project, branded)
    assert tenant.client.delete(f"/v1/assets/{logo['id']}").json()["code"] == "asset_in_use"
    tenant.client.delete(f"/v1/renders/{queued_job['id']}")

    response = worked(lambda: submit(tenant, project, branded, output={**SMALL, "format": "png"}))

    assert dry.status_code == 201
    job = tenant.client.get(f"/v1/renders/{response.json()['id']}").json()
    assert job["status"] == "completed", job
    with tenant_context(tenant.id):
        stored = RenderJob.objects.get(pk=job["id"])
    [frame] = decoded_frames(get_storage().local_path(key=stored.output_key), 160, 90)
    left, right = frame[(45 * 160 + 20) * 3:(45 * 160 + 20) * 3 + 3], frame[(45 * 160 + 140) * 3:(45 * 160 + 140) * 3 + 3]
    assert left[0] > 200 and left[1] < 60 and max(right) < 40  # the logo on the left half, black beside it


@pytest.mark.parametrize("problem", ["missing", "wrong_type"])
def test_a_scene_naming_an_asset_it_cannot_use_is_refused_naming_the_layer(tenant, project, media_files, problem):
    audio = upload_media(tenant, project["id"], "audio", media_files)
    named = "ast_missing0000000000000000" if problem == "missing" else audio["id"]
    branded = upload_template(tenant, project["id"], scene_with_logo(named))
    assert branded["status"] == "ready", branded

    response = submit(tenant, project, branded)

    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["code"], body["errors"][0]["field"]) == ("invalid_template", "templateId")
    assert body["errors"][0]["message"].startswith("scene.layers[0].src names")
    with tenant_context(tenant.id):
        assert not RenderJob.objects.exists()


def test_prop_names_are_kept_exactly_as_the_template_spells_them(tenant, project, worked):
    named = upload_template(tenant, project["id"], small_template(
        inputSchema={"type": "object", "required": ["first_name", "lastName"], "additionalProperties": False,
                     "properties": {"first_name": {"type": "string"}, "lastName": {"type": "string"}}},
        defaultProps={},
        scene={"background": "#000000", "layers": [{"type": "text", "text": "{{first_name}} {{lastName}}"}]},
    ))
    assert named["status"] == "ready", named

    response = worked(lambda: submit(tenant, project, named, inputProps={"first_name": "Ada", "lastName": "L"}))

    assert response.status_code == 201, response.content
    assert response.json()["inputProps"] == {"first_name": "Ada", "lastName": "L"}
    job = tenant.client.get(f"/v1/renders/{response.json()['id']}").json()
    assert (job["status"], job["inputProps"]) == ("completed", {"first_name": "Ada", "lastName": "L"})


def test_each_stage_of_a_render_is_a_progress_event_in_order(tenant, project, template, worked):
    job_id = worked(lambda: submit(tenant, project, template)).json()["id"]

    with tenant_context(tenant.id):
        bodies = [json.loads(event.body)["data"]["object"] for event in Event.objects.order_by("created_at", "id")
                  if event.type == "render.progress"]
    stages = [body["stage"] for body in bodies if body["id"] == job_id]
    assert [stage for i, stage in enumerate(stages) if i == 0 or stage != stages[i - 1]] == [
        "fetching", "rendering", "uploading",
    ]
    assert tenant.client.get(f"/v1/renders/{job_id}").json()["stage"] == ""


def test_events_carry_no_signed_url_and_go_to_the_renders_webhook_url(tenant, project, template, worked):
    response = worked(lambda: submit(tenant, project, template, webhookUrl="https://example.com/hooks"))

    with tenant_context(tenant.id):
        events = list(Event.objects.filter(type__startswith="render.").order_by("created_at", "id"))
    assert [event.type for event in events][0] == "render.queued"
    assert events[-1].type == "render.completed"
    assert all(event.target_urls == ["https://example.com/hooks"] for event in events)
    assert all("outputUrl" not in json.loads(event.body)["data"]["object"] for event in events)
    assert json.loads(events[-1].body)["data"]["object"]["id"] == response.json()["id"]


def test_a_failing_render_is_failed_with_the_engines_error(tenant, project, worked, settings):
    broken = upload_template(
        tenant, project["id"],
        small_template(scene={"layers": [{"type": "image", "src": "https://localhost:1/none.png", "start": 0, "end": 1}]}),
    )
    assert broken["status"] == "ready", broken
    response = worked(lambda: submit(tenant, project, broken))

    job = tenant.client.get(f"/v1/renders/{response.json()['id']}").json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "source_not_allowed" and job["error"]["message"].startswith("scene.layers[0].src: ")
    assert job["outputUrl"] is None
    assert events_of(tenant, job["id"])[-1] == "render.failed"


def test_the_task_only_claims_a_queued_job_so_running_it_twice_changes_nothing(tenant, project, template, worked):
    job_id = worked(lambda: submit(tenant, project, template)).json()["id"]
    before = events_of(tenant, job_id)

    assert render_next_task() is None

    assert tenant.client.get(f"/v1/renders/{job_id}").json()["attempts"] == 1
    assert events_of(tenant, job_id) == before


def test_a_job_cancelled_before_its_task_runs_is_left_cancelled(tenant, project, template):
    job = queued(tenant, project, template)
    assert tenant.client.delete(f"/v1/renders/{job['id']}").status_code == 200

    assert render_next_task() is None

    assert tenant.client.get(f"/v1/renders/{job['id']}").json()["status"] == "cancelled"


# Submission


def test_a_dry_run_answers_the_resolved_job_and_stores_queues_and_emits_nothing(tenant, project, template, worked):
    response = worked(lambda: tenant.client.post(
        f"/v1/projects/{project['id']}/renders?dryRun=true", {"templateId": template["id"], "inputProps": {}},
    ))

    assert response.status_code == 200, response.content
    assert response.json()["inputProps"] == {"title": "Hi"}
    assert response.json()["output"] == {"format": "mp4", "width": 160, "height": 90, "fps": 10, "quality": "standard",
                                         "frame": None}
    with tenant_context(tenant.id):
        assert not RenderJob.objects.exists()
        assert not Event.objects.filter(type__startswith="render.").exists()


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"templateId": "ast_missing"}, 404, "not_found", "templateId"),
        ({"inputProps": {"title": 5}}, 422, "invalid_input_props", "inputProps.title"),
        ({"output": {"format": "avi"}}, 400, "invalid_output", "output.format"),
        ({"webhookUrl": "ftp://example.com"}, 400, "invalid_webhook_url", "webhookUrl"),
        ({"priority": "urgent"}, 400, None, "priority"),
    ],
)
def test_a_bad_submission_is_refused_naming_the_field_and_stores_nothing(
    tenant, project, template, body, status, code, field
):
    response = submit(tenant, project, template, **body)

    assert response.status_code == status, response.content
    problem = response.json()
    if code:
        assert problem["code"] == code
    fields = [problem.get("field")] + [error.get("field") for error in problem.get("errors", [])]
    assert field in fields, problem
    with tenant_context(tenant.id):
        assert not RenderJob.objects.exists()


def unreadable(tenant, project, settings):
    """A template processed before scenes were kept in metadata, whose stored file is gone."""
    template = upload_template(tenant, project["id"], small_template())
    with tenant_context(tenant.id):
        asset = Asset.objects.get(pk=template["id"])
        asset.metadata = {key: value for key, value in asset.metadata.items() if key != "scene"}
        asset.save(update_fields=["metadata"])
    (settings.ASSET_STORAGE_ROOT / asset.storage_key).unlink()
    return {"templateId": template["id"]}


def remotion_without_a_server(tenant, project, settings):
    settings.REMOTION_SERVER_URL = ""
    return {"templateId": upload_template(tenant, project["id"], media.remotion_template())["id"]}


def a_ref_loop(tenant, project, settings):
    schema = {"type": "object", "allOf": [{"$ref": "#"}], "properties": {"title": {"type": "string"}}}
    return {"templateId": upload_template(tenant, project["id"], small_template(inputSchema=schema))["id"]}


def longer_than_allowed(tenant, project, settings):
    settings.RENDER_MAX_DURATION_SECONDS = 0.5
    return {"templateId": upload_template(tenant, project["id"], small_template())["id"]}


def body_with(**changes):
    return lambda tenant, project, settings: changes


@pytest.mark.parametrize(
    ("make_body", "status", "code", "field"),
    [
        (unreadable, 409, "template_unreadable", "templateId"),
        (remotion_without_a_server, 409, "engine_unavailable", "templateId"),
        (a_ref_loop, 422, "invalid_template", "templateId"),
        (longer_than_allowed, 400, "render_too_long", "templateId"),
        pytest.param(body_with(templateId=None), 400, None, "templateId", id="no-template"),
        pytest.param(body_with(inputProps=["title"]), 422, "invalid_input_props", "inputProps", id="props-a-list"),
        pytest.param(body_with(output="mp4"), 400, "invalid_output", "output", id="output-a-string"),
        pytest.param(
            body_with(output={"format": "mp4", "width": 161}), 400, "invalid_output", "output.width", id="odd-width",
        ),
        pytest.param(body_with(metadata=["a", "list"]), 400, None, "metadata", id="metadata-a-list"),
    ],
)
def test_a_submission_and_its_dry_run_are_refused_alike_naming_the_field(
    tenant, project, template, settings, make_body, status, code, field
):
    body = {"templateId": template["id"], **make_body(tenant, project, settings)}
    body = {name: value for name, value in body.items() if value is not None}

    for query in ("", "?dryRun=true"):
        response = tenant.client.post(f"/v1/projects/{project['id']}/renders{query}", body, format="json")

        assert response.status_code == status, (query, response.content)
        assert response["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert code is None or problem["code"] == code, (query, problem)
        assert field in [problem.get("field")] + [error.get("field") for error in problem.get("errors", [])], problem
    with tenant_context(tenant.id):
        assert not RenderJob.objects.exists()
        assert not Event.objects.filter(type__startswith="render.").exists()


def test_dry_run_takes_only_true_or_false(tenant, project, template):
    response = tenant.client.post(f"/v1/projects/{project['id']}/renders?dryRun=yes", {"templateId": template["id"]})

    assert (response.status_code, response.json()["code"]) == (400, "invalid_parameter")
    assert response.json()["errors"] == [{"field": "dryRun", "message": "dryRun must be true or false."}]
    with tenant_context(tenant.id):
        assert not RenderJob.objects.exists()


def test_a_render_of_a_template_not_ready_is_409(tenant, project):
    pending = upload_template(tenant, project["id"], small_template(), process=False)

    response = submit(tenant, project, pending)

    assert (response.status_code, response.json()["code"]) == (409, "template_not_ready")


# Reading and listing


def test_the_list_filters_by_status_and_template(tenant, project, template):
    other = upload_template(tenant, project["id"], small_template(fps=5))
    first, second, third = (queued(tenant, project, t) for t in (template, template, other))
    set_status(tenant, second["id"], "failed")

    def ids(query):
        response = tenant.client.get(f"/v1/projects/{project['id']}/renders{query}")
        assert response.status_code == 200, response.content
        return [job["id"] for job in response.json()["data"]]

    assert ids("") == [third["id"], second["id"], first["id"]]
    assert ids("?status=queued") == [third["id"], first["id"]]
    assert ids(f"?templateId={template['id']}") == [second["id"], first["id"]]
    bad = tenant.client.get(f"/v1/projects/{project['id']}/renders?status=done")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_filter")


def test_another_organizations_renders_are_not_found(tenant, other_tenant, project, template):
    job = queued(tenant, project, template)

    assert other_tenant.client.get(f"/v1/renders/{job['id']}").status_code == 404
    assert other_tenant.client.delete(f"/v1/renders/{job['id']}").status_code == 404
    assert other_tenant.client.get(f"/v1/projects/{project['id']}/renders").status_code == 404
    assert submit(other_tenant, project, template).status_code == 404
    dry_run = other_tenant.client.post(f"/v1/projects/{project['id']}/renders?dryRun=true", {"templateId": template["id"]})
    assert dry_run.status_code == 404
    assert other_tenant.client.head(f"/v1/renders/{job['id']}").status_code == 404
    with tenant_context(other_tenant.id):
        assert not RenderJob.objects.filter(pk=job["id"]).exists()  # row-level security, not only the filter
    assert tenant.client.get(f"/v1/renders/{job['id']}").json()["status"] == "queued"


# Cancelling


@pytest.mark.parametrize("status", ["pending", "queued"])
def test_a_pending_or_queued_render_is_cancelled(tenant, project, template, status):
    job = queued(tenant, project, template)
    set_status(tenant, job["id"], status)

    response = tenant.client.delete(f"/v1/renders/{job['id']}")

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["id"]) == ("cancelled", job["id"])
    assert response.json()["completedAt"]
    assert events_of(tenant, job["id"]) == ["render.queued", "render.cancelled"]


@pytest.mark.parametrize("status", ["rendering", "completed", "failed", "cancelled"])
def test_a_render_past_queued_cannot_be_cancelled(tenant, project, template, status):
    job = queued(tenant, project, template)
    set_status(tenant, job["id"], status)

    response = tenant.client.delete(f"/v1/renders/{job['id']}")

    assert (response.status_code, response.json()["code"]) == (409, "render_not_cancellable")
    assert tenant.client.get(f"/v1/renders/{job['id']}").json()["status"] == status
    assert events_of(tenant, job["id"]) == ["render.queued"]


# Cascades


def test_deleting_the_project_cancels_its_pending_and_queued_renders(tenant, project, template):
    waiting, pending, running = (queued(tenant, project, template) for _ in range(3))
    set_status(tenant, pending["id"], "pending")
    set_status(tenant, running["id"], "rendering")

    assert tenant.client.delete(f"/v1/projects/{project['id']}").status_code == 204

    with tenant_context(tenant.id):
        statuses = dict(RenderJob.objects.values_list("id", "status"))
    assert statuses == {waiting["id"]: "cancelled", pending["id"]: "cancelled", running["id"]: "rendering"}
    assert events_of(tenant, waiting["id"]) == ["render.queued", "render.cancelled"]


@pytest.mark.parametrize("status", ["pending", "queued", "rendering"])
def test_an_asset_a_render_needs_cannot_be_deleted(tenant, project, template, media_files, status):
    logo = upload_media(tenant, project["id"], "image", media_files)
    job = queued(tenant, project, template, inputProps={"logo": logo["id"]})
    set_status(tenant, job["id"], status)

    for asset in (template, logo):
        response = tenant.client.delete(f"/v1/assets/{asset['id']}")
        assert (response.status_code, response.json()["code"]) == (409, "asset_in_use"), response.content
        assert job["id"] in response.json()["detail"]
        assert tenant.client.get(f"/v1/assets/{asset['id']}").status_code == 200


def test_an_asset_of_finished_renders_can_be_deleted(tenant, project, template):
    job = queued(tenant, project, template)
    set_status(tenant, job["id"], "completed")

    assert tenant.client.delete(f"/v1/assets/{template['id']}").status_code == 204
    assert tenant.client.get(f"/v1/renders/{job['id']}").json()["templateId"] == template["id"]


def test_timestamps_follow_the_job(tenant, project, template):
    before = timezone.now()
    job = queued(tenant, project, template)

    assert job["queuedAt"] >= before.isoformat().replace("+00:00", "Z")[:19]
    assert job["startedAt"] is None and job["completedAt"] is None


@pytest.mark.parametrize("priority", ["low", "normal", "high"])
def test_a_submission_wakes_a_renderer_once_committed(tenant, project, template, priority,
                                                       django_capture_on_commit_callbacks):
    from celery.signals import before_task_publish

    from renderowl.celery import app

    published = []

    def record(sender=None, routing_key=None, headers=None, body=None, **kwargs):
        published.append((sender, routing_key, list(body[0])))

    before_task_publish.connect(record, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            queued(tenant, project, template, priority=priority)
        assert not [entry for entry in published if entry[0] == "renders.render_next_task"]  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        before_task_publish.disconnect(record)
        with app.connection_for_write() as broker:  # no worker of this test database will consume it
            broker.default_channel.queue_purge("renders")

    # A wake-up names no job: the renderer picks one from PostgreSQL (see test_scheduling.py).
    assert ("renders.render_next_task", "renders", []) in published


def test_a_render_past_render_timeout_seconds_fails_with_render_timeout(tenant, project, template, worked, settings):
    settings.RENDER_TIMEOUT_SECONDS = 0

    job_id = worked(lambda: submit(tenant, project, template)).json()["id"]

    job = tenant.client.get(f"/v1/renders/{job_id}").json()
    assert (job["status"], job["error"]["code"]) == ("failed", "render_timeout")
    assert "RENDER_TIMEOUT_SECONDS" in job["error"]["message"]


def test_a_render_submitted_with_a_test_key_is_not_livemode(tenant, project, template):
    from rest_framework.test import APIClient

    from organizations.services import api_key_create

    issued = api_key_create(organization=tenant.organization, name="test key", mode="test")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")

    response = client.post(f"/v1/projects/{project['id']}/renders", {"templateId": template["id"]}, format="json")

    assert (response.status_code, response.json()["livemode"]) == (201, False)
    assert queued(tenant, project, template)["livemode"] is True


@pytest.mark.parametrize("state", ["queued", "completed", "failed", "output deleted"])
def test_a_poll_answers_what_the_job_serializer_writes(tenant, project, template, state):
    """GET /v1/renders/{id} reads a row, not a model instance: its body is the instance path's, byte for byte."""
    import time_machine

    from renders.views import with_output_url

    job = queued(tenant, project, template, inputProps={"title": "Poll", "Keep_Case": 1},
                 webhookUrl="https://example.com/hook", metadata={"camel_key": "v"})
    changes = {
        "queued": {},
        "completed": {"status": "completed", "progress": 1.0, "output_key": "org/x/output.mp4", "output_size": 10,
                      "started_at": timezone.now(), "completed_at": timezone.now()},
        "failed": {"status": "failed", "error": {"code": "render_failed", "message": "No."}},
        "output deleted": {"status": "completed", "output_key": "", "output_deleted_at": timezone.now()},
    }[state]
    with tenant_context(tenant.id):
        RenderJob.objects.filter(pk=job["id"]).update(**changes)
    with time_machine.travel(timezone.now(), tick=False):
        body = tenant.client.get(f"/v1/renders/{job['id']}").content
        with tenant_context(tenant.id):
            expected = with_output_url(RenderJob.objects.get(pk=job["id"]))
    from renderowl.api.renderers import CamelCaseJSONRenderer

    assert body == CamelCaseJSONRenderer().render(expected)
    assert (json.loads(body)["outputUrl"] is not None) == (state == "completed")
