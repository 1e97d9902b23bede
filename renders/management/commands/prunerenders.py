from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assets.cleanup import object_deletions_run
from renderowl.commands import parse_age
from renders.retention import render_outputs_expirable, render_outputs_expire_batch


def positive(value):
    if not value.isdigit() or int(value) < 1:
        raise CommandError(f"--batch-size takes a whole number of at least 1; not {value!r}.")
    return int(value)


class Command(BaseCommand):
    help = (
        "Delete the stored outputs of renders completed more than --older-than ago (default "
        "RENDER_OUTPUT_RETENTION_DAYS): the jobs stay, their outputUrl becomes null and outputDeletedAt is set. "
        "Beat does the same every 10 minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", default=f"{settings.RENDER_OUTPUT_RETENTION_DAYS}d",
            help=f"Age such as 30d, 12h or 90m (default RENDER_OUTPUT_RETENTION_DAYS: "
                 f"{settings.RENDER_OUTPUT_RETENTION_DAYS}d).",
        )
        parser.add_argument("--dry-run", action="store_true", help="List what would be deleted; change nothing.")
        parser.add_argument("--batch-size", default="500", help="Renders per transaction; default 500.")

    def handle(self, *args, older_than, dry_run, batch_size, **options):
        age = parse_age(older_than)
        if not age:
            raise CommandError(
                f"--older-than must be more than 0 ({older_than!r} would delete every completed render's output "
                "at once); pass an age like 30d."
            )
        batch_size = positive(str(batch_size))
        cutoff = timezone.now() - age
        if dry_run:
            expirable = render_outputs_expirable(cutoff=cutoff)
            for job_id, _ in expirable:
                self.stdout.write(f"render {job_id}")
            files = sum(len(keys) for _, keys in expirable)
            self.stdout.write(f"Would expire the outputs of {len(expirable)} renders: {files} files to delete.")
            return

        renders, deleted, queued = 0, 0, 0
        # Each batch commits its jobs' change with the record of their files' deletion, then deletes the
        # files: a file the store refuses stays recorded, and beat retries it (docs/OPERATIONS.md).
        while batch := render_outputs_expire_batch(
            cutoff=cutoff, batch_size=batch_size, reason="prunerenders command", routine=False,
        ):
            job_of = {deletion_id: expired.job_id for expired in batch for deletion_id in expired.deletion_ids}
            for expired in batch:
                self.stdout.write(f"render {expired.job_id}")
            done, failed = object_deletions_run(deletion_ids=list(job_of))
            for deletion in failed:
                self.stdout.write(
                    f"file {deletion.storage_key} of render {job_of[deletion.pk]} not deleted ({deletion.last_error}); "
                    "queued for retry"
                )
            renders += len(batch)
            deleted += len(done)
            queued += len(failed)
        self.stdout.write(
            f"Expired the outputs of {renders} renders: {deleted} files deleted, {queued} queued for retry."
        )
