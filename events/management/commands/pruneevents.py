from django.conf import settings
from django.core.management.base import CommandError

from events.services import events_prune
from renderowl.commands import DomainCommand


class Command(DomainCommand):
    help = "Delete events older than --days days, with their webhook deliveries and attempts, in batches."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=settings.EVENT_RETENTION_DAYS,
            help=f"Keep this many days of history (default EVENT_RETENTION_DAYS, {settings.EVENT_RETENTION_DAYS}).",
        )

    def handle(self, *args, days, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        deleted = events_prune(days=days)
        counts = ", ".join(f"{count} {label}" for label, count in sorted(deleted.items())) or "nothing"
        self.stdout.write(f"Deleted {counts} older than {days} days.")
