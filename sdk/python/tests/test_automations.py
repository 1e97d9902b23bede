"""Automations: create, get, list, update, trigger (and dry run), runs, rotate the hook token, delete."""

import pytest
from conftest import unique

from renderowl_sdk import NotFoundError, ValidationError

SMALL_OUTPUT = {"format": "mp4", "width": 320, "height": 180, "fps": 15}


@pytest.fixture
def automation(client, project, template):
    return client.automations.create(
        project.id, name=unique("Welcome"), template_id=template.id,
        trigger={"type": "webhook", "secret": "whsec-form-tool-2026-12"},
        data_mapping={"title": {"path": "$.answers.firstName", "transform": "uppercase"}},
        output=SMALL_OUTPUT,
    )


def test_create_get_list_update_delete(client, project, automation):
    assert automation.id.startswith("aut_") and automation.enabled
    assert automation.trigger == {"type": "webhook", "signed": True} and automation.hook_url
    assert client.automations.get(automation.id).name == automation.name
    assert automation.id in [a.id for a in client.automations.list(project.id)]

    updated = client.automations.update(automation.id, name="Renamed", enabled=False)
    assert (updated.name, updated.enabled) == ("Renamed", False)

    rotated = client.automations.rotate_hook_token(automation.id)
    assert rotated.hook_url and rotated.hook_url != automation.hook_url

    client.automations.delete(automation.id)
    with pytest.raises(NotFoundError):
        client.automations.get(automation.id)


def test_trigger_by_hand_makes_a_run_that_renders(client, automation):
    preview = client.automations.trigger_dry_run(automation.id, payload={"answers": {"firstName": "ada"}})
    assert preview.input["title"] == "ADA"

    run = client.automations.trigger(automation.id, payload={"answers": {"firstName": "grace"}})
    assert run.id.startswith("arn_") and run.trigger == "manual" and run.status == "pending"
    assert run.id in [r.id for r in client.automations.runs(automation.id)]
    for _ in range(60):
        current = client.automations.get_run(run.id)
        if current.render_id:
            break
        client._sleep(0.25)
    assert current.render_id and current.input == {"title": "GRACE"}
    render = client.renders.get(current.render_id)
    assert (render.automation_id, render.automation_run_id) == (automation.id, run.id)


def test_a_mapping_fault_is_a_validation_error_naming_the_prop(client, automation):
    with pytest.raises(ValidationError) as caught:
        client.automations.trigger_dry_run(automation.id, payload={"other": 1})
    assert caught.value.code == "mapping_failed"
    with pytest.raises(ValidationError, match="trigger.type"):
        client.automations.update(automation.id, trigger={"type": "carrier-pigeon"})
