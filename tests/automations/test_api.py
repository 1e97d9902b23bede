"""The Automations API: create, read, list, change, delete; save-time validation; other organizations' 404."""

import pytest

from renderowl.tenancy import tenant_context
from tests.automations.conftest import SMALL, automation_body, create_automation, template_document
from tests.renders.conftest import upload_template


def test_a_webhook_automation_is_created_with_its_hook_url(tenant, project, template):
    response = tenant.client.post(f"/v1/projects/{project['id']}/automations", automation_body(
        template, metadata={"team": "growth"}, dataMapping={"title": {"path": "$.firstName"}, "someProp": {"value": 1}},
    ) | {"dataMapping": {"title": {"path": "$.firstName"}}}, format="json")
    assert response.status_code == 201, response.content
    automation = response.json()
    assert automation["id"].startswith("aut_")
    assert response["Location"].endswith(f"/v1/automations/{automation['id']}")
    assert automation["hookUrl"].startswith(f"http://127.0.0.1:8000/v1/hooks/{automation['id']}/")
    assert automation["trigger"] == {"type": "webhook", "signed": False}
    assert automation["dataMapping"] == {"title": {"path": "$.firstName"}}  # prop names keep their case
    assert (automation["enabled"], automation["priority"], automation["nextRunAt"], automation["lastRunAt"]) == (
        True, "normal", None, None)
    assert tenant.client.get(f"/v1/automations/{automation['id']}").json() == automation
    listed = tenant.client.get(f"/v1/projects/{project['id']}/automations").json()
    assert [item["id"] for item in listed["data"]] == [automation["id"]] and listed["hasMore"] is False


def test_a_signed_hook_never_shows_its_secret(tenant, project, template):
    automation = create_automation(tenant, project, template, trigger={"type": "webhook", "secret": "s" * 32})
    assert automation["trigger"] == {"type": "webhook", "signed": True}
    assert "s" * 32 not in str(tenant.client.get(f"/v1/automations/{automation['id']}").content)


def test_a_schedule_automation_shows_its_next_run(tenant, project, template):
    automation = create_automation(
        tenant, project, template, trigger={"type": "schedule", "cron": "0 9 * * 1-5", "timezone": "Europe/Berlin"},
        dataMapping={"title": {"value": "Good morning"}},
    )
    assert automation["trigger"] == {"type": "schedule", "cron": "0 9 * * 1-5", "timezone": "Europe/Berlin"}
    assert automation["hookUrl"] is None
    assert automation["nextRunAt"].endswith(("T08:00:00Z", "T07:00:00Z"))  # 09:00 in Berlin, winter or summer


@pytest.mark.parametrize("changes, status, code, field", [
    ({"trigger": {"type": "carrier-pigeon"}}, 400, "invalid_trigger", "trigger.type"),
    ({"trigger": {"type": "schedule", "cron": "61 * * * *"}}, 400, "invalid_trigger", "trigger.cron"),
    ({"trigger": {"type": "schedule", "cron": "* * *"}}, 400, "invalid_trigger", "trigger.cron"),
    ({"trigger": {"type": "schedule", "cron": "0 9 * * *", "timezone": "Europe/Atlantis"}}, 400, "invalid_trigger",
     "trigger.timezone"),
    ({"trigger": {"type": "webhook", "secret": "short"}}, 400, "invalid_trigger", "trigger.secret"),
    ({"trigger": {"type": "asset_upload", "assetTypes": ["hologram"]}}, 400, "invalid_trigger", "trigger.assetTypes"),
    ({"trigger": {"type": "webhook", "cron": "* * * * *"}}, 400, "invalid_trigger", "trigger.cron"),
    ({"dataMapping": {}}, 422, "invalid_data_mapping", "dataMapping.title"),
    ({"dataMapping": {"title": {"path": "$.["}}}, 422, "invalid_data_mapping", "dataMapping.title.path"),
    ({"dataMapping": {"title": {"path": "$.t", "transform": "shout"}}}, 422, "invalid_data_mapping",
     "dataMapping.title.transform"),
    ({"dataMapping": {"title": {"value": 42}}}, 422, "invalid_data_mapping", "dataMapping.title.value"),
    ({"templateId": "ast_doesnotexist"}, 404, "not_found", "templateId"),
    ({"output": {"format": "mkv"}}, 400, "invalid_output", "output.format"),
    ({"name": "  "}, 400, "validation_error", "name"),
])
def test_a_bad_automation_is_refused_naming_the_field_and_nothing_is_stored(tenant, project, template, changes, status,
                                                                           code, field):
    response = tenant.client.post(f"/v1/projects/{project['id']}/automations", automation_body(template, **changes),
                                  format="json")
    assert response.status_code == status, response.content
    problem = response.json()
    assert problem["code"] == code
    assert field in [error["field"] for error in problem["errors"]], problem
    assert tenant.client.get(f"/v1/projects/{project['id']}/automations").json()["data"] == []


def test_a_template_not_ready_is_refused(tenant, project):
    pending = upload_template(tenant, project["id"], template_document(), process=False)
    response = tenant.client.post(f"/v1/projects/{project['id']}/automations", automation_body(pending), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "template_not_ready")


