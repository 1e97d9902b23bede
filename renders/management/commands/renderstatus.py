from django.core.management.base import BaseCommand, CommandError

from renders.selectors import render_queue_status


class Command(BaseCommand):
    help = (
        "Print the render queue as key=value lines, counted in PostgreSQL across organizations: queued jobs per "
        "priority and in all, the oldest queued job's age in seconds (0 when none), jobs rendering in all and for "
        "the --top organizations rendering most. The keys and their order are stable (docs/OPERATIONS.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--top", default="5", help="How many organizations to list by jobs rendering (default 5; 0 for none).",
        )

    def handle(self, *args, top, **options):
        if not str(top).isdigit():
            raise CommandError(f"--top takes a whole number, 0 or more; not {top!r}.")
        status = render_queue_status(top=int(top))
        lines = [f"queued.{priority}={count}" for priority, count in status.queued.items()]
        lines += [
            f"queued.total={status.queued_total}",
            f"queued.oldest_age_seconds={status.oldest_queued_age_seconds}",
            f"rendering.total={status.rendering}",
        ]
        lines += [f"rendering.organization.{organization_id}={count}"
                  for organization_id, count in status.rendering_by_organization]
        self.stdout.write("\n".join(lines))
