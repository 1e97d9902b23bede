from django.core.management.base import BaseCommand, CommandError

from renderowl.database import database_provision


class Command(BaseCommand):
    help = "Create the application database role and the database if missing (idempotent; run before migrate)."

    def handle(self, *args, **options):
        try:
            done = database_provision()
        except Exception as exc:
            raise CommandError(
                f"Could not provision the database: {exc}. The role in DATABASE_URL needs CREATEROLE and "
                "CREATEDB; in production create the roles by hand as docs/OPERATIONS.md shows."
            ) from exc
        for line in done or ["database and application role already in place"]:
            self.stdout.write(line)
