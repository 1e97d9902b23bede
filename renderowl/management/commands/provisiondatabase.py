from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from renderowl.database import database_grant_app_role, database_provision
from renderowl.tenancy import OWNER_DB_ALIAS


class Command(BaseCommand):
    help = (
        "Create the application database role and the database if missing (idempotent; run before migrate), "
        "and, once migrated, re-grant the application role, printing each grant."
    )

    def handle(self, *args, verbosity, **options):
        try:
            done = database_provision()
        except Exception as exc:
            raise CommandError(
                f"Could not provision the database: {exc}. The role in DATABASE_URL needs CREATEROLE and "
                "CREATEDB; in production create the roles by hand as docs/OPERATIONS.md shows."
            ) from exc
        for line in done or ["database and application role already in place"]:
            self.stdout.write(line)
        if "django_migrations" not in connections[OWNER_DB_ALIAS].introspection.table_names():
            self.stdout.write("no tables yet: run migrate, which grants the application role")
            return
        granted = database_grant_app_role(using=OWNER_DB_ALIAS)
        if verbosity >= 1:
            for line in granted:
                self.stdout.write(line)
