"""Webhook endpoints: registration, changes, test sends and redelivery (the use cases behind /v1/webhooks)."""

from django.utils import timezone

from events.registry import event_filter_is_valid
from events.services import event_emit
from projects.services import projects_live
from renderowl.errors import Conflict, Invalid
from webhooks.delivery import deliveries_lease, delivery_attempt, endpoint_accepts
from webhooks.events import TEST_EVENT
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.network import BlockedDestination, check_url


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
    """Send a signed webhook.test event to this endpoint alone, now; returns the delivery."""
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
    delivery = Delivery.objects.create(
        organization_id=endpoint.organization_id, event=event, endpoint=endpoint, url=endpoint.url,
        next_attempt_at=now, max_attempts=1,
    )
    return _attempt_now(delivery, now=now, manual=True)


def delivery_retry(*, delivery):
    """Redeliver now: one extra attempt, same event id, sent to the endpoint's current URL.

    The extra attempt neither uses up the automatic retries of a pending delivery nor counts
    for the endpoint's health.
    """
    endpoint = delivery.endpoint
    if endpoint is not None and not endpoint_accepts(endpoint):
        raise Conflict(
            "The endpoint is disabled; re-enable it with PATCH {\"enabled\": true} before retrying.",
            code="endpoint_disabled",
        )
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == Delivery.Status.PENDING:
        delivery.max_attempts += 1
    else:
        delivery.status = Delivery.Status.PENDING
        delivery.max_attempts = delivery.attempt_count + 1
        delivery.completed_at = None
    delivery.save(update_fields=["status", "max_attempts", "completed_at", "updated_at"])
    return _attempt_now(delivery, now=timezone.now(), manual=True)


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


def _attempt_now(delivery, *, now, manual):
    ((delivery_id, token),) = deliveries_lease(delivery_ids=[delivery.pk], now=now)
    delivery_attempt(
        organization_id=delivery.organization_id, delivery_id=delivery_id, lease_token=token, now=now, manual=manual
    )
    return Delivery.objects.select_related("event").prefetch_related("attempts").get(pk=delivery_id)
