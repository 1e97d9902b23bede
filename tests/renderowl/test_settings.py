"""Configuration: production refuses to start without what it needs; development needs nothing."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from renderowl.env import ImproperlyConfiguredEnv, as_bool, as_list, database_settings, get_from_env

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgresql://owner:pw@db.internal:5433/renderowl",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "ALLOWED_HOSTS": "api.example.com",
    "PUBLIC_BASE_URL": "https://api.example.com",
}


TIMEOUTS = {
    "WEBHOOK_TIMEOUT_SECONDS",
    "WEBHOOK_LEASE_SECONDS",
    "ASSET_PROCESSING_TIMEOUT_SECONDS",
    "CELERY_VISIBILITY_TIMEOUT_SECONDS",
}


def load_settings(env, show="s.DEBUG, s.DATABASES['default']['USER']"):
    """Load the settings in a fresh process with `env` (over a clean environment); prints `show`."""
    clean = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION_ENV, *TIMEOUTS, "DATABASE_APP_URL"}}
    return subprocess.run(
        [sys.executable, "-c", f"import renderowl.settings as s; print({show})"],
        env={**clean, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "PUBLIC_BASE_URL"])
def test_production_fails_loudly_naming_each_missing_variable(missing):
    result = load_settings({k: v for k, v in PRODUCTION_ENV.items() if k != missing})
    assert result.returncode != 0
    assert f"The environment variable {missing} is required" in result.stderr


def test_production_with_everything_set_starts_without_debug():
    result = load_settings(PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "renderowl_app"]


def test_unknown_environment_name_is_refused():
    result = load_settings({"DJANGO_ENV": "staging"})
    assert "DJANGO_ENV must be development, test or production" in result.stderr


def test_get_from_env_casts_and_reports_malformed_values(monkeypatch):
    monkeypatch.setenv("RO_FLAG", "yes")
    monkeypatch.setenv("RO_NUMBER", "twelve")
    assert get_from_env("RO_FLAG", cast=as_bool) is True
    assert get_from_env("RO_ABSENT", 7) == 7
    with pytest.raises(ImproperlyConfiguredEnv, match="RO_NUMBER='twelve' is malformed"):
        get_from_env("RO_NUMBER", cast=int)
    with pytest.raises(ValueError):
        as_bool("maybe")
    assert as_bool(" Off ") is False
    assert as_list("a, b,,c ") == ["a", "b", "c"]


def test_database_urls_over_tcp_and_unix_socket_and_as_another_role():
    tcp = database_settings("postgresql://owner:p%40ss@db:5433/renderowl?sslmode=require", user="app", password="pw")
    assert (tcp["HOST"], tcp["PORT"], tcp["NAME"], tcp["USER"], tcp["PASSWORD"]) == ("db", "5433", "renderowl", "app", "pw")
    assert tcp["OPTIONS"] == {"connect_timeout": "5", "sslmode": "require"}
    socket = database_settings("postgresql://postgres:@/renderowl?host=/work/.run/postgres")
    assert (socket["HOST"], socket["USER"], socket["PASSWORD"]) == ("/work/.run/postgres", "postgres", "")
    with pytest.raises(ImproperlyConfiguredEnv, match="postgresql://"):
        database_settings("mysql://x@y/z")


def test_timeouts_that_depend_on_each_other_are_derived_from_one_value_each():
    result = load_settings(
        {},
        show="s.WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS, s.ASSET_PROCESSING_SOFT_TIME_LIMIT_SECONDS, "
        "s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], s.CELERY_BROKER_TRANSPORT_OPTIONS['queue_order_strategy']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["30", "870", "3600", "priority"]

    result = load_settings(
        {"WEBHOOK_TIMEOUT_SECONDS": "50", "WEBHOOK_LEASE_SECONDS": "71", "ASSET_PROCESSING_TIMEOUT_SECONDS": "7000",
         "CELERY_VISIBILITY_TIMEOUT_SECONDS": "7200"},
        show="s.WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS, s.ASSET_PROCESSING_SOFT_TIME_LIMIT_SECONDS, "
        "s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["70.0", "6970", "7200"]


@pytest.mark.parametrize(
    ("env", "names"),
    [
        # A lease that ends before the attempt may: a second worker would attempt the same delivery.
        ({"WEBHOOK_LEASE_SECONDS": "30"}, ["WEBHOOK_LEASE_SECONDS (30)", "WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS (30"]),
        ({"WEBHOOK_TIMEOUT_SECONDS": "45"}, ["WEBHOOK_LEASE_SECONDS (60)", "WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS (65"]),
        # An attempt that Redis would redeliver while it still runs.
        (
            {"WEBHOOK_TIMEOUT_SECONDS": "100", "WEBHOOK_LEASE_SECONDS": "200", "CELERY_VISIBILITY_TIMEOUT_SECONDS": "120"},
            ["WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS (120", "CELERY_VISIBILITY_TIMEOUT_SECONDS (120)"],
        ),
        # A processing run that Redis would hand to a second worker while it still runs.
        (
            {"ASSET_PROCESSING_TIMEOUT_SECONDS": "3600"},
            ["ASSET_PROCESSING_TIMEOUT_SECONDS (3600)", "CELERY_VISIBILITY_TIMEOUT_SECONDS (3600)"],
        ),
        (
            {"CELERY_VISIBILITY_TIMEOUT_SECONDS": "600"},
            ["ASSET_PROCESSING_TIMEOUT_SECONDS (900)", "CELERY_VISIBILITY_TIMEOUT_SECONDS (600)"],
        ),
        # Soft time limits are never negative, nor zero (Celery reads 0 as "no limit").
        (
            {"ASSET_PROCESSING_TIMEOUT_SECONDS": "30"},
            ["ASSET_PROCESSING_SOFT_TIME_LIMIT_SECONDS (0", "ASSET_PROCESSING_TIMEOUT_SECONDS (30)"],
        ),
        ({"WEBHOOK_TIMEOUT_SECONDS": "-30"}, ["WEBHOOK_TIMEOUT_SECONDS must be positive"]),
    ],
)
def test_timeouts_that_contradict_each_other_stop_the_process_naming_both(env, names):
    result = load_settings(env)
    assert result.returncode != 0
    problem = result.stderr.strip().splitlines()[-1]
    assert problem.startswith("RuntimeError: ")
    for name in names:
        assert name in problem
