"""The base for management commands that call services: a domain error is a message, not a traceback."""

from django.core.management.base import BaseCommand, CommandError

from renderowl.errors import DomainError


class DomainCommand(BaseCommand):
    """A command whose services' DomainErrors print their detail and exit non-zero (as CommandError does)."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
