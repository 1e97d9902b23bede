"""Processing an uploaded asset: checksum, metadata extraction, and the ready/failed verdict.

A run is three steps, like a webhook attempt: claim (a short transaction that counts the run),
work (stream the object to compute its SHA-256 and extract metadata; no transaction open), and
record (a short transaction that sets ready or failed and emits the event through the outbox).
A worker that dies mid-run leaves the asset `processing` with an old `processing_started_at`;
the periodic sweep re-queues it, and fails it after ASSET_MAX_PROCESSING_ATTEMPTS runs.
"""

import hashlib
import logging
import tempfile
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assets.extractors import ExtractionError, extract_metadata
from assets.models import Asset
from assets.services import asset_event, asset_fail, asset_queue_processing
from assets.storage import ObjectNotFound, get_storage
from renderowl.tenancy import OWNER_DB_ALIAS, dangerously_bypass_tenancy, tenant_context
from renderowl.text import unstorable_path

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024


def asset_process(*, organization_id, asset_id):
    """One processing run; returns the asset's status afterwards, or None if there was nothing to do."""
    with tenant_context(organization_id):
        asset = Asset.objects.select_for_update().filter(pk=asset_id, status=Asset.Status.PROCESSING).first()
        if asset is None:
            return None
        if asset.processing_attempts >= settings.ASSET_MAX_PROCESSING_ATTEMPTS:
            asset_fail(asset, code="processing_gave_up", message=(
                f"Processing did not finish after {asset.processing_attempts} attempts; "
                "upload the file again as a new asset, and contact support if it keeps failing."
            ))
            return asset.status
        asset.processing_attempts += 1
        asset.processing_started_at = timezone.now()
        asset.save(update_fields=["processing_attempts", "processing_started_at", "updated_at"])
        attempt = asset.processing_attempts

    try:
        with local_copy(asset) as (path, checksum):
            metadata, failure = extract(asset, path)
    except ExtractionError as exc:  # raised while reading the object
        metadata, failure, checksum = None, exc, ""

    with tenant_context(organization_id):
        asset = Asset.objects.select_for_update().filter(
            pk=asset_id, status=Asset.Status.PROCESSING, processing_attempts=attempt
        ).first()
        if asset is None:  # the sweep gave this run up and another took over
            return None
        asset.checksum = checksum
        if failure is not None:
            asset_fail(asset, code=failure.code, message=failure.message)
        elif unstorable_path(metadata) is not None:  # a string from the file PostgreSQL cannot keep
            asset_fail(asset, code="unstorable_metadata", message=(
                "The file's embedded text (a title, a font name…) contains U+0000 or an unpaired surrogate, "
                f"at {unstorable_path(metadata)}; re-export the file without it."
            ))
        else:
            asset.status = Asset.Status.READY
            asset.metadata = metadata
            asset.error = None
            asset.save(update_fields=["status", "metadata", "error", "checksum", "updated_at"])
            asset_event(asset, "asset.ready")
        return asset.status


def extract(asset, path):
    try:
        return extract_metadata(asset_type=asset.type, path=path, content_type=asset.content_type), None
    except ExtractionError as exc:
        return None, exc


@contextmanager
def local_copy(asset):
    """Yield (a local path to the object's bytes, "sha256:<hex>"), streaming it in chunks.

    With the local backend the stored file is read in place; otherwise it is spooled to a
    temporary file. Memory stays at one chunk whatever the object's size.
    """
    storage = get_storage()
    digest = hashlib.sha256()
    local = storage.local_path(key=asset.storage_key)
    if local is not None and local.exists():
        with open(local, "rb") as source:
            for chunk in iter(partial(source.read, CHUNK), b""):
                digest.update(chunk)
        yield local, f"sha256:{digest.hexdigest()}"
        return
    with tempfile.TemporaryDirectory(prefix="renderowl-asset-") as directory:
        path = Path(directory) / "object"
        try:
            with storage.open(key=asset.storage_key) as source, open(path, "wb") as target:
                for chunk in iter(partial(source.read, CHUNK), b""):
                    digest.update(chunk)
                    target.write(chunk)
        except (FileNotFoundError, ObjectNotFound) as exc:
            raise ExtractionError("upload_missing", "The uploaded file is gone from storage; upload it again.") from exc
        yield path, f"sha256:{digest.hexdigest()}"


def assets_sweep_stale_processing(*, now=None, limit=200):
    """Re-queue assets whose processing run died (or fail them after the last attempt). Operator path."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.ASSET_PROCESSING_TIMEOUT_SECONDS + 60)
    with dangerously_bypass_tenancy(reason="sweep stale asset processing", routine=True):
        with transaction.atomic(using=OWNER_DB_ALIAS):
            stale = list(
                Asset.objects.select_for_update(skip_locked=True)
                .filter(status=Asset.Status.PROCESSING, processing_started_at__lt=stale_before)
                .values_list("id", "organization_id")[:limit]
            )
            Asset.objects.filter(pk__in=[asset_id for asset_id, _ in stale]).update(processing_started_at=now)
    for asset_id, organization_id in stale:
        asset_queue_processing(asset_id=asset_id, organization_id=organization_id)
    return len(stale)
