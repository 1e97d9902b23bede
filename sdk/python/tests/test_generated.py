"""The generated models stay in step with openapi.json, and every operation is reachable from a resource."""

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

from renderowl_sdk import Renderowl, models
from renderowl_sdk._models import OPERATIONS, REQUEST_SCHEMAS
from renderowl_sdk.resources import _common

SDK = Path(__file__).resolve().parent.parent
GENERATOR = SDK / "scripts" / "generate.py"
SPEC = SDK.parent.parent / "openapi.json"


def test_the_committed_models_match_openapi_json():
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_fails_naming_the_difference(tmp_path):
    spec = json.loads(SPEC.read_text())
    spec["components"]["schemas"]["Project"]["properties"]["archivedAt"] = {"type": ["string", "null"],
                                                                           "format": "date-time"}
    changed = tmp_path / "openapi.json"
    changed.write_text(json.dumps(spec))
    result = subprocess.run([sys.executable, str(GENERATOR), "--check", "--spec", str(changed)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "+    archived_at: datetime | None = None" in result.stdout
    assert "out of date" in result.stderr


def test_every_operation_is_called_by_a_resource():
    source = "\n".join(inspect.getsource(module) for module in _resource_modules())
    called = set(re.findall(r'"([a-z_]+)"', source)) & set(OPERATIONS)
    assert called == set(OPERATIONS)


def test_resource_keywords_are_the_request_bodies_fields():
    client = Renderowl(api_key="rwl_test_" + "a" * 40, base_url="http://127.0.0.1:9")
    methods = {
        "ProjectCreateRequest": client.projects.create, "PatchedProjectUpdateRequest": client.projects.update,
        "AssetCreateRequest": client.assets.create, "PatchedAssetUpdateRequest": client.assets.update,
        "RenderCreateRequest": client.renders.submit, "AutomationCreateRequest": client.automations.create,
        "PatchedAutomationUpdateRequest": client.automations.update,
        "WebhookEndpointCreateRequest": client.webhooks.create,
        "PatchedWebhookEndpointUpdateRequest": client.webhooks.update, "WebhookTestRequest": client.webhooks.test,
    }
    for schema_name, method in methods.items():
        keywords = {_common.camel(name) for name, parameter in inspect.signature(method).parameters.items()
                    if parameter.kind is parameter.KEYWORD_ONLY and name != "idempotency_key"}
        assert keywords == set(REQUEST_SCHEMAS[schema_name]["properties"]), schema_name


def test_responses_decode_leniently():
    job = models.RenderJob.from_dict({"id": "rnd_1", "status": "teleporting", "progress": 0.5,
                                      "createdAt": "not a date", "brandNewField": {"x": 1}})
    assert (job.status, job.progress, job.created_at) == ("teleporting", 0.5, "not a date")
    assert job.extra == {"brandNewField": {"x": 1}} and job.to_dict()["brandNewField"] == {"x": 1}
    assert job.error is None and not hasattr(job, "output_url")


def _resource_modules():
    from renderowl_sdk.resources import assets, automations, projects, renders, webhooks

    return [assets, automations, projects, renders, webhooks]
