"""Services raise the domain error; only the API turns it into HTTP, and commands and tasks get a plain message."""

import subprocess
import sys

import pytest
from celery import shared_task
from django.conf import settings

from projects.models import Project
from projects.services import project_update
from renderowl.errors import DomainError, Invalid
from renderowl.tenancy import tenant_context


@shared_task(name="tests.rename_project_slug")
def rename_project_slug(project_id, slug):
    """A task that calls a real service with input the service refuses."""
    project = Project.objects.get(pk=project_id)
    return project_update(project=project, changes={"slug": slug}).slug


@pytest.mark.django_db(databases=["default", "owner"])
def test_a_task_calling_a_service_gets_the_domain_error_not_an_http_exception(tenant):
    project = tenant.create_project(name="P")
    with tenant_context(tenant.id):
        result = rename_project_slug.apply(args=[project["id"], "other"])
    assert result.failed()
    error = result.result
    assert isinstance(error, Invalid) and isinstance(error, DomainError)
    assert not any(cls.__module__.startswith("rest_framework") for cls in type(error).__mro__)
    assert (error.code, error.field) == ("slug_immutable", "slug")
    assert "create a new project" in str(error)


def test_the_api_maps_the_domain_error_to_problem_json(tenant):
    project = tenant.create_project(name="P")
    response = tenant.client.patch(f"/v1/projects/{project['id']}", {"slug": "other"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["errors"]) == ("slug_immutable", [{"field": "slug", "message": body["detail"]}])


@pytest.mark.django_db(databases=["default", "owner"], transaction=True)
def test_a_command_hitting_a_domain_error_prints_its_detail_and_exits_non_zero():
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py"), "createorganization", "Acme", "--slug", "acme-dup"]
    environment = _command_environment()
    first = subprocess.run(manage, capture_output=True, text=True, env=environment, cwd=settings.BASE_DIR)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(manage, capture_output=True, text=True, env=environment, cwd=settings.BASE_DIR)
    assert second.returncode == 1
    assert "An organization with slug 'acme-dup' exists: pass another --slug." in second.stderr
    assert "Traceback" not in second.stderr


def _command_environment():
    import os

    from django.db import connections

    owner = connections["owner"].settings_dict
    host = f"?host={owner['HOST']}" if owner["HOST"].startswith("/") else ""
    netloc = "" if host else f"{owner['HOST']}:{owner['PORT'] or 5432}"
    return {**os.environ, "DJANGO_ENV": "test", "DATABASE_URL": f"postgresql://{owner['USER']}@{netloc}/{owner['NAME']}{host}"}
