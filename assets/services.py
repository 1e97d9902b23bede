"""Assets: the use cases behind /v1/assets — create with a presigned upload, complete, change, delete."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from assets.models import Asset, ObjectDeletion
from assets.signals import asset_deleting
from assets.storage import StorageError, asset_key_parts, get_storage, object_key
from events.services import event_emit
from projects.services import project_lock_for_child
from renderowl.celery import enqueue, enqueue_on_commit
from renderowl.errors import Conflict, Invalid, TooLarge
from renderowl.tenancy import tenant_context

logger = logging.getLogger(__name__)

PROCESS_TASK = "assets.process_asset_task"
DELETE_OBJECTS_TASK = "assets.delete_stored_objects_task"
# A recorded deletion is first tried by the task queued on commit; the sweep takes it up only
# if it is still there this much later (the task was lost, or the store failed).
OBJECT_DELETION_LEASE = timedelta(minutes=10)


def asset_event(asset, type):
    """Record `type` for the asset in the current transaction (the outbox)."""
    event_emit(type=type, instance=asset, organization_id=asset.organization_id, project_id=asset.project_id)


def asset_create(*, organization, project_id, type, name, content_type, size, description="", tags=()):
    """Create a pending asset and a 15-minute presigned PUT for its bytes; nothing is stored yet."""
    project = project_lock_for_child(organization_id=organization.id, project_id=project_id)
    allowed = settings.ASSET_CONTENT_TYPES[type]
    if content_type not in allowed:
        raise Invalid(
            f"A {type} asset must have one of these content types: {', '.join(allowed)}.",
            code="content_type_not_allowed",
            field="contentType",
        )
    limit = settings.ASSET_MAX_SIZES[type]
    if size > limit:
        raise TooLarge(
            f"Assets of type {type} may be at most {limit} bytes; this one declares {size}.",
            code="asset_too_large",
            errors=[{"field": "size", "message": f"At most {limit} bytes for type {type}."}],
        )
    asset = Asset(
        organization=organization, project=project, type=type, name=name, content_type=content_type,
        size=size, description=description, tags=list(tags),
    )
    asset.storage_key = object_key(
        organization_id=organization.id, project_id=project.id, asset_id=asset.id, filename=name
    )
    upload = presigned_upload(asset)
    asset.upload_expires_at = upload.expires_at
    asset.save(force_insert=True)
    return asset, upload


def presigned_upload(asset):
    return get_storage().presigned_upload(
        key=asset.storage_key,
        content_type=asset.content_type,
        size=asset.size,
        expires_in=settings.ASSET_UPLOAD_EXPIRES_SECONDS,
    )


def asset_upload_url(*, asset):
    """A fresh 15-minute upload URL for a pending asset whose file is not stored yet; earlier URLs stay valid."""
    stored = get_storage().head(key=asset.storage_key)  # before the row lock: a slow store holds no lock
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    if asset.status != Asset.Status.PENDING:
        raise Conflict(
            f"This asset is {asset.status}: only a pending asset takes a new upload URL. "
            "Create a new asset to upload another file.",
            code="asset_not_pending",
        )
    if stored is not None:
        raise Conflict(
            f"A file is already stored for this asset: POST /v1/assets/{asset.id}/upload-complete to check it, "
            "or delete the asset and create a new one to upload another file.",
            code="already_uploaded",
        )
    upload = presigned_upload(asset)
    asset.upload_expires_at = upload.expires_at
    asset.save(update_fields=["upload_expires_at", "updated_at"])
    return asset, upload


def asset_accepts_upload(*, storage_key):
    """Whether a signed upload URL for `storage_key` may still store: its asset exists, has not failed (nor
    expired), and its project is live. (A processing or ready asset's file is stored: the URL cannot replace it.)

    A key that object_key() did not build for an asset (a render's output) is not the assets app's to judge.
    """
    parts = asset_key_parts(storage_key)
    if parts is None:
        return True
    with tenant_context(parts.organization_id):
        return (
            Asset.objects.filter(
                pk=parts.asset_id, storage_key=storage_key, orphaned_at__isnull=True, project__deleted_at__isnull=True
            )
            .exclude(status=Asset.Status.FAILED)
            .exists()
        )


def asset_discard_late_upload(*, storage_key):
    """Remove an object stored after its asset stopped accepting uploads: now, or durably later if the store fails."""
    parts = asset_key_parts(storage_key)
    try:
        get_storage().delete(key=storage_key)
        return
    except (StorageError, OSError):
        logger.warning("late upload not removed; recorded for deletion", extra={"storage_key": storage_key},
                       exc_info=True)
    with tenant_context(parts.organization_id):
        ObjectDeletion.objects.create(
            organization_id=parts.organization_id, storage_key=storage_key, asset_id=parts.asset_id,
            reason=ObjectDeletion.Reason.LATE_UPLOAD, next_attempt_at=timezone.now(),
        )


def asset_upload_complete(*, asset):
    """Check the stored object against what was declared, then queue processing. Repeating it is harmless.

    The store proves nothing by itself (moto, for one, enforces no signed size): the object is
    HEADed and must match the declared size and content type.
    """
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    if asset.status in (Asset.Status.PROCESSING, Asset.Status.READY):
        return asset
    if asset.status == Asset.Status.FAILED:
        raise Conflict(
            "This asset failed processing; create a new asset to upload a corrected file.", code="asset_failed"
        )
    stored = get_storage().head(key=asset.storage_key)
    if stored is None:
        raise Conflict(
            "No uploaded file found: PUT the bytes to the upload URL (with its headers) before completing.",
            code="upload_missing",
        )
    if stored.size != asset.size:
        raise Conflict(
            f"The uploaded file has {stored.size} bytes but the asset declares {asset.size}; upload the right "
            "file again (the upload URL stays valid until it expires) or create a new asset.",
            code="upload_size_mismatch",
        )
    if stored.content_type and stored.content_type != asset.content_type:
        raise Conflict(
            f"The uploaded file was stored as {stored.content_type}, not the declared {asset.content_type}; "
            "send the Content-Type header the upload URL came with.",
            code="upload_content_type_mismatch",
        )
    asset.status = Asset.Status.PROCESSING
    asset.processing_started_at = timezone.now()
    asset.save(update_fields=["status", "processing_started_at", "updated_at"])
    asset_event(asset, "asset.uploaded")
    enqueue_on_commit(PROCESS_TASK, asset.id, organization_id=asset.organization_id)
    return asset


def asset_queue_processing(*, asset_id, organization_id):
    """Queue a processing run now (the stale-run sweep's path); a refused publish is retried by the next sweep."""
    enqueue(PROCESS_TASK, asset_id, organization_id=organization_id)


def asset_download(*, asset):
    """A signed download URL for a stored asset."""
    return get_storage().presigned_download(
        key=asset.storage_key, expires_in=settings.ASSET_DOWNLOAD_EXPIRES_SECONDS, filename=asset.name
    )


def asset_update(*, asset, changes):
    """Change name, description or tags; writes only what changed."""
    changed = [field for field, value in changes.items() if getattr(asset, field) != value]
    for field in changed:
        setattr(asset, field, changes[field])
    if changed:
        asset.save(update_fields=[*changed, "updated_at"])
    return asset


def asset_ensure_deletable(*, asset):
    """The one place that decides whether an asset may go: apps downstream refuse through `asset_deleting`."""
    asset_deleting.send(sender=Asset, asset=asset)


def asset_delete(*, asset):
    """Delete the row now, and record the deletion of its stored bytes in the same transaction.

    The store is another system: its failure must not fail the request once the row is gone.
    A task queued on commit deletes the object; the recorded deletion stays until the store
    confirms, and beat retries it (`assets.cleanup`).
    """
    asset_ensure_deletable(asset=asset)
    object_deletion_schedule(asset, reason=ObjectDeletion.Reason.DELETED)
    asset.delete()


def object_deletion_schedule(asset, *, reason):
    """Record that the asset's stored object must go, and queue its deletion once the transaction commits."""
    deletion = ObjectDeletion.objects.create(
        organization_id=asset.organization_id,
        storage_key=asset.storage_key,
        asset_id=asset.id,
        reason=reason,
        next_attempt_at=timezone.now() + OBJECT_DELETION_LEASE,
    )
    enqueue_on_commit(DELETE_OBJECTS_TASK, [deletion.pk], organization_id=asset.organization_id)
    return deletion


def asset_fail(asset, *, code, message):
    """Mark the (locked) asset failed with `code` and record `asset.failed`."""
    asset.status = Asset.Status.FAILED
    asset.error = {"code": code, "message": message}
    asset.save(update_fields=["status", "error", "checksum", "updated_at"])
    asset_event(asset, "asset.failed")


def assets_orphan_for_deleted_project(sender, *, project, now, **kwargs):
    """`project_deleted` receiver: mark the project's assets orphaned in the deleting transaction.

    `purgedeleted` removes them later.
    """
    return Asset.objects.filter(project=project, orphaned_at__isnull=True).update(orphaned_at=now, updated_at=now)
