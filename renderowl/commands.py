"""What management commands share: a domain error is a message, not a traceback; ages like 30d, 12h or 90m."""

import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from renderowl.errors import DomainError

AGE_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_age(value, *, option="--older-than"):
    """The timedelta an operator wrote as a whole number and a unit (`30d`, `12h`, `90m`), else a CommandError."""
    match = re.fullmatch(r"(\d+)([dhm])", value)
    if not match:
        raise CommandError(f"{option} takes a number and a unit, like 30d, 12h or 90m; not {value!r}.")
    return timedelta(**{AGE_UNITS[match.group(2)]: int(match.group(1))})


class DomainCommand(BaseCommand):
    """A command whose services' DomainErrors print their detail and exit non-zero (as CommandError does)."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
