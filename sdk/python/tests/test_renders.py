"""Renders: submit, dry run, wait with progress, the event stream, get, list, cancel, download."""

import io
import json

import pytest
from conftest import SMALL, TEMPLATE, unique

from renderowl_sdk import ConflictError, NotFoundError, ValidationError

# A template whose image comes from a URL prop: pointed at a closed local port, its render fails.
BROKEN_TEMPLATE = {
    "engine": "ffmpeg", "composition": "broken", "width": 320, "height": 180, "fps": 15, "durationInFrames": 15,
    "inputSchema": {"type": "object", "properties": {"img": {"type": "string"}}},
    "defaultProps": {},
    "scene": {"background": "#000000", "layers": [{"type": "image", "src": "{{img}}"}]},
}
UNREACHABLE_IMAGE = "http://127.0.0.1:9/missing.png"


def test_dry_run_resolves_props_and_output_without_creating_a_job(client, project, template):
    job = client.renders.dry_run(project.id, template_id=template.id, input_props={"title": "Dry"}, output=SMALL)
    assert job.input_props == {"title": "Dry", "subtitle": "Made with Renderowl", "accent": "#ff6b35"}
    assert (job.output["width"], job.output["height"]) == (320, 180)
    with pytest.raises(NotFoundError):
        client.renders.get(job.id)


def test_submit_and_wait_reports_progress_until_completed(client, project, template, tmp_path):
    seen = []
    job = client.renders.submit(project.id, template_id=template.id, input_props={"title": "Waited"}, output=SMALL,
                                metadata={"orderId": "42"})
    assert job.status == "queued" and job.id.startswith("rnd_")
    done = client.renders.wait(job.id, on_progress=seen.append)
    assert done.status == "completed" and done.output_url and done.output_size > 0
    assert done.metadata == {"orderId": "42"}
    assert seen[-1].status == "completed"
    assert any(state.status == "rendering" for state in seen)
    progress = [state.progress for state in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0

    target = tmp_path / "out.mp4"
    assert client.renders.download(job.id, target) == done.output_size
    assert target.read_bytes()[4:8] == b"ftyp"
    buffer = io.BytesIO()
    client.renders.download(job.id, buffer)
    assert buffer.getvalue() == target.read_bytes()


def test_the_stream_of_a_finished_render_is_its_final_state(client, completed_render):
    events = list(client.renders.stream(completed_render.id))
    assert [event.status for event in events] == ["completed"]
    assert events[0].output_url


def test_get_and_list_with_filters(client, project, template, completed_render):
    fetched = client.renders.get(completed_render.id)
    assert fetched.status == "completed" and fetched.output_url and fetched.template_id == template.id
    completed = list(client.renders.list(project.id, status="completed", template_id=template.id, limit=1))
    assert completed_render.id in [job.id for job in completed]
    assert all(job.status == "completed" for job in completed)


def test_cancel_a_queued_render_and_not_a_finished_one(client, template):
    own = client.projects.create(name=unique("Cancel"))
    tpl = client.assets.upload(own.id, TEMPLATE, wait=True)
    # The organization renders two jobs at once: the third submitted waits in the queue.
    jobs = [client.renders.submit(own.id, template_id=tpl.id, input_props={"title": f"Job {i}"}, output=SMALL,
                                  priority="low") for i in range(3)]
    cancelled = client.renders.cancel(jobs[2].id)
    assert cancelled.status == "cancelled"
    finished = client.renders.wait(jobs[0].id)
    assert finished.status == "completed"
    with pytest.raises(ConflictError) as caught:
        client.renders.cancel(jobs[0].id)
    assert caught.value.code == "render_not_cancellable"


def test_a_render_that_fails_is_returned_failed_with_its_error(client, project):
    broken = client.assets.upload(project.id, json.dumps(BROKEN_TEMPLATE).encode(), name="broken.json", wait=True)
    assert broken.status == "ready", broken.error
    job = client.renders.submit(project.id, template_id=broken.id, input_props={"img": UNREACHABLE_IMAGE})
    done = client.renders.wait(job.id, use_stream=False, poll_interval=0.5)
    assert done.status == "failed" and done.error.code == "source_unavailable"
    with pytest.raises(ConflictError, match="no output"):
        client.renders.download(job.id, io.BytesIO())


def test_invalid_props_are_a_validation_error_naming_the_prop(client, project, template):
    with pytest.raises(ValidationError) as caught:
        client.renders.submit(project.id, template_id=template.id, input_props={"title": 5})
    assert caught.value.status == 422 and caught.value.code == "invalid_input_props"
    assert caught.value.errors[0]["field"] == "inputProps.title"
    with pytest.raises(ValidationError, match="priority"):
        client.renders.submit(project.id, template_id=template.id, priority="urgent")
