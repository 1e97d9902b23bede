"""Nothing stored outlives its asset: recorded object deletions, pending-upload expiry, the orphan sweep, the purge.

A stored object is let go of in the same transaction as the change that frees it (an `ObjectDeletion`
row), and removed from the store afterwards, by a task and then by beat until the store confirms.
What escapes that (an S3 upload URL used after its asset was deleted, a crash between a store write
and its commit) is found by listing the store: `stored_objects_sweep_orphans`.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from assets.models import Asset, ObjectDeletion
from assets.services import DELETE_OBJECTS_TASK, OBJECT_DELETION_LEASE, asset_fail, object_deletion_schedule
from assets.signals import stored_objects_unowned
from assets.storage import StorageError, asset_key_parts, get_storage
from projects.models import Project
from renderowl.celery import enqueue
from renderowl.tenancy import OWNER_DB_ALIAS, dangerously_bypass_tenancy, tenant_context

logger = logging.getLogger(__name__)

RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
# From this many failed attempts on, each further failure is logged at ERROR: someone must look.
ALERT_AFTER_ATTEMPTS = 5
TASK_CHUNK = 50


def retry_delay(attempts):
    """1, 2, 4, … minutes after the n-th failed attempt, at most 6 hours."""
    return min(RETRY_BASE * 2 ** (attempts - 1), RETRY_CAP)


def object_deletions_run(*, deletion_ids, now=None):
    """Delete these recorded objects from the store; returns (deleted, failed) lists of ObjectDeletion.

    A deleted object's record goes; a failed one stays with its error and its next attempt pushed
    back. Safe to run twice at once: deleting an absent object is not an error.
    """
    with dangerously_bypass_tenancy(reason="delete stored objects", routine=True):
        deletions = list(ObjectDeletion.objects.filter(pk__in=list(deletion_ids)).order_by("pk"))
        storage = get_storage()
        deleted, failed = [], []
        for deletion in deletions:
            try:
                storage.delete(key=deletion.storage_key)
            except (StorageError, OSError) as exc:
                deletion.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                failed.append(deletion)
            else:
                deleted.append(deletion)
        now = now or timezone.now()
        with transaction.atomic(using=OWNER_DB_ALIAS):
            ObjectDeletion.objects.filter(pk__in=[deletion.pk for deletion in deleted]).delete()
            for deletion in failed:
                deletion.attempts += 1
                deletion.next_attempt_at = now + retry_delay(deletion.attempts)
                ObjectDeletion.objects.filter(pk=deletion.pk).update(
                    attempts=deletion.attempts, next_attempt_at=deletion.next_attempt_at, last_error=deletion.last_error
                )
    for deletion in failed:
        alert = deletion.attempts >= ALERT_AFTER_ATTEMPTS
        logger.log(
            logging.ERROR if alert else logging.WARNING,
            "stored object still not deleted; check the store's reachability and credentials"
            if alert
            else "stored object not deleted; it will be retried",
            extra={
                "storage_key": deletion.storage_key,
                "asset_id": deletion.asset_id,
                "attempts": deletion.attempts,
                "next_attempt_at": deletion.next_attempt_at.isoformat(),
                "error": deletion.last_error,
            },
        )
    return deleted, failed


def object_deletions_sweep(*, now=None, limit=500):
    """Queue the recorded deletions that are due (their task was lost, or the store failed). Operator path."""
    now = now or timezone.now()
    with dangerously_bypass_tenancy(reason="sweep object deletions", routine=True):
        with transaction.atomic(using=OWNER_DB_ALIAS):
            due = list(
                ObjectDeletion.objects.select_for_update(skip_locked=True)
                .filter(next_attempt_at__lte=now)
                .order_by("next_attempt_at")
                .values_list("pk", flat=True)[:limit]
            )
            # Not queued again while this run's tasks wait in the queue; a failure sets its own retry time.
            ObjectDeletion.objects.filter(pk__in=due).update(next_attempt_at=now + OBJECT_DELETION_LEASE)
    object_deletions_queue(due)
    return len(due)


def object_deletions_record(objects, *, reason, now=None):
    """Record, in the caller's transaction, that these stored objects must go; returns the ObjectDeletion rows.

    `objects` are (organization id, owner id, storage key), the owner an asset or a render job. Run them
    (object_deletions_run, or object_deletions_queue) once the transaction has committed; if that never
    happens, the sweep takes them up after OBJECT_DELETION_LEASE.
    """
    next_attempt_at = (now or timezone.now()) + OBJECT_DELETION_LEASE
    return ObjectDeletion.objects.bulk_create(
        ObjectDeletion(
            organization_id=organization_id, storage_key=storage_key, asset_id=owner_id, reason=reason,
            next_attempt_at=next_attempt_at,
        )
        for organization_id, owner_id, storage_key in objects
    )


def object_deletions_queue(deletion_ids):
    """Queue committed deletions on the assets pool, TASK_CHUNK a task; one the broker refuses waits for the sweep."""
    deletion_ids = list(deletion_ids)
    for start in range(0, len(deletion_ids), TASK_CHUNK):
        enqueue(DELETE_OBJECTS_TASK, deletion_ids[start : start + TASK_CHUNK])


def assets_expire_pending_uploads(*, now=None, limit=200):
    """Fail assets still pending ASSET_UPLOAD_EXPIRY_MARGIN_SECONDS after their upload URL expired; drop their bytes.

    Each is failed with `upload_expired` and `asset.failed` in its own tenant transaction, which
    also records the deletion of whatever was stored under its key. Returns how many expired.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ASSET_UPLOAD_EXPIRY_MARGIN_SECONDS)
    expired_filter = Q(status=Asset.Status.PENDING, orphaned_at__isnull=True, upload_expires_at__lt=cutoff)
    with dangerously_bypass_tenancy(reason="expire pending uploads", routine=True):
        candidates = list(
            Asset.objects.filter(expired_filter).order_by("upload_expires_at").values_list("id", "organization_id")[
                :limit
            ]
        )
    expired = 0
    for asset_id, organization_id in candidates:
        with tenant_context(organization_id):
            asset = Asset.objects.select_for_update(skip_locked=True).filter(expired_filter, pk=asset_id).first()
            if asset is None:  # completed, given a fresh URL or deleted meanwhile
                continue
            asset_fail(asset, code="upload_expired", message=(
                "No upload was confirmed before the upload URL expired "
                f"({asset.upload_expires_at.isoformat()}); create a new asset to upload the file."
            ))
            object_deletion_schedule(asset, reason=ObjectDeletion.Reason.EXPIRED)
            expired += 1
    return expired


