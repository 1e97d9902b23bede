"""Celery entry points for assets; they run on the `assets` queue (CELERY_TASK_ROUTES)."""

from celery import shared_task
from django.conf import settings

from assets.processing import asset_process, assets_sweep_stale_processing
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
