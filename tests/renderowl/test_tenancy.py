"""The second wall: PostgreSQL row-level security binds the application role whatever the code does."""

import pytest
from django.db import DatabaseError, connections, transaction

from organizations.models import ApiKey
from projects.models import Project
from renderowl.api.viewsets import TenantViewSet
from renderowl.tenancy import (
    activate_organization,
    current_organization_id,
    dangerously_bypass_tenancy,
    operator_tenant_context,
    tenancy_bypassed,
    tenant_context,
)


def raw_rows(sql, params=()):
    with connections["default"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_api_role_is_neither_owner_nor_superuser_nor_bypassrls(db):
    ((user, superuser, bypass),) = raw_rows(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    owned = raw_rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
    assert user == connections["default"].settings_dict["USER"]
    assert (superuser, bypass, owned) == (False, False, [])


def test_every_table_with_an_organization_id_forces_row_level_security_under_a_tenant_policy(db):
    # pg_catalog, not information_schema: the latter hides tables the application role may not use.
    tables = raw_rows(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               coalesce(bool_and(
                   pg_get_expr(p.polqual, p.polrelid) LIKE '%%app.organization_id%%'
                   AND pg_get_expr(p.polwithcheck, p.polrelid) LIKE '%%app.organization_id%%'
               ), false)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_policy p ON p.polrelid = c.oid
        WHERE a.attname = 'organization_id' AND NOT a.attisdropped
          AND c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace
        GROUP BY c.relname, c.relrowsecurity, c.relforcerowsecurity
        ORDER BY c.relname
        """
    )
    names = [name for name, *_ in tables]
    assert {"api_keys", "projects", "assets", "idempotency_records"} <= set(names)
    unprotected = [name for name, enabled, forced, policed in tables if not (enabled and forced and policed)]
    assert unprotected == [], f"add EnableRowLevelSecurity({unprotected[0]!r}) to the migration that creates it"


def test_the_application_role_sees_and_writes_only_its_organizations_api_keys(tenant, other_tenant):
    with tenant_context(tenant.id):
        visible = raw_rows("SELECT organization_id FROM api_keys")
        revoked = raw_rows("UPDATE api_keys SET revoked_at = now() WHERE organization_id = %s RETURNING id", [other_tenant.id])
    with transaction.atomic():
        assert raw_rows("SELECT count(*) FROM api_keys") == [(0,)]  # no organization set: nothing

    assert visible == [(tenant.id,)]
    assert revoked == []
    assert other_tenant.client.get("/v1/projects").status_code == 200


def test_insert_of_an_api_key_for_another_organization_is_refused_by_the_database(tenant, other_tenant):
    with pytest.raises(DatabaseError, match="row-level security"):
        with tenant_context(tenant.id):
            raw_rows(
                "INSERT INTO api_keys (organization_id, name, mode, prefix, key_hash, created_at) "
                "VALUES (%s, 'intruder', 'live', 'rwl_live_intrude', repeat('0', 64), now())",
                [other_tenant.id],
            )
    with tenant_context(other_tenant.id):
        assert not ApiKey.objects.filter(prefix="rwl_live_intrude").exists()


def test_api_keys_are_found_by_hash_only_through_the_lookup_function(tenant):
    digest = tenant.issued.api_key.key_hash
    with transaction.atomic():
        assert raw_rows("SELECT count(*) FROM api_keys WHERE key_hash = %s", [digest]) == [(0,)]
        assert raw_rows("SELECT organization_id FROM api_key_lookup(%s)", [digest]) == [(tenant.id,)]
        assert raw_rows("SELECT count(*) FROM api_key_lookup(%s)", ["0" * 64]) == [(0,)]


def test_raw_select_inside_a_tenant_context_returns_only_that_organizations_rows(tenant, other_tenant):
    mine = tenant.create_project(name="Mine")
    other_tenant.create_project(name="Theirs")

    with tenant_context(tenant.id):
        rows = raw_rows("SELECT id, organization_id FROM projects")
        unscoped_orm = list(Project.objects.values_list("id", flat=True))

    assert rows == [(mine["id"], tenant.id)]
    assert unscoped_orm == [mine["id"]]


def test_raw_select_with_no_organization_set_returns_nothing(tenant):
    tenant.create_project(name="Mine")
    with transaction.atomic():
        raw_rows("SELECT set_config('app.organization_id', '', true)")
        assert raw_rows("SELECT count(*) FROM projects") == [(0,)]
        assert Project.objects.count() == 0


def test_insert_for_another_organization_is_refused_by_the_database(tenant, other_tenant):
    with pytest.raises(DatabaseError, match="row-level security"):
        with tenant_context(tenant.id):
            raw_rows(
                "INSERT INTO projects (id, organization_id, name, slug, description, metadata, webhook_secret, "
                "created_at, updated_at) VALUES ('prj_intruder', %s, 'x', 'x', '', '{}', '', now(), now())",
                [other_tenant.id],
            )
    with tenant_context(other_tenant.id):
        assert not Project.objects.filter(pk="prj_intruder").exists()


def test_update_cannot_move_a_row_to_another_organization(tenant, other_tenant):
    project = tenant.create_project(name="Mine")
    with pytest.raises(DatabaseError, match="row-level security"):
        with tenant_context(tenant.id):
            raw_rows("UPDATE projects SET organization_id = %s WHERE id = %s", [other_tenant.id, project["id"]])


def test_nested_tenant_context_restores_the_outer_organization(tenant, other_tenant):
    with tenant_context(tenant.id):
        with tenant_context(other_tenant.id):
            assert raw_rows("SELECT current_setting('app.organization_id', true)") == [(str(other_tenant.id),)]
        assert raw_rows("SELECT current_setting('app.organization_id', true)") == [(str(tenant.id),)]
        assert current_organization_id.get() == str(tenant.id)
    assert current_organization_id.get() is None


@pytest.mark.django_db(databases=["default", "owner"], transaction=True)
def test_an_operator_acting_for_one_organization_leaves_the_bypass_for_that_block_only(tenant, other_tenant):
    mine = tenant.create_project(name="Mine")
    other_tenant.create_project(name="Theirs")

    with dangerously_bypass_tenancy(reason="test"):
        assert Project.objects.count() == 2
        with operator_tenant_context(tenant.id):
            assert not tenancy_bypassed()
            assert list(Project.objects.values_list("id", flat=True)) == [mine["id"]]
            assert raw_rows("SELECT count(*) FROM projects") == [(1,)]
        assert tenancy_bypassed() and Project.objects.count() == 2
        with transaction.atomic(), pytest.raises(RuntimeError, match="non_atomic_requests"):
            with operator_tenant_context(tenant.id):
                pass


@pytest.mark.django_db(transaction=True)
def test_organization_setting_does_not_survive_into_the_next_use_of_the_connection():
    from tests.conftest import Tenant

    tenant = Tenant("Leak check")
    tenant.create_project(name="Mine")

    assert raw_rows("SELECT current_setting('app.organization_id', true)") in ([(None,)], [("",)])
    assert raw_rows("SELECT count(*) FROM projects") == [(0,)]
    with pytest.raises(RuntimeError, match="needs an open transaction"):
        activate_organization(tenant.id)


def test_a_viewset_overriding_get_queryset_is_refused_at_class_creation():
    with pytest.raises(TypeError, match="scope_queryset"):

        class Leaky(TenantViewSet):
            def get_queryset(self):
                return Project.objects.all()
