"""An asset's deletion and a render submission that uses it, raced: no active render is left without its asset.

Each side runs in its own thread and connection; the test holds the delete inside its transaction
(after the asset_in_use check, through the `asset_deleting` signal) and waits until PostgreSQL
reports the submission blocked on the asset row's lock.
"""

import threading

import pytest

from assets.signals import asset_deleting
from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from tests.assets import media
from tests.conftest import Tenant
from tests.projects.test_cascade import Side, client_for, wait_for_lock_wait
from tests.renders.conftest import upload_template

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


def test_a_render_submitted_while_its_template_is_being_deleted_is_refused():
    tenant = Tenant("Race")
    project = tenant.create_project(name="P")
    template = upload_template(tenant, project["id"], media.title_card_template())
    deleting, release = threading.Event(), threading.Event()

    def hold_the_delete(sender, **kwargs):  # connected after renders' check: the delete has looked for jobs
        deleting.set()
        assert release.wait(20)

    asset_deleting.connect(hold_the_delete, dispatch_uid="test.hold_the_asset_delete")
    try:
        delete = Side(lambda: client_for(tenant).delete(f"/v1/assets/{template['id']}"))
        delete.start()
        assert deleting.wait(20)
        submit = Side(lambda: client_for(tenant).post(
            f"/v1/projects/{project['id']}/renders", {"templateId": template["id"]},
        ))
        submit.start()
        wait_for_lock_wait()
        release.set()
        delete.join(20), submit.join(20)
    finally:
        release.set()
        asset_deleting.disconnect(dispatch_uid="test.hold_the_asset_delete")

    assert delete.error is None and delete.result.status_code == 204
    assert submit.error is None
    assert (submit.result.status_code, submit.result.json()["code"]) == (404, "not_found"), submit.result.content
    with tenant_context(tenant.id):
        assert not RenderJob.objects.exists()
