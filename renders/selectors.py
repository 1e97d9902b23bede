"""Reads of render jobs for operators: the state of the render queue, counted in PostgreSQL (not the broker)."""

from dataclasses import dataclass

from django.db.models import Count, Min
from django.utils import timezone

from renderowl.tenancy import dangerously_bypass_tenancy
from renders.models import RenderJob

# The order the scheduler serves them in (renders.scheduling): high, then normal, then low.
PRIORITIES = (RenderJob.Priority.HIGH, RenderJob.Priority.NORMAL, RenderJob.Priority.LOW)


@dataclass(frozen=True)
class RenderQueueStatus:
    """Queued jobs per priority, the oldest queued job's age, and rendering jobs in all and per organization."""

    queued: dict[str, int]
    oldest_queued_age_seconds: int
    rendering: int
    rendering_by_organization: list[tuple[str, int]]

    @property
    def queued_total(self):
        return sum(self.queued.values())


def render_queue_status(*, top=5, now=None):
    """Selector, operator path: the queue across organizations, with the `top` organizations rendering most.

    The oldest queued job's age is 0 when nothing is queued; organizations are ordered by jobs rendering,
    then by id, so the output is stable.
    """
    now = now or timezone.now()
    # Read-only aggregates that monitoring may poll every minute: a routine bypass, logged at DEBUG.
    with dangerously_bypass_tenancy(reason="render queue status", routine=True):
        queued = {
            row["priority"]: row
            for row in RenderJob.objects.filter(status=RenderJob.Status.QUEUED)
            .values("priority")
            .annotate(count=Count("id"), oldest=Min("queued_at"))
            .order_by()
        }
        rendering = list(
            RenderJob.objects.filter(status=RenderJob.Status.RENDERING)
            .values("organization_id")
            .annotate(count=Count("id"))
            .order_by("-count", "organization_id")
        )
    oldest = min((row["oldest"] for row in queued.values() if row["oldest"] is not None), default=None)
    return RenderQueueStatus(
        queued={priority.value: queued.get(priority.value, {}).get("count", 0) for priority in PRIORITIES},
        oldest_queued_age_seconds=max(0, int((now - oldest).total_seconds())) if oldest else 0,
        rendering=sum(row["count"] for row in rendering),
        rendering_by_organization=[(str(row["organization_id"]), row["count"]) for row in rendering[:top]],
    )
