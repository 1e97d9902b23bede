"""Configuration: production refuses to start without what it needs; development needs nothing."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from renderowl.env import (
    PUBLISHED_DEVELOPMENT_KEY,
    ImproperlyConfiguredEnv,
    as_bool,
    as_list,
    as_networks,
    checked_secret_key,
    database_settings,
    get_from_env,
)

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
    clean = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION_ENV, *TIMEOUTS, "DATABASE_APP_URL", "SECRET_KEY_FALLBACKS"}}
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
        {"DJANGO_ENV": "test"},
        show="s.WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS, s.ASSET_PROCESSING_SOFT_TIME_LIMIT_SECONDS, "
        "s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], s.CELERY_BROKER_TRANSPORT_OPTIONS['queue_order_strategy']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["30", "870", "3600", "priority"]

    result = load_settings(
        {"DJANGO_ENV": "test", "WEBHOOK_TIMEOUT_SECONDS": "50", "WEBHOOK_LEASE_SECONDS": "71", "ASSET_PROCESSING_TIMEOUT_SECONDS": "7000",
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
    result = load_settings({"DJANGO_ENV": "test", **env})
    assert result.returncode != 0
    problem = result.stderr.strip().splitlines()[-1]
    assert problem.startswith("RuntimeError: ")
    for name in names:
        assert name in problem


def settings_of(env, *names):
    """The named settings as a process started with `env` (and nothing else of ours) loads them."""
    clean = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION_ENV, "DATABASE_APP_URL", "SECRET_KEY_FALLBACKS"}}
    code = f"import json, renderowl.settings as s; print(json.dumps({{n: getattr(s, n) for n in {names!r}}}, default=str))"
    result = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, cwd=settings.BASE_DIR, capture_output=True, text=True)
    return result.returncode, (json.loads(result.stdout) if result.returncode == 0 else result.stderr)


def test_without_django_env_a_process_is_production():
    everything_but_the_name = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_ENV"}

    assert settings_of(everything_but_the_name, "DJANGO_ENV", "DEBUG", "WEBHOOKS_REQUIRE_HTTPS") == (
        0, {"DJANGO_ENV": "production", "DEBUG": False, "WEBHOOKS_REQUIRE_HTTPS": True}
    )
    returncode, error = settings_of({})
    assert returncode != 0
    assert "The environment variable SECRET_KEY is required when DJANGO_ENV=production" in error
    assert "DJANGO_ENV is not set, so production settings apply" in error


def test_development_has_no_key_in_the_code():
    returncode, error = settings_of({"DJANGO_ENV": "development"})
    assert returncode != 0
    assert "SECRET_KEY is required" in error and ". .run/env" in error
    assert settings_of({"DJANGO_ENV": "development", "SECRET_KEY": "short-is-fine-here"}, "SECRET_KEY") == (
        0, {"SECRET_KEY": "short-is-fine-here"}
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"SECRET_KEY": "dev-only-insecure-secret-key-do-not-use-in-production"}, "the published development key"),
        ({"SECRET_KEY_FALLBACKS": "dev-only-insecure-secret-key-do-not-use-in-production"}, "the published development key"),
        ({"SECRET_KEY": "x" * 31}, "SECRET_KEY is 31 characters long; production needs at least 32"),
    ],
)
def test_production_refuses_a_published_or_short_secret_key(change, message):
    returncode, error = settings_of({**PRODUCTION_ENV, **change})
    assert returncode != 0
    assert message in error
    assert change.get("SECRET_KEY", "absent") not in error.replace("SECRET_KEY is", "")  # the key is not echoed


def test_previous_keys_are_read_from_secret_key_fallbacks():
    env = {**PRODUCTION_ENV, "SECRET_KEY_FALLBACKS": "old-key-one, old-key-two,"}
    assert settings_of(env, "SECRET_KEY_FALLBACKS") == (0, {"SECRET_KEY_FALLBACKS": ["old-key-one", "old-key-two"]})


DOWNLOAD = """
import io, django
django.setup()
from urllib.parse import urlsplit
from django.test import Client
from assets.storage import get_storage
storage = get_storage()
if {sign!r}:
    storage.save(key="org/a/prj/b/ast_c/f.txt", content_type="text/plain", stream=io.BytesIO(b"kept"))
    print(urlsplit(storage.presigned_download(key="org/a/prj/b/ast_c/f.txt").url).path)
else:
    print(Client().get({path!r}).status_code)
