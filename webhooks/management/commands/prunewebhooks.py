from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from renderowl.tenancy import dangerously_bypass_tenancy
from webhooks.models import Event


class Command(BaseCommand):
    help = "Delete webhook events older than --days days, with their deliveries and attempts."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="Keep this many days of history (default 30).")

    def handle(self, *args, days, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        cutoff = timezone.now() - timedelta(days=days)
        with dangerously_bypass_tenancy(reason="prunewebhooks command"):
            old = Event.objects.filter(created_at__lt=cutoff, published_at__isnull=False)
            deleted, by_model = old.delete()
        events = by_model.get("webhooks.Event", 0)
        deliveries = by_model.get("webhooks.Delivery", 0)
        self.stdout.write(f"Deleted {events} events and {deliveries} deliveries older than {days} days.")
