import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone


@pytest.fixture
def json_lines():
    """Log records written with the configured console handler's JSON formatter and context filter."""
    root = logging.getLogger()
    console = next(h for h in root.handlers if "Json" in type(h.formatter).__name__)
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(console.formatter)
    for log_filter in console.filters:
        capture.addFilter(log_filter)
    root.addHandler(capture)

    def read():
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        stream.seek(0)
        stream.truncate()
        return lines

    yield read
    root.removeHandler(capture)


def test_request_logs_are_json_with_request_and_organization_ids_and_no_key(tenant, json_lines):
    json_lines()
    response = tenant.client.get("/v1/projects", HTTP_X_REQUEST_ID="trace-42")

    lines = json_lines()
    request_line = next(line for line in lines if line["message"] == "request")
    assert request_line["request_id"] == "trace-42" == response["X-Request-Id"]
    assert request_line["organization_id"] == str(tenant.id)
    assert request_line["status"] == 200
    assert tenant.issued.raw_key not in json.dumps(lines)


def test_secrets_never_reach_the_logs(tenant, json_lines):
    json_lines()
    project = tenant.create_project(name="Secretive")
    tenant.client.post("/v1/projects", {"name": "Secretive", "slug": project["slug"]}, format="json")

    text = json.dumps(json_lines())
    assert project["webhookSecret"] not in text
    assert tenant.issued.raw_key not in text


def test_signed_storage_urls_are_not_logged(tenant, json_lines, settings, tmp_path):
    settings.ASSET_STORAGE_ROOT = tmp_path
    project = tenant.create_project(name="P")
    upload = tenant.client.post(
        f"/v1/projects/{project['id']}/assets",
        {"type": "template", "name": "t.json", "contentType": "application/json", "size": 2},
        format="json",
    ).json()["upload"]
    token = upload["url"].rsplit("/", 1)[1]
    json_lines()
    from urllib.parse import urlsplit

    tenant.client.generic("PUT", urlsplit(upload["url"]).path, b"{}", content_type="text/plain")  # refused: 400

    lines = json_lines()
    assert any(line.get("path") == "/v1/storage/upload/…" for line in lines)
    assert token not in json.dumps(lines)