"""


def storage_process(tmp_path, *, sign=False, path=None, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SECRET_KEY_FALLBACKS"}}
    env = {**clean, "DJANGO_ENV": "test", "DJANGO_SETTINGS_MODULE": "renderowl.settings",
           "ASSET_STORAGE_BACKEND": "local", "ASSET_STORAGE_ROOT": str(tmp_path), **env}
    result = subprocess.run([sys.executable, "-c", DOWNLOAD.format(sign=sign, path=path)], env=env,
                            cwd=settings.BASE_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[-1]


def test_a_storage_url_signed_before_a_key_rotation_still_works_with_the_old_key_as_fallback(tmp_path):
    old, new = "o" * 50, "n" * 50
    path = storage_process(tmp_path, sign=True, SECRET_KEY=old)

    assert storage_process(tmp_path, path=path, SECRET_KEY=old) == "200"
    assert storage_process(tmp_path, path=path, SECRET_KEY=new, SECRET_KEY_FALLBACKS=f"{'p' * 50},{old}") == "200"
    assert storage_process(tmp_path, path=path, SECRET_KEY=new) == "403"


def test_outbound_deny_networks_are_cidrs_checked_at_start():
    env = {**PRODUCTION_ENV, "OUTBOUND_DENY_NETWORKS": "10.9.0.0/16, 2001:db8:1::/48, 198.51.100.7"}
    assert settings_of(env, "OUTBOUND_DENY_NETWORKS") == (
        0, {"OUTBOUND_DENY_NETWORKS": ["10.9.0.0/16", "2001:db8:1::/48", "198.51.100.7/32"]}
    )
    for name in ("OUTBOUND_DENY_NETWORKS", "WEBHOOKS_DENY_NETWORKS"):
        returncode, error = settings_of({**PRODUCTION_ENV, name: "10.9.0.0/16,intranet"})
        assert returncode != 0
        assert f"{name}='10.9.0.0/16,intranet' is malformed: 'intranet' is not a network" in error
    with pytest.raises(ValueError):
        as_networks("10.0.0.0/33")


def test_the_older_webhooks_names_of_the_outbound_settings_still_work():
    env = {**PRODUCTION_ENV, "WEBHOOKS_DENY_NETWORKS": "10.9.0.0/16,10.8.0.0/16", "WEBHOOKS_ALLOW_LOOPBACK": "true"}
    assert settings_of(env, "OUTBOUND_DENY_NETWORKS", "OUTBOUND_ALLOW_LOOPBACK") == (
        0, {"OUTBOUND_DENY_NETWORKS": ["10.9.0.0/16", "10.8.0.0/16"], "OUTBOUND_ALLOW_LOOPBACK": True}
    )
    both = {**env, "OUTBOUND_DENY_NETWORKS": "10.8.0.0/16,192.0.2.0/24", "OUTBOUND_ALLOW_LOOPBACK": "false"}
    assert settings_of(both, "OUTBOUND_DENY_NETWORKS", "OUTBOUND_ALLOW_LOOPBACK") == (
        0, {"OUTBOUND_DENY_NETWORKS": ["10.8.0.0/16", "192.0.2.0/24", "10.9.0.0/16"], "OUTBOUND_ALLOW_LOOPBACK": False}
    )
    assert settings_of({**PRODUCTION_ENV, "DJANGO_ENV": "development"}, "OUTBOUND_ALLOW_LOOPBACK") == (
        0, {"OUTBOUND_ALLOW_LOOPBACK": True}
    )


def test_secret_key_checks_apply_to_production_only():
    assert checked_secret_key("short", production=False) == "short"
    assert checked_secret_key("k" * 32, production=True, fallbacks=["old"]) == "k" * 32
    with pytest.raises(ImproperlyConfiguredEnv, match="at least 32"):
        checked_secret_key("k" * 31, production=True)
    with pytest.raises(ImproperlyConfiguredEnv, match="published development key"):
        checked_secret_key("k" * 40, production=True, fallbacks=[PUBLISHED_DEVELOPMENT_KEY])
    assert as_networks(" 10.9.1.2/16 ,::1") == ["10.9.0.0/16", "::1/128"]


def test_render_limits_are_read_from_the_environment_and_must_be_positive():
    read = load_settings(
        {**PRODUCTION_ENV, "RENDER_MAX_WIDTH": "1920", "RENDER_MAX_FPS": "29.97", "REMOTION_SERVER_URL": "http://r:3000"},
        show="s.RENDER_MAX_WIDTH, s.RENDER_MAX_HEIGHT, s.RENDER_MAX_FPS, s.RENDER_MAX_DURATION_SECONDS, s.REMOTION_SERVER_URL",
    )
    assert read.stdout.split() == ["1920", "3840", "29.97", "600.0", "http://r:3000"], read.stderr

    refused = load_settings({**PRODUCTION_ENV, "RENDER_MAX_FPS": "0"})
    assert refused.returncode != 0
    assert "RENDER_MAX_FPS and RENDER_MAX_DURATION_SECONDS above 0" in refused.stderr


def test_render_output_retention_is_read_from_the_environment_and_at_least_a_day():
    assert load_settings(PRODUCTION_ENV, show="s.RENDER_OUTPUT_RETENTION_DAYS").stdout.split() == ["30"]
    read = load_settings({**PRODUCTION_ENV, "RENDER_OUTPUT_RETENTION_DAYS": "7"}, show="s.RENDER_OUTPUT_RETENTION_DAYS")
    assert read.stdout.split() == ["7"], read.stderr

    for value, message in [("0", "RENDER_OUTPUT_RETENTION_DAYS must be at least 1"), ("a month", "malformed")]:
        refused = load_settings({**PRODUCTION_ENV, "RENDER_OUTPUT_RETENTION_DAYS": value})
        assert refused.returncode != 0
        assert message in refused.stderr


def test_url_input_limits_are_read_from_the_environment_and_must_be_positive():
    env = {**PRODUCTION_ENV, "RENDER_MAX_SOURCE_BYTES": "1000", "RENDER_SOURCE_TIMEOUT_SECONDS": "2.5"}
    assert settings_of(env, "RENDER_MAX_SOURCE_BYTES", "RENDER_MAX_TOTAL_SOURCE_BYTES", "RENDER_SOURCE_TIMEOUT_SECONDS") == (
        0, {"RENDER_MAX_SOURCE_BYTES": 1000, "RENDER_MAX_TOTAL_SOURCE_BYTES": 2 * 1024**3, "RENDER_SOURCE_TIMEOUT_SECONDS": 2.5}
    )
    returncode, error = settings_of({**PRODUCTION_ENV, "RENDER_MAX_TOTAL_SOURCE_BYTES": "0"})
    assert returncode != 0
    assert "RENDER_MAX_TOTAL_SOURCE_BYTES and RENDER_SOURCE_TIMEOUT_SECONDS must be positive" in error
