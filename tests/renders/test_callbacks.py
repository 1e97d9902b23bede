"""The Remotion callback endpoint: signed per attempt, idempotent, bounded, and scoped to one organization's job."""

import json
import time

import pytest
from django.urls import reverse

from renderowl.tenancy import tenant_context
from renders.callbacks import callback_secret, callback_signature
from renders.models import RenderJob
from renders.scheduling import render_claim_next
from tests.conftest import Tenant
from tests.renders.conftest import upload_template
from tests.renders.test_remotion import TEMPLATE


@pytest.fixture(autouse=True)
def remotion_server(settings):
    settings.REMOTION_SERVER_URL = "http://remotion.invalid"


def rendering_job(tenant):
    """A remotion job a renderer has claimed (attempt 1), waiting on its server's callbacks."""
    project = tenant.create_project(name="Promos")
    template = upload_template(tenant, project["id"], TEMPLATE)
    response = tenant.client.post(f"/v1/projects/{project['id']}/renders", {"templateId": template["id"]})
    assert response.status_code == 201, response.content
    claimed = render_claim_next()
    assert (claimed.id, claimed.attempts) == (response.json()["id"], 1)
    return claimed


def url(job, *, organization_id=None, render_id=None, attempt=None):
    return reverse("render-remote-callback", kwargs={
        "organization_id": organization_id or job.organization_id, "render_id": render_id or job.id,
        "attempt": attempt or job.attempts,
    })


def body_for(job, status="progress", **fields):
    return json.dumps({"type": status, "renderId": "job-1", "customData": {"renderId": job.id}, **fields}).encode()


def send(client, path, body, *, status="progress", secret=None, signature=None):
    headers = {"HTTP_X_REMOTION_STATUS": status}
    if signature is None and secret is not None:
        signature = callback_signature(secret, body)
    if signature is not None:
        headers["HTTP_X_REMOTION_SIGNATURE"] = signature
    return client.post(path, body, content_type="application/json", **headers)


def secret_of(job, **changes):
    ids = {"organization_id": job.organization_id, "render_id": job.id, "attempt": job.attempts, **changes}
    return callback_secret(**ids)


def report_of(tenant, job):
    with tenant_context(tenant.id):
        return RenderJob.objects.get(pk=job.id).remote_report


def test_a_signed_progress_callback_is_recorded_for_the_waiting_worker(tenant, anonymous):
    job = rendering_job(tenant)

    response = send(anonymous, url(job), body_for(job, progress=0.4), secret=secret_of(job))

    assert (response.status_code, response.json()) == (200, {"recorded": True})
    report = report_of(tenant, job)
    assert (report["attempt"], report["status"], report["progress"], report["errors"]) == (1, "progress", 0.4, [])
    assert abs(report["at"] - time.time()) < 60


def test_a_missing_or_wrong_signature_is_401_and_changes_nothing(tenant, anonymous):
    job = rendering_job(tenant)
    body = body_for(job, "success")
    good = callback_signature(secret_of(job), body)

    for signature in (None, "", "sha512=" + "0" * 128, good.replace("sha512=", "sha256="), good[:-2],
                      callback_signature(secret_of(job), body + b" "), callback_signature(secret_of(job, attempt=2), body)):
        response = send(anonymous, url(job), body, status="success", signature=signature)
        assert (response.status_code, response.json()["code"]) == (401, "invalid_signature"), signature
        assert "webhook.secret" in response.json()["detail"]
    assert report_of(tenant, job) is None


def test_a_repeated_success_callback_changes_nothing(tenant, anonymous):
    job = rendering_job(tenant)
    body = body_for(job, "success", outputFile="https://bucket/out.mp4", timeToFinish=1200)

    first = send(anonymous, url(job), body, status="success", secret=secret_of(job))
    recorded = report_of(tenant, job)
    again = send(anonymous, url(job), body, status="success", secret=secret_of(job))
    late = send(anonymous, url(job), body_for(job, progress=0.5), secret=secret_of(job))
    error = send(anonymous, url(job), body_for(job, "error"), status="error", secret=secret_of(job))

    assert first.json() == {"recorded": True}
    assert [response.json() for response in (again, late, error)] == [{"recorded": False}] * 3
    assert report_of(tenant, job) == recorded and recorded["status"] == "success" and recorded["progress"] == 1.0


