"""The two database roles: provisioning the application role, its grants, and row-level security."""

import logging

import psycopg
from django.conf import settings
from django.db import connections, migrations
from psycopg import sql

from renderowl.tenancy import OWNER_DB_ALIAS, RLS_SETTING

logger = logging.getLogger(__name__)


def _conninfo(settings_dict, *, dbname):
    params = {
        "dbname": dbname,
        "user": settings_dict["USER"],
        "password": settings_dict["PASSWORD"],
        "host": settings_dict["HOST"],
        "port": settings_dict["PORT"],
    }
    return psycopg.conninfo.make_conninfo(**{key: value for key, value in params.items() if value})


def database_provision(*, owner=None, app=None):
    """Create the application role and the database if missing, connected as the owner. Idempotent.

    Needs an owner that may create roles and databases (a superuser in development and CI).
    Returns a list of what it did, for the command's output.
    """
    owner = owner or settings.DATABASES[OWNER_DB_ALIAS]
    app = app or settings.DATABASES["default"]
    if app["USER"] == owner["USER"]:
        raise ValueError(
            "The application role must not be the owner role: set DATABASE_APP_USER (or DATABASE_APP_URL) "
            "to a role other than the one in DATABASE_URL."
        )
    done = []
    with psycopg.connect(_conninfo(owner, dbname="postgres"), autocommit=True) as conn:
        role_exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app["USER"]]).fetchone()
        if not role_exists:
            statement = sql.SQL(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT"
            ).format(sql.Identifier(app["USER"]))
            if app["PASSWORD"]:
                statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(app["PASSWORD"]))
            conn.execute(statement)
            done.append(f"created role {app['USER']}")
        owner_can_bypass = conn.execute(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()[0]
        if not owner_can_bypass:
            done.append(
                f"warning: the owner role {owner['USER']} lacks BYPASSRLS, so the admin and operator commands "
                "will see no tenant rows; run ALTER ROLE ... BYPASSRLS as a superuser"
            )
        db_exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [owner["NAME"]]).fetchone()
        if not db_exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(owner["NAME"])))
            done.append(f"created database {owner['NAME']}")
    return done


GRANT_STATEMENTS = [
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    # The migration history is readable (runserver and `showmigrations` check it) but never writable.
    "REVOKE INSERT, UPDATE, DELETE ON TABLE django_migrations FROM {role}",
]


def database_grant_app_role(*, using=OWNER_DB_ALIAS):
    """Give the application role data access (never DDL or ownership) to every table in the schema."""
    role = sql.Identifier(settings.DATABASES["default"]["USER"])
    with connections[using].cursor() as cursor:
        for statement in GRANT_STATEMENTS:
            cursor.execute(sql.SQL(statement).format(role=role).as_string(cursor.connection))


def grant_app_role_after_migrate(sender, using, **kwargs):
    """post_migrate hook: re-grant after each migrate so new tables are reachable by the application role."""
    if sender.name == "renderowl" and using == OWNER_DB_ALIAS:
        database_grant_app_role(using=using)


def EnableRowLevelSecurity(table):
    """A migration operation that binds `table` to the organization in `app.organization_id`."""
    policy = f"{table}_tenant_isolation"
    return migrations.RunSQL(
        sql=[
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY {policy} ON {table} "
            f"USING (organization_id = NULLIF(current_setting('{RLS_SETTING}', true), '')::uuid) "
            f"WITH CHECK (organization_id = NULLIF(current_setting('{RLS_SETTING}', true), '')::uuid)",
        ],
        reverse_sql=[
            f"DROP POLICY IF EXISTS {policy} ON {table}",
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        ],
    )
