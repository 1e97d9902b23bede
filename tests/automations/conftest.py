"""Automation test factories: a project with a small ready template, and automations made through the API."""

import pytest

from tests.renders.conftest import asset_storage, media_files, upload_template  # noqa: F401 - fixtures
from tests.renders.test_api import small_template

SMALL = {"format": "mp4", "width": 160, "height": 90, "fps": 10}


def template_document(**changes):
    """The renders' small template, requiring a title (no default) and taking an optional subtitle."""
    document = small_template(**changes)
    document["inputSchema"] = {
        "type": "object",
        "required": ["title"],
        "properties": {"title": {"type": "string", "maxLength": 40}, "subtitle": {"type": "string"},
                       "logo": {"type": "string", "x-renderowl-asset": "image"}},
    }
    document["defaultProps"] = {"subtitle": "by Renderowl"}
    return document


@pytest.fixture
def project(tenant):
    return tenant.create_project(name="Automations")


@pytest.fixture
def template(tenant, project):
    uploaded = upload_template(tenant, project["id"], template_document())
    assert uploaded["status"] == "ready", uploaded
    return uploaded


def automation_body(template, **changes):
    return {
        "name": "Welcome card",
        "templateId": template["id"],
        "trigger": {"type": "webhook"},
        "dataMapping": {"title": {"path": "$.name", "transform": "uppercase"}},
        "output": SMALL,
        **changes,
    }


def create_automation(tenant, project, template, **changes):
    response = tenant.client.post(f"/v1/projects/{project['id']}/automations", automation_body(template, **changes),
                                  format="json")
    assert response.status_code == 201, response.content
    return response.json()