@dataclass
class OrphanSweep:
    """What a sweep of the store found: keys removed (or, in a dry run, that would be) and keys it failed to remove."""

    scanned: int = 0
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def stored_objects_sweep_orphans(*, now=None, grace_seconds=None, dry_run=False, batch_size=500):
    """Remove every stored object that no row owns and that is older than the grace period.

    Lists the whole store under `org/` (both backends). A key shaped like an asset's is an orphan when
    no asset row has it; any other key only when an app downstream says so (`stored_objects_unowned`:
    renders, for its outputs); the rest is left alone. An object written within the grace period is
    left alone, so an upload in flight (or one whose row's transaction is not visible yet) is never taken.
    """
    now = now or timezone.now()
    grace = timedelta(seconds=settings.ASSET_ORPHAN_GRACE_SECONDS if grace_seconds is None else grace_seconds)
    written_before = now - grace
    storage = get_storage()
    sweep = OrphanSweep()
    batch = []

    def settle(keys):
        asset_keys = [key for key in keys if asset_key_parts(key) is not None]
        other_keys = [key for key in keys if asset_key_parts(key) is None]
        with dangerously_bypass_tenancy(reason="sweep orphaned stored objects", routine=True):
            owned = set(Asset.objects.filter(storage_key__in=asset_keys).values_list("storage_key", flat=True))
            unowned = set(asset_keys) - owned
            if other_keys:
                for _, claimed in stored_objects_unowned.send(sender=OrphanSweep, keys=other_keys):
                    unowned.update(set(claimed) & set(other_keys))
        for key in keys:
            if key not in unowned:
                continue
            if not dry_run:
                try:
                    storage.delete(key=key)
                except (StorageError, OSError) as exc:
                    sweep.failed.append((key, f"{type(exc).__name__}: {exc}"))
                    logger.warning("orphaned stored object not removed", extra={"storage_key": key, "error": str(exc)})
                    continue
            sweep.removed.append(key)

    for listed in storage.list_objects(prefix="org/"):
        sweep.scanned += 1
        if listed.modified_at >= written_before:
            continue
        batch.append(listed.key)
        if len(batch) >= batch_size:
            settle(batch)
            batch = []
    if batch:
        settle(batch)
    if sweep.removed and not dry_run:
        logger.info("removed orphaned stored objects", extra={"count": len(sweep.removed)})
    return sweep


def purge_candidates(*, cutoff):
    """(asset ids, project ids) that purgedeleted would remove: assets orphaned, or of projects deleted, before `cutoff`."""
    with dangerously_bypass_tenancy(reason="purgedeleted dry run"):
        assets = list(_purgeable_assets(cutoff).order_by("id").values_list("id", flat=True))
        projects = list(Project.objects.filter(deleted_at__lt=cutoff).order_by("id").values_list("id", flat=True))
    return assets, projects


def _purgeable_assets(cutoff):
    return Asset.objects.filter(Q(orphaned_at__lt=cutoff) | Q(project__deleted_at__lt=cutoff))


def assets_purge_batch(*, cutoff, batch_size, now=None):
    """Remove up to `batch_size` purgeable asset rows, recording their objects' deletion in the same transaction.

    Returns [(asset id, ObjectDeletion id)]; run the deletions (object_deletions_run) after it returns.
    """
    now = now or timezone.now()
    with dangerously_bypass_tenancy(reason="purgedeleted command"), transaction.atomic(using=OWNER_DB_ALIAS):
        rows = list(
            _purgeable_assets(cutoff)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("id")
            .values_list("id", "organization_id", "storage_key")[:batch_size]
        )
        deletions = object_deletions_record(
            ((organization_id, asset_id, storage_key) for asset_id, organization_id, storage_key in rows),
            reason=ObjectDeletion.Reason.PURGED, now=now,
        )
        Asset.objects.filter(pk__in=[asset_id for asset_id, _, _ in rows]).delete()
    return [(deletion.asset_id, deletion.pk) for deletion in deletions]


def projects_purge_batch(*, cutoff, batch_size):
    """Remove up to `batch_size` projects deleted before `cutoff` that have no asset rows left; returns their ids."""
    with dangerously_bypass_tenancy(reason="purgedeleted command"), transaction.atomic(using=OWNER_DB_ALIAS):
        ids = list(
            Project.objects.filter(deleted_at__lt=cutoff)
            .filter(~Exists(Asset.objects.filter(project_id=OuterRef("pk"))))
            .select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        Project.objects.filter(pk__in=ids).delete()
    return ids
