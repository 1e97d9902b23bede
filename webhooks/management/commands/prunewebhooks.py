from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from webhooks.outbox import events_prune


class Command(BaseCommand):
    help = "Delete webhook events older than --days days, with their deliveries and attempts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=settings.WEBHOOK_RETENTION_DAYS,
            help=f"Keep this many days of history (default WEBHOOK_RETENTION_DAYS, {settings.WEBHOOK_RETENTION_DAYS}).",
        )

    def handle(self, *args, days, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        events, deliveries = events_prune(days=days)
        self.stdout.write(f"Deleted {events} events and {deliveries} deliveries older than {days} days.")
