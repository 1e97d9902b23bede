import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from assets.models import Asset
from assets.storage import get_storage
from projects.models import Project
from renderowl.tenancy import OWNER_DB_ALIAS, dangerously_bypass_tenancy

UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_age(value):
    match = re.fullmatch(r"(\d+)([dhm])", value)
    if not match:
        raise CommandError(f"--older-than takes a number and a unit, like 30d, 12h or 90m; not {value!r}.")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


class Command(BaseCommand):
    help = (
        "Permanently remove projects deleted, and assets orphaned, before --older-than (e.g. 30d), "
        "stored files included. Prints what it removed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", required=True, help="Age such as 30d, 12h or 90m.")
        parser.add_argument("--dry-run", action="store_true", help="List what would be removed; remove nothing.")

    def handle(self, *args, older_than, dry_run, **options):
        cutoff = timezone.now() - parse_age(older_than)
        with dangerously_bypass_tenancy(reason="purgedeleted command"), transaction.atomic(using=OWNER_DB_ALIAS):
            projects = Project.objects.filter(deleted_at__lt=cutoff)
            assets = Asset.objects.filter(orphaned_at__lt=cutoff) | Asset.objects.filter(project__in=projects)
            doomed_assets = list(assets.distinct().values_list("id", "storage_key"))
            doomed_projects = list(projects.values_list("id", flat=True))
            for asset_id, _ in doomed_assets:
                self.stdout.write(f"asset {asset_id}")
            for project_id in doomed_projects:
                self.stdout.write(f"project {project_id}")
            if dry_run:
                self.stdout.write(f"Would remove {len(doomed_projects)} projects and {len(doomed_assets)} assets.")
                return
            Asset.objects.filter(pk__in=[asset_id for asset_id, _ in doomed_assets]).delete()
            Project.objects.filter(pk__in=doomed_projects).delete()
            storage = get_storage()
            keys = [key for _, key in doomed_assets]
            transaction.on_commit(lambda: [storage.delete(key=key) for key in keys], using=OWNER_DB_ALIAS)
        self.stdout.write(f"Removed {len(doomed_projects)} projects and {len(doomed_assets)} assets.")
