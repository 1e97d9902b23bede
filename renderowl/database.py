"""The two database roles: provisioning the application role, its grants, and row-level security."""

import logging

import psycopg
from django.apps import apps
from django.conf import settings
from django.db import connections, migrations, transaction
from psycopg import sql

from renderowl.tenancy import OWNER_DB_ALIAS, RLS_SETTING, is_platform_app

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


DATA_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Platform tables the application role may use less than fully. The API and the workers only read
# organizations: operators create them (createorganization, the admin) through the owner connection.
PLATFORM_TABLE_PRIVILEGES = {"organizations": ("SELECT",)}
# Tables of other apps the application role may reach. Everything else outside the platform (auth_*,
# django_session, django_admin_log, django_content_type, beat's django_celery_beat_*) is an operator
# table: the router sends its queries to the owner connection and the application role has no grant.
THIRD_PARTY_TABLE_PRIVILEGES = {
    # Readable so that runserver and `showmigrations` can check it; never writable.
    "django_migrations": ("SELECT",),
}


def app_role_functions():
    """The narrow SECURITY DEFINER paths the application role may call: each platform app's
    `app_role_functions` (signatures such as "api_key_lookup(text)"; see the migrations that create them)."""
    return [
        function
        for app_config in apps.get_app_configs()
        if is_platform_app(app_config.label)
        for function in getattr(app_config, "app_role_functions", ())
    ]


def app_role_table_privileges():
    """{table: privileges} for the application role, derived from the app registry.

    Every concrete table of the platform's own apps (see `renderowl.tenancy.is_platform_app`), so a
    new app is granted without editing a list; plus the explicitly named third-party tables.
    """
    grants = {}
    for app_config in apps.get_app_configs():
        if not is_platform_app(app_config.label):
            continue
        for model in app_config.get_models(include_auto_created=True):
            if model._meta.managed and not model._meta.proxy:
                table = model._meta.db_table
                grants[table] = PLATFORM_TABLE_PRIVILEGES.get(table, DATA_PRIVILEGES)
    grants.update(THIRD_PARTY_TABLE_PRIVILEGES)
    return dict(sorted(grants.items()))


def database_grant_app_role(*, using=OWNER_DB_ALIAS):
    """Grant the application role exactly `app_role_table_privileges()` (never DDL or ownership), nothing else.

    Revokes first, in the same transaction, so a table dropped from the plan (or granted by an older
    release: auth_user, django_session, ...) loses access. Returns one line per grant, for output and logs.
    """
    role = sql.Identifier(settings.DATABASES["default"]["USER"])
    connection = connections[using]
    done = []
    with transaction.atomic(using=using), connection.cursor() as cursor:

        def run(statement, **parts):
            cursor.execute(sql.SQL(statement).format(role=role, **parts).as_string(cursor.connection))

        run("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        run("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
        run("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {role}")
        run("GRANT USAGE ON SCHEMA public TO {role}")
        existing = set(connection.introspection.table_names(cursor))
        plan = app_role_table_privileges()
        for table, privileges in plan.items():
            if table not in existing:
                done.append(f"skipped {table}: not migrated yet")
                continue
            run(
                "GRANT {privileges} ON TABLE {table} TO {role}",
                privileges=sql.SQL(", ").join(sql.SQL(privilege) for privilege in privileges),
                table=sql.Identifier(table),
            )
            done.append(f"granted {', '.join(privileges)} on {table}")
            if "INSERT" not in privileges:
                continue
            cursor.execute(
                "SELECT DISTINCT seq.relname FROM pg_depend dep "
                "JOIN pg_class seq ON seq.oid = dep.objid AND seq.relkind = 'S' "
                "WHERE dep.refobjid = %s::regclass AND dep.deptype IN ('a', 'i')",
                [table],
            )
            for (sequence,) in cursor.fetchall():
                run("GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {role}", sequence=sql.Identifier(sequence))
                done.append(f"granted USAGE, SELECT on sequence {sequence}")
        for function in app_role_functions():
            cursor.execute("SELECT to_regprocedure(%s)", [function])
            if cursor.fetchone()[0] is None:
                done.append(f"skipped function {function}: not migrated yet")
                continue
            run("GRANT EXECUTE ON FUNCTION {function} TO {role}", function=sql.SQL(function))
            done.append(f"granted EXECUTE on function {function}")
        denied = sorted(existing - set(plan))
        if denied:
            done.append(f"no access to {', '.join(denied)}")
    logger.debug(
        "granted the application role",
        extra={"role": settings.DATABASES["default"]["USER"], "grants": done},
    )
    return done


def grant_app_role_after_migrate(sender, using, verbosity=1, stdout=None, **kwargs):
    """post_migrate hook: re-grant after each migrate so new tables are reachable by the application role."""
    if sender.name == "renderowl" and using == OWNER_DB_ALIAS:
        done = database_grant_app_role(using=using)
        if stdout is not None and verbosity >= 1:
            stdout.write(f"Granted the application role {settings.DATABASES['default']['USER']}:")
            for line in done:
                stdout.write(f"  {line}")


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
