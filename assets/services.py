"""Assets: the use cases behind /v1/assets — create with a presigned upload, complete, change, delete."""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assets.models import Asset
from assets.storage import get_storage, object_key
from events.services import event_emit
from projects.services import project_lock_for_child
from renderowl.celery import enqueue, enqueue_on_commit
from renderowl.errors import Conflict, Invalid, TooLarge

PROCESS_TASK = "assets.process_asset_task"


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
    asset.save(force_insert=True)
    upload = get_storage().presigned_upload(
        key=asset.storage_key, content_type=content_type, size=size, expires_in=settings.ASSET_UPLOAD_EXPIRES_SECONDS
    )
    return asset, upload


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
    """The one place that decides whether an asset may go. (Renders will refuse assets they use.)"""


def asset_delete(*, asset):
    """Delete the row now and the stored bytes once that commits."""
    asset_ensure_deletable(asset=asset)
    key = asset.storage_key
    asset.delete()
    transaction.on_commit(partial(get_storage().delete, key=key))


def assets_orphan_for_deleted_project(sender, *, project, now, **kwargs):
    """`project_deleted` receiver: mark the project's assets orphaned in the deleting transaction.

    `purgedeleted` removes them later.
    """
    return Asset.objects.filter(project=project, orphaned_at__isnull=True).update(orphaned_at=now, updated_at=now)
