"""A project's deletion and the creation of its children, raced: no child is ever left live on a deleted project.

Each side runs in its own thread and database connection; the test holds one side inside its
transaction (through the `project_deleted` domain signal, or by keeping the child's transaction
open) and waits until PostgreSQL reports the other side blocked on the project row's lock.
"""

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from assets.models import Asset
from assets.services import asset_create
from projects.signals import project_deleted
from renderowl.tenancy import tenant_context
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)

ASSET = {"type": "image", "name": "logo.png", "contentType": "image/png", "size": 10}


def wait_for_lock_wait(timeout=20):
    """Block until some other session waits on a row lock (the racing request)."""
    owner = connections["owner"]
    with owner.cursor() as cursor:
        for _ in range(int(timeout / 0.02)):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.02)
    raise AssertionError("the racing request never waited on the project's lock")


class Side(threading.Thread):
    """Run `target` in a thread with its own database connections, keeping what it returned or raised."""

    def __init__(self, target):
        super().__init__(daemon=True)
        self.target, self.result, self.error = target, None, None

    def run(self):
        try:
            self.result = self.target()
        except Exception as exc:  # noqa: BLE001 - surfaced by the test's assertions
            self.error = exc
        finally:
            connections.close_all()


def client_for(tenant):
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {tenant.issued.raw_key}")
    client.default_format = "json"
    return client


def test_a_child_created_while_the_project_is_being_deleted_is_refused():
    tenant = Tenant("Race")
    project = tenant.create_project(name="P")
    deleting, release = threading.Event(), threading.Event()

    def hold_the_delete(sender, **kwargs):
        deleting.set()
        assert release.wait(20)

    project_deleted.connect(hold_the_delete, dispatch_uid="test.hold_the_delete")
    try:
        delete = Side(lambda: client_for(tenant).delete(f"/v1/projects/{project['id']}"))
        delete.start()
        assert deleting.wait(20)
        create = Side(lambda: client_for(tenant).post(f"/v1/projects/{project['id']}/assets", ASSET))
        create.start()
        wait_for_lock_wait()
        release.set()
        delete.join(20), create.join(20)
    finally:
        release.set()
        project_deleted.disconnect(dispatch_uid="test.hold_the_delete")
    assert delete.result.status_code == 204
    assert create.result.status_code == 404, create.result.content
    assert not Asset.objects.using("owner").filter(project_id=project["id"]).exists()


def test_a_child_committed_during_the_delete_is_orphaned_with_the_rest():
    tenant = Tenant("Race")
    project = tenant.create_project(name="P")
    created, release = threading.Event(), threading.Event()

    def create_and_hold():
        with tenant_context(tenant.id):
            asset, _ = asset_create(
                organization=tenant.organization, project_id=project["id"], type="image", name="logo.png",
                content_type="image/png", size=10,
            )
            created.set()
            assert release.wait(20)
        return asset

    create = Side(create_and_hold)
    create.start()
    assert created.wait(20)
    delete = Side(lambda: client_for(tenant).delete(f"/v1/projects/{project['id']}"))
    delete.start()
    wait_for_lock_wait()
    release.set()
    create.join(20), delete.join(20)
    assert create.error is None and delete.result.status_code == 204
    asset = Asset.objects.using("owner").get(pk=create.result.id)
    assert asset.orphaned_at is not None
    assert tenant.client.get(f"/v1/assets/{asset.id}").status_code == 404
