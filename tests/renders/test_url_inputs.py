"""URL inputs through the API: what a submission refuses without DNS, and what the render worker fetches or refuses.

A real server on a loopback port stands in for the customer's host: with OUTBOUND_ALLOW_LOOPBACK on it
counts as public (the fetch is exercised); with it off (the test default) it is what an attacker aims
at, and it must never see a connection.
"""

import pytest
from pymediainfo import MediaInfo

from assets.storage import get_storage
from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from tests.renders.conftest import upload_template
from tests.renders.source_server import SourceServer, body, redirect

SMALL = {"format": "mp4", "width": 160, "height": 90, "fps": 10}
LAYERS = [{"type": "video", "src": "{{clip}}"}, {"type": "image", "src": "{{photo}}", "width": 40, "height": 30}]


def url_template(layers=LAYERS):
    """A 1 s, 160×90 template whose clip and photo are URLs the customer passes as props."""
    return {
        "engine": "ffmpeg", "width": 160, "height": 90, "fps": 10, "durationInFrames": 10,
        "inputSchema": {"type": "object", "properties": {"clip": {"type": "string"}, "photo": {"type": "string"}}},
        "scene": {"background": "#000000", "layers": layers},
    }


@pytest.fixture
def project(tenant):
    return tenant.create_project(name="URL inputs")


@pytest.fixture
def template(tenant, project):
    uploaded = upload_template(tenant, project["id"], url_template())
    assert uploaded["status"] == "ready", uploaded
    return uploaded


@pytest.fixture
def server(media_root):
    with SourceServer(media_root) as server:
        yield server


def submit(tenant, project, template, props):
    body = {"templateId": template["id"], "inputProps": props, "output": SMALL}
    return tenant.client.post(f"/v1/projects/{project['id']}/renders", body)


def rendered(tenant, project, template, props, worked):
    response = worked(lambda: submit(tenant, project, template, props))
    assert response.status_code == 201, response.content
    return tenant.client.get(f"/v1/renders/{response.json()['id']}").json()


def stored_renders(tenant):
    with tenant_context(tenant.id):
        return RenderJob.objects.count()


# At submission: what needs no DNS


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("file:///etc/passwd", "Must be an http:// or https:// URL"),
        ("/etc/passwd", "Must be an http:// or https:// URL"),
        ("gopher://cdn.example.com/a.png", "Must be an http:// or https:// URL"),
        ("http://169.254.169.254/latest/meta-data/", "The URL's host is not a public address"),
        ("http://127.0.0.1:8000/a.png", "The URL's host is not a public address"),
        ("http://[::ffff:10.0.0.1]/a.png", "The URL's host is not a public address"),
        ("http://0x7f000001/a.png", "The URL's host is not a public address"),
        ("http://user:secret@cdn.example.com/a.png", "The URL must not carry credentials"),
        ("https://cdn.example.com/" + "a" * 2100, "at most 2048"),
        ("ast_Lq3ZlYb1VvJQx3SYgS6TBw0e", "must mark the prop x-renderowl-asset"),
    ],
)
def test_a_url_prop_that_can_be_judged_without_dns_is_refused_naming_the_prop(tenant, project, template, value, says):
    response = submit(tenant, project, template, {"clip": "https://cdn.example.com/clip.mp4", "photo": value})

    assert response.status_code == 422, response.content
    problem = response.json()
    assert problem["code"] == "invalid_input_props"
    [error] = problem["errors"]
    assert error["field"] == "inputProps.photo"
    assert error["message"].startswith("scene.layers[1].src takes this prop as a URL to download.")
    assert says in error["message"]
    assert stored_renders(tenant) == 0


def test_a_prop_bound_twice_is_reported_once_and_other_errors_still_come_with_it(tenant, project):
    layers = [*LAYERS, {"type": "image", "src": "{{photo}}"}]
    twice = upload_template(tenant, project["id"], url_template(layers))
    response = submit(tenant, project, twice, {"clip": 5, "photo": "http://10.1.1.1/a.png"})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["inputProps.clip", "inputProps.photo"]


def test_a_template_url_refused_since_it_was_processed_is_refused_at_submission(tenant, project, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True  # as a development server processed it
    literal = upload_template(tenant, project["id"], url_template([{"type": "image", "src": "http://127.0.0.1:9/a.png"}]))
    assert literal["status"] == "ready", literal
    settings.OUTBOUND_ALLOW_LOOPBACK = False

    response = submit(tenant, project, literal, {})
    assert response.status_code == 422, response.content
    problem = response.json()
    assert (problem["code"], problem["errors"][0]["field"]) == ("invalid_template", "templateId")
    assert problem["errors"][0]["message"].startswith("scene.layers[0].src: The URL's host is not a public address")
    assert stored_renders(tenant) == 0


def test_a_dry_run_refuses_the_same_urls(tenant, project, template):
    response = tenant.client.post(
        f"/v1/projects/{project['id']}/renders?dryRun=true",
        {"templateId": template["id"], "inputProps": {"clip": "http://[::1]/c.mp4", "photo": "https://cdn.example.com/a.png"}},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "inputProps.clip"


# In the worker: what needs DNS, and the download itself


def test_url_props_are_fetched_by_the_worker_and_rendered_with_their_sound(
    tenant, project, template, server, worked, settings
):
    settings.OUTBOUND_ALLOW_LOOPBACK = True  # the test's server stands in for a public host
    job = rendered(tenant, project, template, {"clip": server.url("/clip.mp4"), "photo": server.url("/red.png")}, worked)

    assert job["status"] == "completed", job
    assert sorted(server.paths) == ["/clip.mp4", "/red.png"]
    with tenant_context(tenant.id):
        output = get_storage().local_path(key=RenderJob.objects.get(pk=job["id"]).output_key)
    assert MediaInfo.parse(output).audio_tracks  # the clip's sound, known once it was downloaded


def test_a_name_that_resolves_to_loopback_fails_source_not_allowed_and_is_never_contacted(
    tenant, project, template, server, worked
):
    job = rendered(
        tenant, project, template,
        {"clip": server.url("/clip.mp4", host="localhost"), "photo": server.url("/red.png", host="localhost")}, worked,
    )

    assert (job["status"], job["error"]["code"]) == ("failed", "source_not_allowed")
    assert job["error"]["message"].startswith("inputProps.clip (bound at scene.layers[0].src): ")
    assert server.connections == 0


@pytest.mark.parametrize(
    ("route", "code"),
    [
        (redirect("http://169.254.169.254/latest/meta-data/iam/security-credentials/"), "source_not_allowed"),
        (body(10**8, declare_length=False), "source_too_large"),
    ],
    ids=["redirect-to-metadata", "oversized"],
)
def test_what_the_worker_refuses_fails_the_render_naming_the_prop(
    tenant, project, template, server, worked, settings, route, code
):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    settings.RENDER_MAX_SOURCE_BYTES = 1_000_000
    server.routes["/clip.mp4"] = route
    job = rendered(tenant, project, template, {"clip": server.url("/clip.mp4"), "photo": server.url("/red.png")}, worked)

    assert (job["status"], job["error"]["code"]) == ("failed", code)
    assert job["error"]["message"].startswith("inputProps.clip (bound at scene.layers[0].src): ")
    assert server.paths == ["/clip.mp4"]  # the first failure ends the render
