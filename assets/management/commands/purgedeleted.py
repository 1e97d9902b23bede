from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assets.cleanup import assets_purge_batch, object_deletions_run, projects_purge_batch, purge_candidates
from renderowl.commands import parse_age


def positive(value):
    if not value.isdigit() or int(value) < 1:
        raise CommandError(f"--batch-size takes a whole number of at least 1; not {value!r}.")
    return int(value)


class Command(BaseCommand):
    help = (
        "Permanently remove projects deleted, and assets orphaned, before --older-than (e.g. 30d), "
        "stored files included, in batches. Prints what it removed and any file the store failed to delete."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", required=True, help="Age such as 30d, 12h or 90m.")
        parser.add_argument("--dry-run", action="store_true", help="List what would be removed; remove nothing.")
        parser.add_argument("--batch-size", default="500", help="Assets (and projects) per transaction; default 500.")

    def handle(self, *args, older_than, dry_run, batch_size, **options):
        cutoff = timezone.now() - parse_age(older_than)
        batch_size = positive(str(batch_size))
        if dry_run:
            assets, projects = purge_candidates(cutoff=cutoff)
            for asset_id in assets:
                self.stdout.write(f"asset {asset_id}")
            for project_id in projects:
                self.stdout.write(f"project {project_id}")
            self.stdout.write(f"Would remove {len(projects)} projects and {len(assets)} assets.")
            return

        removed_assets, removed_projects, not_deleted = 0, 0, 0
        # Each batch commits its rows together with the record of their files' deletion, then deletes
        # the files: a file the store refuses stays recorded, and beat retries it (docs/OPERATIONS.md).
        while batch := assets_purge_batch(cutoff=cutoff, batch_size=batch_size):
            asset_of = dict((deletion_id, asset_id) for asset_id, deletion_id in batch)
            for asset_id, _ in batch:
                self.stdout.write(f"asset {asset_id}")
            _, failed = object_deletions_run(deletion_ids=list(asset_of))
            for deletion in failed:
                self.stdout.write(
                    f"file of asset {asset_of[deletion.pk]} not deleted ({deletion.last_error}); "
                    "queued for retry"
                )
            removed_assets += len(batch)
            not_deleted += len(failed)
        while batch := projects_purge_batch(cutoff=cutoff, batch_size=batch_size):
            for project_id in batch:
                self.stdout.write(f"project {project_id}")
            removed_projects += len(batch)
        summary = f"Removed {removed_projects} projects and {removed_assets} assets."
        if not_deleted:
            summary = (
                f"Removed {removed_projects} projects and {removed_assets} assets; "
                f"{not_deleted} files could not be deleted yet and are queued for retry."
            )
        self.stdout.write(summary)
