"""Test database and clients. The suite runs against real PostgreSQL and Redis.

The test database is created and migrated by the owner role, exactly as `migrate` does in
production; the API and the tests' `default` connection then use the application role, so
row-level security is in force in every test.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models.signals import post_migrate
from django.test import Client
from django.test.utils import setup_databases, teardown_databases
from rest_framework.test import APIClient

from organizations.services import api_key_create, organization_create
from renderowl.ids import random_token


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker, django_db_keepdb):
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, keepdb=django_db_keepdb, aliases={"owner"})
        test_name = connections["owner"].settings_dict["NAME"]
        connections["default"].close()
        connections["default"].settings_dict["NAME"] = test_name
        grant_test_only_privileges()
    yield
    with django_db_blocker.unblock():
        connections["default"].close()
        teardown_databases(config, verbosity=0, keepdb=django_db_keepdb)


def grant_test_only_privileges():
    """What the application role may do in the throwaway test database only, beyond its production grants.

    TRUNCATE: transactional tests flush through every connection they use. INSERT on organizations:
    the fixtures create organizations in the test's own (application role) transaction so they roll
    back with it; in production only operators create them, through the owner connection.
    """
    app_role = connections["default"].settings_dict["USER"]
    with connections["owner"].cursor() as cursor:
        cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{app_role}"')
        cursor.execute(f'GRANT INSERT ON TABLE organizations TO "{app_role}"')


def _regrant_test_only_privileges(sender, using, **kwargs):
    # After renderowl's own post_migrate grant (connected earlier), which revokes everything first;
    # a transactional test's flush of the owner database runs both again.
    if sender.name == "renderowl" and using == "owner":
        grant_test_only_privileges()


post_migrate.connect(_regrant_test_only_privileges, dispatch_uid="tests.grant_test_only_privileges")


def make_organization(name=None):
    name = name or f"Org {random_token(6)}"
    return organization_create(name=name, slug=f"org-{random_token(10).lower()}")


class Tenant:
    """An organization with an API client authenticated by one of its keys."""

    def __init__(self, name=None):
        self.organization = make_organization(name)
        self.issued = api_key_create(organization=self.organization, name="tests")
        self.client = APIClient(HTTP_AUTHORIZATION=f"Bearer {self.issued.raw_key}")
        self.client.default_format = "json"

    @property
    def id(self):
        return self.organization.id

    def create_project(self, **body):
        body.setdefault("name", f"Project {random_token(6)}")
        response = self.client.post("/v1/projects", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()


@pytest.fixture
def tenant(db):
    return Tenant("Acme")


@pytest.fixture
def other_tenant(db):
    return Tenant("Globex")


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def operator():
    """A logged-in Django admin superuser (operators' session login, not an API key); needs the owner database."""
    user = get_user_model().objects.db_manager("owner").create_superuser("ops", "ops@example.com", "s3cret-pass")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def worked(django_capture_on_commit_callbacks):
    """`worked(lambda: client.post(...))`: the request, then at once the tasks it queued on commit.

    A request only queues its work (a webhook test send, a render); here Celery's eager mode runs those
    tasks in the test's thread as soon as the request has committed, so a test can read the outcome.
    """
    from renderowl.celery import app

    def run(request):
        app.conf.task_always_eager = True
        try:
            with django_capture_on_commit_callbacks(execute=True):
                return request()
        finally:
            app.conf.task_always_eager = False

    return run