def test_progress_never_goes_back_and_an_error_keeps_the_servers_messages(tenant, anonymous):
    job = rendering_job(tenant)
    send(anonymous, url(job), body_for(job, progress=0.6), secret=secret_of(job))
    send(anonymous, url(job), body_for(job, progress=0.2), secret=secret_of(job))
    assert report_of(tenant, job)["progress"] == 0.6

    errors = [{"message": "x" * 900, "name": "Error", "stack": "..."}, {"message": "second\x00"}, 3, {}, "third",
              {"message": "fourth"}]
    response = send(anonymous, url(job), body_for(job, "error", errors=errors), status="error", secret=secret_of(job))

    assert response.json() == {"recorded": True}
    report = report_of(tenant, job)
    assert (report["status"], report["errors"]) == ("error", ["x" * 500, "second"])


def test_a_callback_cannot_touch_another_organizations_job(tenant, anonymous):
    ours = rendering_job(tenant)
    other = Tenant("Globex")
    theirs = rendering_job(other)
    body = body_for(theirs, "success")

    # Our job's secret on their job's URL, and their job through our organization's URL, correctly signed.
    forged = send(anonymous, url(theirs), body, status="success", secret=secret_of(ours))
    ours_url = url(theirs, organization_id=ours.organization_id)
    crossed = send(anonymous, ours_url, body, status="success",
                   secret=secret_of(theirs, organization_id=ours.organization_id))
    # Our own URL and secret, with a body that names their job.
    named = send(anonymous, url(ours), body, status="success", secret=secret_of(ours))

    assert (forged.status_code, forged.json()["code"]) == (401, "invalid_signature")
    assert (crossed.status_code, crossed.json()["code"]) == (404, "not_found")
    assert (named.status_code, named.json()["code"], named.json()["errors"][0]["field"]) == (
        400, "invalid_callback", "customData.renderId",
    )
    assert report_of(other, theirs) is None and report_of(tenant, ours) is None


def test_a_callback_for_an_attempt_that_is_over_changes_nothing(tenant, anonymous):
    job = rendering_job(tenant)

    response = send(anonymous, url(job, attempt=2), body_for(job), secret=secret_of(job, attempt=2))

    assert (response.status_code, response.json()) == (200, {"recorded": False})
    assert report_of(tenant, job) is None


@pytest.mark.parametrize(("status", "body", "field"), [
    ("finished", None, "X-Remotion-Status"),
    (None, None, "X-Remotion-Status"),
    ("progress", b"not json", "body"),
    ("progress", b"[1, 2]", "body"),
    ("progress", b"[" * 5000 + b"]" * 5000, "body"),
    ("progress", b'{"customData": {}}', "customData.renderId"),
    ("progress", "progress 1.5", "progress"),
    ("progress", "progress NaN", "progress"),
])
def test_a_malformed_callback_is_400_naming_what_is_wrong(tenant, anonymous, status, body, field):
    job = rendering_job(tenant)
    if body is None:
        body = body_for(job)
    elif isinstance(body, str):
        body = body_for(job).replace(b'"type"', f'"progress": {body.split()[1]}, "type"'.encode())
    headers = {"HTTP_X_REMOTION_SIGNATURE": callback_signature(secret_of(job), body)}
    if status is not None:
        headers["HTTP_X_REMOTION_STATUS"] = status

    response = anonymous.post(url(job), body, content_type="application/json", **headers)

    assert (response.status_code, response.json()["code"], response.json()["errors"][0]["field"]) == (
        400, "invalid_callback", field,
    )
    assert report_of(tenant, job) is None


def test_a_callback_body_over_64_kib_is_refused_unread(tenant, anonymous):
    job = rendering_job(tenant)
    body = body_for(job, padding="x" * 64 * 1024)

    response = send(anonymous, url(job), body, secret=secret_of(job))

    assert (response.status_code, response.json()["code"]) == (413, "callback_too_large")
    assert report_of(tenant, job) is None


def test_callbacks_are_rate_limited_per_client_address(tenant, anonymous, settings):
    job = rendering_job(tenant)
    settings.REMOTION_CALLBACKS_PER_MINUTE = 2
    body = body_for(job, progress=0.1)

    # Five at once: a minute's boundary may split them, but one window still gets three.
    responses = [send(anonymous, url(job), body, secret=secret_of(job), **{}) for _ in range(5)]

    limited = [response for response in responses if response.status_code == 429]
    assert limited and all(response.status_code in (200, 429) for response in responses)
    assert limited[0].json()["code"] == "rate_limited" and int(limited[0]["Retry-After"]) >= 1
