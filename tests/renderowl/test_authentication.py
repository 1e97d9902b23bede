import pytest
from rest_framework.test import APIClient

from organizations.models import ApiKey
from organizations.services import api_key_create, api_key_revoke


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
    api_key_revoke(prefix=tenant.issued.api_key.prefix)

    response = tenant.client.get("/v1/projects")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_use_records_last_used_at(tenant):
    assert ApiKey.objects.get(pk=tenant.issued.api_key.pk).last_used_at is None
    tenant.client.get("/v1/projects")
    assert ApiKey.objects.get(pk=tenant.issued.api_key.pk).last_used_at is not None


def test_test_mode_keys_authenticate(tenant):
    issued = api_key_create(organization=tenant.organization, mode=ApiKey.Mode.TEST)
    assert issued.raw_key.startswith("rwl_test_")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
    assert client.get("/v1/projects").status_code == 200


def test_only_the_hash_is_stored(tenant):
    stored = ApiKey.objects.get(pk=tenant.issued.api_key.pk)
    assert tenant.issued.raw_key not in {stored.key_hash, stored.prefix, stored.name}
    assert tenant.issued.raw_key.startswith(stored.prefix)
