"""Webhook endpoints: registration, changes, test sends and redelivery (the use cases behind /v1/webhooks)."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from events.registry import event_filter_is_valid
from events.services import event_emit
from projects.services import projects_live
from renderowl.celery import enqueue_on_commit
from renderowl.errors import Conflict, Invalid
from renderowl.network import BlockedDestination
from webhooks.delivery import deliveries_lease, endpoint_accepts
from webhooks.events import TEST_EVENT
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.network import check_url
from webhooks.tasks import DELIVER_TASK


def _checked_url(url):
    try:
        check_url(url)
    except BlockedDestination as exc:
        raise Invalid(str(exc), code="url_not_allowed", field="url") from None
    return url


def _checked_events(events):
    unknown = [pattern for pattern in events if not event_filter_is_valid(pattern)]
    if unknown:
        raise Invalid(
            f"Unknown event type {unknown[0]!r}; use a type such as 'render.completed' or a wildcard such as "
            "'render.*' (GET /v1/openapi.json lists them).",
            code="unknown_event_type",
            field="events",
        )
    return sorted(set(events))


def _checked_projects(*, organization, project_ids):
    found = set(projects_live(organization_id=organization.id).filter(pk__in=project_ids).values_list("pk", flat=True))
    missing = [pk for pk in project_ids if pk not in found]
    if missing:
        raise Invalid(f"No project {missing[0]!r} in this organization.", code="unknown_project", field="projectIds")
    return sorted(set(project_ids))


def endpoint_create(*, organization, url, description="", events=(), project_ids=(), enabled=True):
    return WebhookEndpoint.objects.create(
        organization=organization,
        url=_checked_url(url),
        description=description,
        events=_checked_events(events),
        project_ids=_checked_projects(organization=organization, project_ids=project_ids),
        enabled=enabled,
    )


def endpoint_update(*, endpoint, changes):
    """Partial update; enabling an endpoint again resets its health to active. Writes only what changed."""
    updates = {}
    if "url" in changes:
        updates["url"] = _checked_url(changes["url"])
    if "events" in changes:
        updates["events"] = _checked_events(changes["events"])
    if "project_ids" in changes:
        updates["project_ids"] = _checked_projects(organization=endpoint.organization, project_ids=changes["project_ids"])
    if "description" in changes:
        updates["description"] = changes["description"]
    if "enabled" in changes:
        updates["enabled"] = changes["enabled"]
        if changes["enabled"] and not endpoint_accepts(endpoint):
            updates.update(status=WebhookEndpoint.Status.ACTIVE, consecutive_failures=0, disabled_reason="")
    changed = [field for field, value in updates.items() if getattr(endpoint, field) != value]
    if changed:
        for field in changed:
            setattr(endpoint, field, updates[field])
        endpoint.save(update_fields=[*changed, "updated_at"])
    return endpoint


def endpoint_delete(*, endpoint):
    """Delete the endpoint and its delivery log; pending deliveries to it stop."""
    endpoint.delete()


def endpoint_send_test(*, endpoint, project_id=None):
    """Queue a signed webhook.test event to this endpoint alone; returns the pending delivery to poll.

    The send happens in a worker, once this transaction commits, never in the caller's request.
    """
    if project_id is None:
        if len(endpoint.project_ids) != 1:
            raise Invalid(
                "Name the project whose secret signs the test: pass projectId (it may be left out only when "
                "the endpoint is narrowed to exactly one project).",
                code="project_required",
                field="projectId",
            )
        project_id = endpoint.project_ids[0]
    project = projects_live(organization_id=endpoint.organization_id).filter(pk=project_id).first()
    if project is None:
        raise Invalid(f"No project {project_id!r} in this organization.", code="unknown_project", field="projectId")
    event = event_emit(
        type=TEST_EVENT, instance=endpoint, organization_id=endpoint.organization_id, project_id=project.id,
        publish=False,
    )
    now = timezone.now()
    _ensure_manual_capacity(organization_id=endpoint.organization_id, now=now)
    delivery = Delivery.objects.create(
        organization_id=endpoint.organization_id, event=event, endpoint=endpoint, url=endpoint.url,
        next_attempt_at=now, max_attempts=1,
    )
    return _queue_manual_attempt(delivery, now=now)


def delivery_retry(*, delivery):
    """Queue a redelivery: one extra attempt, same event id, sent by a worker to the endpoint's current URL.

    The extra attempt neither uses up the automatic retries of a pending delivery nor counts
    for the endpoint's health.
    """
    endpoint = delivery.endpoint
    if endpoint is not None and not endpoint_accepts(endpoint):
        raise Conflict(
            "The endpoint is disabled; re-enable it with PATCH {\"enabled\": true} before retrying.",
            code="endpoint_disabled",
        )
    now = timezone.now()
    _ensure_manual_capacity(organization_id=delivery.organization_id, now=now)
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == Delivery.Status.PENDING:
        delivery.max_attempts += 1
    else:
        delivery.status = Delivery.Status.PENDING
        delivery.max_attempts = delivery.attempt_count + 1
        delivery.completed_at = None
    delivery.save(update_fields=["status", "max_attempts", "completed_at", "updated_at"])
    return _queue_manual_attempt(delivery, now=now)


def delivery_schedule_retry(*, delivery_id):
    """Operator path: give a finished delivery one more automatic attempt, or make a pending one due now."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status != Delivery.Status.PENDING:
        delivery.status = Delivery.Status.PENDING
        delivery.max_attempts = delivery.attempt_count + 1
        delivery.completed_at = None
    delivery.next_attempt_at = timezone.now()
    delivery.lease_token, delivery.leased_until = "", None
    delivery.save(update_fields=["status", "max_attempts", "completed_at", "next_attempt_at", "lease_token",
                                 "leased_until", "updated_at"])


def _ensure_manual_capacity(*, organization_id, now):
    """At most WEBHOOK_MANUAL_SENDS_IN_FLIGHT test sends and retries of an organization wait for a worker at once."""
    limit = settings.WEBHOOK_MANUAL_SENDS_IN_FLIGHT
    with connection.cursor() as cursor:  # one organization's sends count one at a time, until commit
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"manual-sends:{organization_id}"])
    in_flight = Delivery.objects.filter(
        organization_id=organization_id,
        manual_queued_at__gt=now - timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS),
    ).count()
    if in_flight >= limit:
        raise Conflict(
            f"{in_flight} test sends or retries of this organization are still in flight (at most {limit}); "
            "poll their deliveries and send again once one has finished.",
            code="too_many_manual_sends",
        )


def _queue_manual_attempt(delivery, *, now):
    """Lease the delivery and queue one manual attempt once this transaction commits; the send runs in a worker."""
    ((delivery_id, token),) = deliveries_lease(delivery_ids=[delivery.pk], now=now)
    Delivery.objects.filter(pk=delivery_id).update(manual_queued_at=now)
    enqueue_on_commit(DELIVER_TASK, delivery_id, token, True, organization_id=delivery.organization_id)
    return Delivery.objects.select_related("event").prefetch_related("attempts").get(pk=delivery_id)
