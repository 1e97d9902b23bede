"""Platform maintenance tasks, run by beat."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from renderowl.models import IdempotencyRecord
from renderowl.tenancy import dangerously_bypass_tenancy

logger = logging.getLogger(__name__)


@shared_task(name="renderowl.prune_idempotency_records_task")
def prune_idempotency_records_task():
    """Delete stored Idempotency-Key responses past their 24-hour replay window, across organizations."""
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)
    with dangerously_bypass_tenancy(reason="prune expired idempotency records", routine=True):
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    logger.log(logging.INFO if deleted else logging.DEBUG, "pruned idempotency records", extra={"deleted": deleted})
    return deleted
