from django.conf import settings
from django.core.management.base import BaseCommand

from assets.cleanup import stored_objects_sweep_orphans
from renderowl.commands import parse_age


class Command(BaseCommand):
    help = (
        "Remove every stored asset file that no asset row owns and that was written more than --grace ago "
        "(default ASSET_ORPHAN_GRACE_SECONDS). Lists the whole store; beat runs the same sweep daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be removed; remove nothing.")
        parser.add_argument("--grace", help="Leave files written this recently (30d, 12h, 90m); default the setting.")

    def handle(self, *args, dry_run, grace, **options):
        grace_seconds = settings.ASSET_ORPHAN_GRACE_SECONDS
        if grace is not None:
            grace_seconds = int(parse_age(grace, option="--grace").total_seconds())
        sweep = stored_objects_sweep_orphans(grace_seconds=grace_seconds, dry_run=dry_run)
        for key in sweep.removed:
            self.stdout.write(f"file {key}")
        for key, error in sweep.failed:
            self.stdout.write(f"file {key} not removed ({error})")
        verb = "Would remove" if dry_run else "Removed"
        summary = f"{verb} {len(sweep.removed)} orphaned files of {sweep.scanned} stored."
        if sweep.failed:
            summary = f"{summary[:-1]}; {len(sweep.failed)} could not be removed (the next sweep retries them)."
        self.stdout.write(summary)
