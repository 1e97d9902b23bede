"""The application role: provisioned by a command, granted exactly the platform's tables, nothing of the operators'."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import ProgrammingError, connections, transaction

from renderowl.database import app_role_table_privileges, database_provision

APP_ROLE = settings.DATABASES["default"]["USER"]
OPERATOR_TABLES = [
    "auth_user",
    "auth_group",
    "auth_permission",
    "django_session",
    "django_admin_log",
    "django_content_type",
    "django_celery_beat_periodictask",
    "django_celery_beat_intervalschedule",
]


def as_app_role(sql, params=()):
    """Run `sql` as the application role in a savepoint, so a refusal does not abort the test's transaction."""
    with transaction.atomic(), connections["default"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def app_role_grants():
    """{table: {privileges}} as PostgreSQL records them for the application role."""
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = %s AND table_schema = 'public'",
            [APP_ROLE],
        )
        grants = {}
        for table, privilege in cursor.fetchall():
            grants.setdefault(table, set()).add(privilege)
        return grants


@pytest.mark.django_db(databases=["default", "owner"])
def test_provisiondatabase_is_idempotent_and_prints_each_grant():
    out = io.StringIO()
    call_command("provisiondatabase", stdout=out)
    lines = out.getvalue().strip().splitlines()

    assert lines[0] == "database and application role already in place"
    assert "granted SELECT, INSERT, UPDATE, DELETE on projects" in lines
    assert "granted SELECT on organizations" in lines
    assert "granted SELECT on django_migrations" in lines
    assert "granted EXECUTE on function api_key_lookup(text)" in lines
    (denied,) = [line for line in lines if line.startswith("no access to ")]
    assert set(OPERATOR_TABLES) <= set(denied.removeprefix("no access to ").split(", "))


@pytest.mark.django_db(databases=["default", "owner"])
def test_migrate_prints_what_it_grants_the_application_role():
    out = io.StringIO()
    call_command("migrate", stdout=out)
    output = out.getvalue()
    assert f"Granted the application role {APP_ROLE}:" in output
    assert "  granted SELECT, INSERT, UPDATE, DELETE on api_keys" in output


@pytest.mark.parametrize("table", OPERATOR_TABLES)
def test_the_application_role_cannot_read_operator_tables(db, table):
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_app_role(f"SELECT 1 FROM {table} LIMIT 1")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE organizations SET name = name",
        "DELETE FROM organizations",
        "INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'x', now())",
        "CREATE TABLE intruder (id int)",
    ],
)
def test_the_application_role_only_reads_organizations_and_the_migration_history(db, statement):
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_app_role(statement)


@pytest.mark.django_db(databases=["default", "owner"])
def test_every_platform_table_and_nothing_else_is_granted():
    # Derived from the app registry: a new app's tables appear here without editing a list.
    granted = app_role_grants()
    plan = app_role_table_privileges()

    assert {"projects", "assets", "api_keys", "idempotency_records", "webhook_endpoints"} <= set(plan)
    assert not set(OPERATOR_TABLES) & set(plan)
    # TRUNCATE and INSERT on organizations are the test database's own extras (see tests/conftest.py).
    test_only = {"TRUNCATE"}
    production = {
        table: privileges - test_only - ({"INSERT"} if table == "organizations" else set())
        for table, privileges in granted.items()
    }
    production = {table: privileges for table, privileges in production.items() if privileges}
    assert production == {table: set(privileges) for table, privileges in plan.items()}


def test_provisioning_refuses_an_application_role_that_is_the_owner():
    owner = settings.DATABASES["owner"]
    with pytest.raises(ValueError, match="must not be the owner role"):
        database_provision(owner=owner, app={**settings.DATABASES["default"], "USER": owner["USER"]})


@pytest.mark.django_db(databases=["default", "owner"], transaction=True)
def test_beat_keeps_its_schedule_through_the_owner_connection_while_the_application_role_has_none():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from renderowl.celery import app

    scheduler = DatabaseScheduler(app=app)
    entry = scheduler.schedule["dispatch-due-webhook-deliveries"]
    scheduler.reserve(entry)
    scheduler.sync()

    stored = PeriodicTask.objects.using("owner").get(name="dispatch-due-webhook-deliveries")
    assert stored.total_run_count == 1
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_app_role("SELECT 1 FROM django_celery_beat_periodictask LIMIT 1")
