"""scripts/devstack.py, which `make run`, `make bench` and `make fuzz` go through: development, explicitly."""

import importlib.util
import json
import os
import stat
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.db import connections

SHOW_ENV = "import json, os; print(json.dumps({k: os.environ.get(k) for k in ('DJANGO_ENV', 'SECRET_KEY')}))"


@pytest.fixture
def shell_env(django_db_setup, tmp_path):
    """A shell that names the test database and Redis, and claims production, as a careless one might."""
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + connections["owner"].settings_dict["NAME"])
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SECRET_KEY_FALLBACKS", "LOG_FORMAT"}}
    env.update(DJANGO_ENV="production", DATABASE_URL=urlunsplit(url), DEVSTACK_RUN_DIR=str(tmp_path / "run"))
    return env


def devstack(env, *args):
    return subprocess.run(
        [sys.executable, "scripts/devstack.py", *args], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True
    )


def test_exec_runs_development_with_a_key_generated_once_and_kept_private(shell_env, tmp_path):
    first = devstack(shell_env, "exec", sys.executable, "-c", SHOW_ENV)
    second = devstack(shell_env, "exec", sys.executable, "-c", SHOW_ENV)

    assert first.returncode == 0, first.stderr
    seen = json.loads(first.stdout.splitlines()[-1])
    key_file = tmp_path / "run" / "secret_key"
    assert seen == {"DJANGO_ENV": "development", "SECRET_KEY": key_file.read_text().strip()}
    assert len(seen["SECRET_KEY"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert json.loads(second.stdout.splitlines()[-1]) == seen


def test_a_shell_that_sourced_run_env_can_use_manage_py(shell_env, tmp_path):
    assert devstack(shell_env, "exec", "true").returncode == 0
    env_file = tmp_path / "run" / "env"
    key = (tmp_path / "run" / "secret_key").read_text().strip()

    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    # DATABASE_URL and REDIS_URL came from the shell, so only what devstack decided is written.
    assert env_file.read_text().splitlines() == ["export DJANGO_ENV=development", f"export SECRET_KEY={key}"]
    bare = {k: v for k, v in shell_env.items() if k not in {"DJANGO_ENV", "SECRET_KEY"}}
    result = subprocess.run(
        ["bash", "-c", f'. "{env_file}" && "{sys.executable}" manage.py shell -c "from django.conf import settings as s; print(s.DJANGO_ENV, s.DEBUG)"'],
        env=bare, cwd=settings.BASE_DIR, capture_output=True, text=True,
    )
    assert (result.returncode, result.stdout.splitlines()[-1]) == (0, "development True"), result.stderr


@pytest.fixture
def devstack_module(tmp_path, monkeypatch):
    """scripts/devstack.py imported, its embedded servers kept under tmp_path."""
    spec = importlib.util.spec_from_file_location("devstack_under_test", settings.BASE_DIR / "scripts" / "devstack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "REDIS_DIR", tmp_path / "redis")
    monkeypatch.setattr(module, "REDIS_PORT_FILE", tmp_path / "redis.port")
    return module


def test_a_test_run_gets_an_emptied_redis_database_of_its_own(devstack_module):
    url = devstack_module.start_redis()
    try:
        development, leftover = redis.Redis.from_url(url), redis.Redis.from_url(url.rsplit("/", 1)[0] + "/1")
        development.rpush("assets", "queued by make run")
        leftover.rpush("assets", "left by an earlier test run")

        tests_url = devstack_module.tests_redis_url(url)

        assert tests_url == url.rsplit("/", 1)[0] + "/1" and url.endswith("/0")
        assert leftover.llen("assets") == 0
        assert development.lrange("assets", 0, -1) == [b"queued by make run"]
    finally:
        devstack_module.stop_redis()