def run_python(code, **env):
    """Run `code` in a fresh interpreter with Django set up from `env` (the settings as a process loads them)."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "SECRET_KEY", "LOG_FORMAT", "LOG_LEVEL"}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "renderowl.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


REQUEST = "from django.test import Client; Client().get('/v1/projects', HTTP_X_REQUEST_ID='trace-7')"


def test_development_logs_are_readable_lines():
    result = run_python(REQUEST, DJANGO_ENV="development", SECRET_KEY="k" * 40)

    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "renderowl.request" in line]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO    renderowl\.request: request method=GET path=/v1/projects "
        r"status=401 duration_ms=[\d.]+ request_id=trace-7",
        line,
    ), line


@pytest.mark.parametrize(
    "env",
    [
        {"DJANGO_ENV": "development", "SECRET_KEY": "k" * 40, "LOG_FORMAT": "json"},
        {"DJANGO_ENV": "test"},
    ],
)
def test_json_lines_unless_development_or_when_asked_for(env):
    result = run_python(REQUEST, **env)

    assert result.returncode == 0, result.stderr
    (line,) = [json.loads(line) for line in result.stderr.splitlines() if "renderowl.request" in line]
    assert (line["logger"], line["message"], line["status"], line["request_id"]) == (
        "renderowl.request", "request", 401, "trace-7"
    )


def test_text_lines_quote_what_has_spaces_and_keep_the_traceback():
    code = (
        "import logging\n"
        "try:\n    1 / 0\n"
        "except ZeroDivisionError:\n"
        "    logging.getLogger('renderowl.x').exception('boom', extra={'reason': 'two words', 'empty': None})\n"
    )
    result = run_python(code, DJANGO_ENV="test", LOG_FORMAT="text")

    lines = result.stderr.splitlines()
    assert lines[0].endswith('ERROR   renderowl.x: boom reason="two words"'), lines[0]
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "ZeroDivisionError: division by zero"


def test_an_unknown_log_format_is_refused():
    result = run_python("", DJANGO_ENV="test", LOG_FORMAT="xml")
    assert "LOG_FORMAT must be json or text, not 'xml'" in result.stderr


@pytest.mark.django_db(databases=["default", "owner"], transaction=True)
def test_management_commands_print_only_their_own_output(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "SECRET_KEY", "LOG_FORMAT", "LOG_LEVEL"}}
    env.update(DJANGO_ENV="development", SECRET_KEY="k" * 40, DATABASE_URL=database_url_for_tests())

    outputs = []
    for command in (["provisiondatabase"], ["setupdemo", "--key-file", str(tmp_path / "key")]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True
        )
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        outputs.append(result.stdout.splitlines())

    assert outputs[0][0] == "database and application role already in place"
    assert all(line.startswith(("granted ", "no access to ")) for line in outputs[0][1:])  # what it granted
    assert [line.split(":")[0] for line in outputs[1]] == ["Demo organization", "Demo API key"]


def database_url_for_tests():
    """DATABASE_URL naming the test database, for a process started by a test."""
    owner_url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + connections["owner"].settings_dict["NAME"])
    return urlunsplit(owner_url)


def wait_for_line(path, text, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines()
        if any(text in line for line in lines):
            return lines
        time.sleep(0.1)
    raise AssertionError(f"no line with {text!r} in time:\n{path.read_text()}")


@pytest.mark.django_db(databases=["default", "owner"], transaction=True)
def test_a_worker_at_info_shows_housekeeping_only_when_it_did_something(tmp_path):
    from renderowl.models import IdempotencyRecord
    from renderowl.tasks import prune_idempotency_records_task
    from tests.conftest import Tenant

    queue, output = f"test-housekeeping-{os.getpid()}", tmp_path / "worker.log"
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "SECRET_KEY", "LOG_FORMAT", "LOG_LEVEL"}}
    env.update(DJANGO_ENV="development", SECRET_KEY="k" * 40, DATABASE_URL=database_url_for_tests())
    command = [sys.executable, "-m", "celery", "-A", "renderowl", "worker", "--pool", "solo", "-Q", queue,
               "--loglevel", "INFO", "--without-mingle", "--without-gossip", "--without-heartbeat"]
    with output.open("w") as log:
        worker = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_line(output, "ready.")
        prune_idempotency_records_task.apply_async(queue=queue)  # nothing to prune
        tenant = Tenant("Housekeeping")
        tenant.client.post("/v1/projects", {"name": "Old"}, format="json", HTTP_IDEMPOTENCY_KEY="old")
        IdempotencyRecord.objects.using("owner").filter(key="old").update(created_at=timezone.now() - timedelta(days=2))
        prune_idempotency_records_task.apply_async(queue=queue)  # one record; runs after the first (one solo worker)
        lines = wait_for_line(output, "succeeded")
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    logged = [line for line in lines if re.match(r"\d{4}-\d\d-\d\d ", line)]
    about_prune = [line for line in logged if "prune" in line or "tenancy" in line]
    assert len(about_prune) == 2, "\n".join(lines)
    assert re.search(r" INFO    renderowl\.tasks: pruned idempotency records deleted=1$", about_prune[0])
    assert re.search(r" INFO    celery\.app\.trace: Task renderowl\.prune_idempotency_records_task\[.*\] succeeded in .*: 1$", about_prune[1])
    assert not [line for line in lines if line.lstrip().startswith("{")], "development logs are not JSON"


def test_beat_sending_a_due_task_is_a_debug_line(caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("celery.beat").info("Scheduler: Sending due task %s (%s)", "prune", "renderowl.prune_idempotency_records_task")
    logging.getLogger("celery.beat").warning("beat: something is wrong")

    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [
        ("WARNING", "beat: something is wrong")
    ]


def test_the_text_formatter_puts_the_context_after_the_message():
    from renderowl.logging import TextFormatter

    record = logging.makeLogRecord({
        "name": "renderowl.request", "levelno": logging.INFO, "levelname": "INFO", "msg": "request",
        "method": "GET", "status": 200, "detail": "a b", "blank": "", "absent": None, "data": {"hidden": 1},
    })

    line = TextFormatter().format(record)

    assert line.split(" ", 2)[2] == 'INFO    renderowl.request: request method=GET status=200 detail="a b" blank=""'
