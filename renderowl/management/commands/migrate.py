from django.core.management.commands import migrate

from renderowl.tenancy import OWNER_DB_ALIAS


class Command(migrate.Command):
    """Django's migrate, run as the owner role by default: the application role may not create tables."""

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(database=OWNER_DB_ALIAS)