def test_an_update_is_checked_like_a_creation(tenant, project, template):
    automation = create_automation(tenant, project, template, trigger={"type": "webhook", "secret": "k" * 20})
    url = f"/v1/automations/{automation['id']}"
    refused = tenant.client.patch(url, {"dataMapping": {"subtitle": {"value": "x"}}}, format="json")
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "dataMapping.title")
    changed = tenant.client.patch(url, {"name": "Renamed", "enabled": False, "trigger": {"type": "webhook"}},
                                  format="json").json()
    assert (changed["name"], changed["enabled"], changed["trigger"]) == ("Renamed", False,
                                                                       {"type": "webhook", "signed": True})
    assert changed["hookUrl"] == automation["hookUrl"]
    scheduled = tenant.client.patch(url, {"trigger": {"type": "schedule", "cron": "*/5 * * * *"}}, format="json").json()
    assert scheduled["hookUrl"] is None and scheduled["trigger"]["timezone"] == "UTC"


def test_rotating_the_hook_token_changes_the_hook_url(tenant, project, template):
    automation = create_automation(tenant, project, template)
    rotated = tenant.client.post(f"/v1/automations/{automation['id']}/hook-token/rotate")
    assert rotated.status_code == 200
    assert rotated.json()["hookUrl"] != automation["hookUrl"]
    scheduled = create_automation(tenant, project, template, trigger={"type": "schedule", "cron": "0 0 * * *"})
    refused = tenant.client.post(f"/v1/automations/{scheduled['id']}/hook-token/rotate")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_a_webhook_trigger")


def test_a_deleted_automation_is_gone(tenant, project, template):
    automation = create_automation(tenant, project, template)
    assert tenant.client.delete(f"/v1/automations/{automation['id']}").status_code == 204
    assert tenant.client.get(f"/v1/automations/{automation['id']}").status_code == 404


def test_the_template_of_an_enabled_automation_cannot_be_deleted(tenant, project, template):
    automation = create_automation(tenant, project, template)
    refused = tenant.client.delete(f"/v1/assets/{template['id']}")
    assert (refused.status_code, refused.json()["code"]) == (409, "asset_in_use")
    assert automation["id"] in refused.json()["detail"]
    tenant.client.patch(f"/v1/automations/{automation['id']}", {"enabled": False}, format="json")
    assert tenant.client.delete(f"/v1/assets/{template['id']}").status_code == 204


def test_deleting_the_project_disables_its_automations(tenant, project, template, anonymous):
    from automations.models import Automation

    automation = create_automation(tenant, project, template)
    assert tenant.client.delete(f"/v1/projects/{project['id']}").status_code in (200, 204)
    hook = anonymous.post(automation["hookUrl"].split("8000", 1)[1], b"{}", content_type="application/json")
    assert hook.status_code == 404
    with tenant_context(tenant.id):
        assert Automation.objects.get(pk=automation["id"]).enabled is False
    assert tenant.client.get(f"/v1/automations/{automation['id']}").status_code == 404


def test_another_organizations_automations_and_runs_are_not_found(tenant, other_tenant, project, template, worked):
    automation = create_automation(tenant, project, template)
    run = tenant.client.post(f"/v1/automations/{automation['id']}/trigger", {"payload": {"name": "x"}},
                             format="json").json()
    theirs = other_tenant.client
    aid = automation["id"]
    for response in [
        theirs.get(f"/v1/automations/{aid}"),
        theirs.patch(f"/v1/automations/{aid}", {"name": "mine"}, format="json"),
        theirs.delete(f"/v1/automations/{aid}"),
        theirs.post(f"/v1/automations/{aid}/trigger", {"payload": {}}, format="json"),
        theirs.post(f"/v1/automations/{aid}/hook-token/rotate"),
        theirs.get(f"/v1/automations/{aid}/runs"),
        theirs.get(f"/v1/automation-runs/{run['id']}"),
        theirs.get(f"/v1/projects/{project['id']}/automations"),
        theirs.post(f"/v1/projects/{project['id']}/automations", automation_body(template), format="json"),
    ]:
        assert response.status_code == 404, (response.request, response.content)
    assert tenant.client.get(f"/v1/automations/{aid}").json()["name"] == automation["name"]


def test_the_output_defaults_to_the_templates(tenant, project, template):
    automation = create_automation(tenant, project, template, output=None)
    assert automation["output"] is None
    assert SMALL


def test_a_page_of_automations_or_runs_costs_what_a_page_of_one_costs(tenant, project, template):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert tenant.client.get(url).status_code == 200
        return len(captured)

    first = create_automation(tenant, project, template)
    tenant.client.post(f"/v1/automations/{first['id']}/trigger", {"payload": {}}, format="json")
    one = (queries(f"/v1/projects/{project['id']}/automations"), queries(f"/v1/automations/{first['id']}/runs"))
    for _ in range(5):
        create_automation(tenant, project, template, trigger={"type": "schedule", "cron": "0 9 * * *"})
        tenant.client.post(f"/v1/automations/{first['id']}/trigger", {"payload": {}}, format="json")
    many = (queries(f"/v1/projects/{project['id']}/automations"), queries(f"/v1/automations/{first['id']}/runs"))
    assert many == one
