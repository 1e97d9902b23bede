"""Celery entry points for assets; routed by CELERY_TASK_ROUTES (work on `assets`, beat's sweeps on `schedules`)."""

from celery import shared_task
from django.conf import settings

from assets.cleanup import (
    assets_expire_pending_uploads,
    object_deletions_run,
    object_deletions_sweep,
    stored_objects_sweep_orphans,
)
from assets.processing import asset_process, assets_sweep_stale_processing
from renderowl.celery import enqueue
from renderowl.tenancy import current_organization_id


@shared_task(
    name="assets.process_asset_task",
    tenant_transaction=False,
    soft_time_limit=settings.ASSET_PROCESSING_SOFT_TIME_LIMIT_SECONDS,
    time_limit=settings.ASSET_PROCESSING_TIMEOUT_SECONDS,
)
def process_asset_task(asset_id):
    """Checksum and extract metadata for an uploaded asset; safe to run twice."""
    return asset_process(organization_id=current_organization_id.get(), asset_id=asset_id)


@shared_task(name="assets.sweep_stale_processing_task")
def sweep_stale_processing_task():
    """Beat: give dead processing runs to another worker, failing assets past their last attempt."""
    return assets_sweep_stale_processing()


@shared_task(name="assets.delete_stored_objects_task", tenant_transaction=False)
def delete_stored_objects_task(deletion_ids):
    """Delete recorded objects from the store; a failure stays recorded for the sweep. Safe to run twice."""
    deleted, failed = object_deletions_run(deletion_ids=deletion_ids)
    return {"deleted": len(deleted), "failed": len(failed)}


@shared_task(name="assets.sweep_object_deletions_task")
def sweep_object_deletions_task():
    """Beat: queue the recorded object deletions that are due again."""
    return object_deletions_sweep()


@shared_task(name="assets.expire_pending_uploads_task", tenant_transaction=False)
def expire_pending_uploads_task():
    """Beat: fail assets whose upload never came, past their URL's expiry and ASSET_UPLOAD_EXPIRY_MARGIN_SECONDS."""
    return assets_expire_pending_uploads()


@shared_task(name="assets.queue_orphaned_objects_sweep_task")
def queue_orphaned_objects_sweep_task():
    """Beat, daily: hand the orphan sweep to the assets pool, which does the storage work."""
    return enqueue("assets.sweep_orphaned_objects_task")


@shared_task(
    name="assets.sweep_orphaned_objects_task",
    tenant_transaction=False,
    soft_time_limit=settings.ASSET_PROCESSING_SOFT_TIME_LIMIT_SECONDS,
    time_limit=settings.ASSET_PROCESSING_TIMEOUT_SECONDS,
)
def sweep_orphaned_objects_task():
    """Beat, daily: remove stored asset objects that no asset row owns (past ASSET_ORPHAN_GRACE_SECONDS)."""
    sweep = stored_objects_sweep_orphans()
    return {"scanned": sweep.scanned, "removed": len(sweep.removed), "failed": len(sweep.failed)}
