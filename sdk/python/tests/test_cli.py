"""The `renderowl` command, run in-process with click's CliRunner against the live platform."""

import json
import os

import pytest
from click.testing import CliRunner
from conftest import TEMPLATE, unique

from renderowl_sdk.cli import cli


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args, env=None):
        return runner.invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)

    return invoke


def as_json(result):
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def test_projects_create_get_and_list_print_json(run):
    name = unique("CLI")
    created = as_json(run("projects", "create", name, "--json"))
    assert created["name"] == name and len(created["webhookSecret"]) == 64
    assert as_json(run("projects", "get", created["id"], "--json"))["id"] == created["id"]
    listed = as_json(run("--json", "projects", "list", "--limit", "5"))
    assert created["id"] in [p["id"] for p in listed["data"]]
    human = run("projects", "get", created["id"])
    assert human.exit_code == 0 and created["id"] in human.stdout
    bracketed = run("projects", "create", "[/] not markup [bold]")  # printed as text, not read as Rich markup
    assert bracketed.exit_code == 0 and "[/] not markup [bold]" in bracketed.stdout


def test_exit_codes_for_not_found_auth_usage_and_unreachable(run):
    missing = run("projects", "get", "prj_missing", "--json")
    assert missing.exit_code == 4 and missing.stdout == ""
    assert json.loads(missing.stderr)["code"] == "not_found"

    bad_key = run("--api-key", "rwl_test_" + "z" * 40, "projects", "list")
    assert bad_key.exit_code == 3 and "invalid_api_key" in bad_key.stderr

    no_key = run("projects", "list", env={"RENDEROWL_API_KEY": ""})
    assert no_key.exit_code == 3 and "RENDEROWL_API_KEY" in no_key.stderr

    usage = run("renders", "submit", "prj_x", "--template", "ast_x", "--props", "{oops")
    assert usage.exit_code == 2 and "--props" in usage.stderr
    assert run("projects", "frobnicate").exit_code == 2

    unreachable = run("--base-url", "http://127.0.0.1:9", "projects", "list")
    assert unreachable.exit_code == 6 and "Could not reach" in unreachable.stderr


def test_upload_render_and_download_with_out(run, tmp_path):
    project = as_json(run("projects", "create", unique("CLI render"), "--json"))
    asset = as_json(run("assets", "upload", project["id"], TEMPLATE, "--wait", "--json"))
    assert asset["status"] == "ready" and asset["type"] == "template"

    props = tmp_path / "props.json"
    props.write_text(json.dumps({"title": "From the CLI"}))
    out = tmp_path / "video.mp4"
    result = run("renders", "submit", project["id"], "--template", asset["id"], "--props", f"@{props}",
                 "--format", "mp4", "--width", 320, "--height", 180, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "completed" in result.stdout and f"saved {out}" in result.stderr
    assert out.read_bytes()[4:8] == b"ftyp"

    render_id = result.stdout.split()[0]
    fetched = as_json(run("renders", "get", render_id, "--json"))
    assert fetched["status"] == "completed" and fetched["inputProps"]["title"] == "From the CLI"
    assert fetched["outputSize"] == os.path.getsize(out)

    invalid = run("renders", "submit", project["id"], "--template", asset["id"], "--props", '{"title": 5}', "--json")
    assert invalid.exit_code == 7 and json.loads(invalid.stderr)["errors"][0]["field"] == "inputProps.title"


def test_a_failed_render_exits_5(run, client, project):
    from test_renders import BROKEN_TEMPLATE, UNREACHABLE_IMAGE

    broken = client.assets.upload(project.id, json.dumps(BROKEN_TEMPLATE).encode(), name="broken.json", wait=True)
    result = run("renders", "submit", project.id, "--template", broken.id, "--props",
                 json.dumps({"img": UNREACHABLE_IMAGE}), "--wait", "--json")
    assert result.exit_code == 5
    assert json.loads(result.stdout)["error"]["code"] == "source_unavailable"


def test_automations_trigger_with_a_payload_file(run, client, project, template, tmp_path):
    automation = client.automations.create(
        project.id, name=unique("CLI hook"), template_id=template.id, trigger={"type": "webhook"},
        data_mapping={"title": {"path": "$.name"}}, output={"width": 320, "height": 180},
    )
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"name": "Ada"}))
    preview = as_json(run("automations", "trigger", automation.id, "--payload", f"@{payload}", "--dry-run", "--json"))
    assert preview["input"] == {"title": "Ada"}
    run_json = as_json(run("automations", "trigger", automation.id, "--payload", f"@{payload}", "--json"))
    assert run_json["id"].startswith("arn_") and run_json["payload"] == {"name": "Ada"}
    runs = as_json(run("automations", "runs", automation.id, "--json"))
    assert [r["id"] for r in runs["data"]] == [run_json["id"]]
    missing = run("automations", "trigger", automation.id, "--payload", f"@{tmp_path / 'nope.json'}")
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


def test_renders_list_cancel_and_assets_commands(run, client, project, completed_render):
    listed = as_json(run("renders", "list", project.id, "--status", "completed", "--json"))
    assert completed_render.id in [r["id"] for r in listed["data"]]
    not_cancellable = run("renders", "cancel", completed_render.id)
    assert not_cancellable.exit_code == 1 and "render_not_cancellable" in not_cancellable.stderr
    assets = as_json(run("assets", "list", project.id, "--type", "template", "--json"))
    assert assets["data"] and all(a["type"] == "template" for a in assets["data"])
    one = as_json(run("assets", "get", assets["data"][0]["id"], "--download-url", "--json"))
    assert one["downloadUrl"]


def test_an_at_file_that_is_not_text_is_a_usage_error(run, tmp_path):
    binary = tmp_path / "props.json"
    binary.write_bytes(b"\x93\xff\x00binary")
    result = run("renders", "submit", "prj_x", "--template", "ast_x", "--props", f"@{binary}")
    assert result.exit_code == 2 and "--props" in result.stderr and "UTF-8" in result.stderr


def test_an_out_file_in_a_missing_directory_is_a_usage_error_before_anything_is_sent(run, tmp_path):
    out = tmp_path / "missing" / "video.mp4"
    submit = run("renders", "submit", "prj_x", "--template", "ast_x", "--out", out)  # prj_x would be a 404 (exit 4)
    assert submit.exit_code == 2 and "--out" in submit.stderr and "missing" in submit.stderr
    download = run("renders", "download", "rnd_x", out)
    assert download.exit_code == 2 and "OUT" in download.stderr


def test_a_base_url_without_http_or_https_is_a_usage_error(run):
    result = run("--base-url", "api.example.com", "projects", "list")
    assert result.exit_code == 2 and "http" in result.stderr
    missing = run("projects", "list", env={"RENDEROWL_BASE_URL": ""})
    assert missing.exit_code == 2 and "RENDEROWL_BASE_URL" in missing.stderr
