"""Operator commands: stable output for scripts, errors that name the fix."""

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from organizations.models import ApiKey, Organization

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_createorganization_prints_the_id_on_its_last_line():
    lines = run("createorganization", "Acme Studios")
    organization = Organization.objects.get(pk=lines[-1])
    assert (organization.name, organization.slug) == ("Acme Studios", "acme-studios")


def test_createorganization_with_taken_or_bad_slug_fails_with_a_fix():
    run("createorganization", "One", "--slug", "one")
    with pytest.raises(CommandError, match="pass another --slug"):
        run("createorganization", "Two", "--slug", "one")
    with pytest.raises(CommandError, match="lowercase"):
        run("createorganization", "Three", "--slug", "Bad Slug")


@pytest.mark.parametrize("by", ["id", "slug"])
def test_createapikey_prints_a_working_key_on_its_last_line(by):
    organization_id = run("createorganization", "Keys Inc", "--slug", "keys-inc")[-1]

    raw_key = run("createapikey", organization_id if by == "id" else "keys-inc", "--name", "ci")[-1]

    assert raw_key.startswith("rwl_live_")
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {raw_key}").get("/v1/projects").status_code == 200
    assert ApiKey.objects.using("owner").get(organization_id=organization_id).name == "ci"


def test_createapikey_test_mode_and_unknown_organization():
    run("createorganization", "Test Keys", "--slug", "test-keys")
    assert run("createapikey", "test-keys", "--test")[-1].startswith("rwl_test_")
    with pytest.raises(CommandError, match="organization id or slug"):
        run("createapikey", "nobody")


def test_revokeapikey_stops_the_key_and_is_idempotent():
    run("createorganization", "Revoke", "--slug", "revoke")
    raw_key = run("createapikey", "revoke")[-1]
    prefix = ApiKey.objects.using("owner").get().prefix

    assert run("revokeapikey", prefix)[-1].startswith(f"Revoked {prefix}")
    assert run("revokeapikey", prefix)[-1].startswith(f"Revoked {prefix}")
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {raw_key}").get("/v1/projects").status_code == 401
    with pytest.raises(CommandError, match="No API key"):
        run("revokeapikey", "rwl_live_nothing")


def test_revokeapikey_accepts_the_whole_key_as_a_leak_exposes_it():
    run("createorganization", "Leaky", "--slug", "leaky")
    raw_key = run("createapikey", "leaky")[-1]
    other_key = run("createapikey", "leaky")[-1]
    prefix = raw_key[: len("rwl_live_") + 8]

    assert run("revokeapikey", raw_key)[-1].startswith(f"Revoked {prefix} at ")

    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {raw_key}").get("/v1/projects").status_code == 401
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {other_key}").get("/v1/projects").status_code == 200


def test_revokeapikey_of_an_unknown_whole_key_names_the_fix_without_echoing_the_key():
    unknown = "rwl_live_" + "Z" * 40
    with pytest.raises(CommandError, match="pass the whole key, or its prefix") as raised:
        run("revokeapikey", unknown)
    assert unknown not in str(raised.value)


def test_setupdemo_is_stable_across_runs(tmp_path):
    key_file = tmp_path / "demo-key"
    first = run("setupdemo", "--key-file", str(key_file))
    second = run("setupdemo", "--key-file", str(key_file))

    assert first == second
    key_line = [line for line in first if line.startswith("Demo API key: ")]
    raw_key = key_line[0].removeprefix("Demo API key: ")
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {raw_key}").get("/v1/projects").status_code == 200
    assert Organization.objects.filter(slug="demo").count() == 1
    assert ApiKey.objects.using("owner").count() == 1
