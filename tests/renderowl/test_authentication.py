import psycopg
import pytest
from django.db import connections
from rest_framework.test import APIClient

from organizations.models import ApiKey
from organizations.services import api_key_create, api_key_revoke
from renderowl.tenancy import tenant_context


def stored_key(tenant):
    with tenant_context(tenant.id):
        return ApiKey.objects.get(pk=tenant.issued.api_key.pk)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer rwl_live_short",
        "Bearer rwl_prod_" + "a" * 40,
        "Bearer rwl_live_" + "a" * 40,
        "Token rwl_live_" + "a" * 40,
    ],
)
def test_missing_malformed_or_unknown_key_is_401_problem_with_challenge(db, header):
    client = APIClient(HTTP_AUTHORIZATION=header) if header is not None else APIClient()

    response = client.get("/v1/projects")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] in {"not_authenticated", "invalid_api_key"}


def test_revoked_key_is_401(tenant):
    assert tenant.client.get("/v1/projects").status_code == 200
    with tenant_context(tenant.id):
        api_key_revoke(key_or_prefix=tenant.issued.api_key.prefix)

    response = tenant.client.get("/v1/projects")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_use_records_last_used_at(tenant):
    assert stored_key(tenant).last_used_at is None
    tenant.client.get("/v1/projects")
    assert stored_key(tenant).last_used_at is not None


def test_a_failed_request_still_records_last_used_at(tenant):
    response = tenant.client.get("/v1/projects/prj_doesnotexist")
    assert response.status_code == 404
    assert stored_key(tenant).last_used_at is not None


def test_test_mode_keys_authenticate(tenant):
    issued = api_key_create(organization=tenant.organization, mode=ApiKey.Mode.TEST)
    assert issued.raw_key.startswith("rwl_test_")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
    assert client.get("/v1/projects").status_code == 200


def test_only_the_hash_is_stored(tenant):
    stored = stored_key(tenant)
    assert tenant.issued.raw_key not in {stored.key_hash, stored.prefix, stored.name}
    assert tenant.issued.raw_key.startswith(stored.prefix)


@pytest.mark.django_db(transaction=True)
def test_a_locked_key_row_does_not_hold_up_an_authenticated_request():
    from tests.conftest import Tenant

    tenant = Tenant("Locked key")
    owner = connections["owner"].settings_dict
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=connections["default"].settings_dict["NAME"],
        **{key.lower(): owner[key] for key in ("USER", "PASSWORD", "HOST", "PORT") if owner[key]},
    )
    with psycopg.connect(conninfo) as other:
        # Another transaction (a revocation, a request recording the same use) holds the key's row.
        other.execute("SELECT 1 FROM api_keys WHERE id = %s FOR UPDATE", [tenant.issued.api_key.pk])
        with connections["default"].cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # on a regression: fail, do not hang
        try:
            response = tenant.client.get("/v1/projects")
        finally:
            with connections["default"].cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        assert response.status_code == 200
        assert stored_key(tenant).last_used_at is None  # skipped, not waited for
        other.rollback()

    tenant.client.get("/v1/projects")
    assert stored_key(tenant).last_used_at is not None
