"""The outbox's move from `webhooks` to `events` keeps every event, delivery and attempt, with their ids."""

import uuid

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from events.models import Event
from webhooks.models import Attempt, Delivery

pytestmark = pytest.mark.django_db(databases=["default", "owner"], transaction=True)

BEFORE = [("webhooks", "0001_initial"), ("events", None)]


def migrate(targets):
    connection = connections["owner"]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest():
    return MigrationExecutor(connections["owner"]).loader.graph.leaf_nodes()


def test_events_deliveries_and_attempts_survive_the_move_with_their_ids():
    migrate(BEFORE)
    organization_id, now = uuid.uuid4(), timezone.now()
    try:
        with connections["owner"].cursor() as cursor:
            cursor.execute(
                "INSERT INTO organizations (id, name, slug, created_at) VALUES (%s, 'Old', %s, %s)",
                [organization_id, f"old-{organization_id.hex[:8]}", now],
            )
            cursor.execute(
                "INSERT INTO projects (id, organization_id, name, slug, description, metadata, webhook_secret, "
                "previous_webhook_secret, created_at, updated_at) "
                "VALUES ('prj_old', %s, 'P', 'p', '', '{}', 'secret', '', %s, %s)",
                [organization_id, now, now],
            )
            cursor.execute(
                "INSERT INTO webhook_events (id, organization_id, project_id, type, body, target_urls, created_at, "
                "published_at, publish_attempts) VALUES "
                "('evt_sent', %s, 'prj_old', 'asset.ready', '{\"id\":\"evt_sent\"}', '[]', %s, %s, 0), "
                "('evt_stuck', %s, 'prj_old', 'asset.failed', '{}', '[]', %s, NULL, 2), "
                "('evt_given_up', %s, 'prj_old', 'asset.failed', '{}', '[]', %s, NULL, 10)",
                [organization_id, now, now, organization_id, now, organization_id, now],
            )
            cursor.execute(
                "INSERT INTO webhook_deliveries (id, organization_id, event_id, url, status, attempt_count, "
                "max_attempts, lease_token, created_at, updated_at) "
                "VALUES ('whd_old', %s, 'evt_sent', 'https://example.com/hook', 'succeeded', 1, 6, '', %s, %s)",
                [organization_id, now, now],
            )
            cursor.execute(
                "INSERT INTO webhook_attempts (organization_id, delivery_id, number, started_at, duration_ms, "
                "response_status, response_body, error, manual) "
                "VALUES (%s, 'whd_old', 1, %s, 12, 200, 'ok', '', false)",
                [organization_id, now],
            )
    finally:
        migrate(latest())

    events = {event.id: event for event in Event.objects.using("owner").all()}
    assert set(events) == {"evt_sent", "evt_stuck", "evt_given_up"}
    assert (events["evt_sent"].organization_id, events["evt_sent"].project_id) == (organization_id, "prj_old")
    assert events["evt_sent"].body == '{"id":"evt_sent"}' and events["evt_sent"].next_publish_at is None
    assert events["evt_stuck"].next_publish_at == events["evt_stuck"].created_at  # due for the sweep at once
    assert events["evt_given_up"].next_publish_at is None  # the old sweep had given up on it
    delivery = Delivery.objects.using("owner").get(pk="whd_old")
    assert delivery.event_id == "evt_sent" and Event.objects.using("owner").get(pk=delivery.event_id)
    assert list(Attempt.objects.using("owner").filter(delivery=delivery).values_list("number", "response_status")) == [
        (1, 200)
    ]
