"""Operators: the admin (enable/disable, re-run a failed run, no credentials shown) and `runautomation`."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from automations.models import Automation, AutomationRun
from automations.schedules import periodic_task_name
from renderowl.tenancy import tenant_context
from tests.automations.conftest import create_automation, template_document
from tests.conftest import Tenant
from tests.renders.conftest import upload_template

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


@pytest.fixture
def made(asset_storage):
    tenant = Tenant("Ops")
    project = tenant.create_project(name="Ops")
    template = upload_template(tenant, project["id"], template_document())
    return tenant, project, template


def queued_runs(tenant, automation_id):
    with tenant_context(tenant.id):
        return list(AutomationRun.objects.filter(automation_id=automation_id).order_by("created_at"))


def test_the_admin_lists_automations_of_every_organization_without_their_hook_credentials(operator, made):
    tenant, project, template = made
    automation = create_automation(tenant, project, template, trigger={"type": "webhook", "secret": "z" * 24})
    token = automation["hookUrl"].rsplit("/", 1)[1]
    page = operator.get("/admin/automations/automation/").content.decode()
    assert automation["id"] in page
    detail = operator.get(f"/admin/automations/automation/{automation['id']}/change/").content.decode()
    assert automation["name"] in detail and token not in detail and "z" * 24 not in detail


def test_the_admin_disables_and_enables_automations_and_their_schedules(operator, made):
    tenant, project, template = made
    automation = create_automation(tenant, project, template, trigger={"type": "schedule", "cron": "0 * * * *"})
    for action, enabled in (("disable", False), ("enable", True)):
        response = operator.post("/admin/automations/automation/",
                                  {"action": action, "_selected_action": [automation["id"]]}, follow=True)
        assert response.status_code == 200
        with tenant_context(tenant.id):
            assert Automation.objects.get(pk=automation["id"]).enabled is enabled
        assert PeriodicTask.objects.using("owner").get(name=periodic_task_name(automation["id"])).enabled is enabled


def test_the_admin_reruns_a_failed_run_with_its_payload(operator, made):
    tenant, project, template = made
    automation = create_automation(tenant, project, template)
    run_id = tenant.client.post(f"/v1/automations/{automation['id']}/trigger", {"payload": {"name": "again"}},
                                format="json").json()["id"]
    with tenant_context(tenant.id):
        AutomationRun.objects.filter(pk=run_id).update(status="failed", error={"code": "render_failed", "message": "x"})
    response = operator.post("/admin/automations/automationrun/",
                             {"action": "run_again", "_selected_action": [run_id]}, follow=True)
    assert "Queued 1 new run(s)." in response.content.decode()
    first, second = queued_runs(tenant, automation["id"])
    assert (second.trigger, second.status, second.payload) == ("manual", "pending", {"name": "again"})


def test_runautomation_queues_a_run_and_prints_its_id_last(made, tmp_path):
    tenant, project, template = made
    automation = create_automation(tenant, project, template)
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"name": "from the shell"}))
    out = io.StringIO()
    call_command("runautomation", automation["id"], "--payload", str(payload), stdout=out)
    lines = out.getvalue().splitlines()
    (run,) = queued_runs(tenant, automation["id"])
    assert lines == [f"Queued run {run.id} of automation {automation['id']} (Welcome card).", run.id]
    assert (run.trigger, run.payload) == ("manual", {"name": "from the shell"})


def test_runautomation_names_the_fix_for_a_bad_id_or_payload(made, tmp_path):
    with pytest.raises(CommandError, match="No automation 'aut_nope'"):
        call_command("runautomation", "aut_nope")
    tenant, project, template = made
    automation = create_automation(tenant, project, template)
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("runautomation", automation["id"], "--payload", str(bad))
    with pytest.raises(CommandError, match="Cannot read the payload file"):
        call_command("runautomation", automation["id"], "--payload", str(tmp_path / "missing.json"))
    assert queued_runs(tenant, automation["id"]) == []
