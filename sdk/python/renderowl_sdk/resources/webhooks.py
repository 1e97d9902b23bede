"""Webhook endpoints: create, get, list, update, delete, send a test; deliveries: list, get, retry."""

from __future__ import annotations

from .. import _models as m
from .._pagination import Page
from ._common import NOT_GIVEN, Resource, body


class Webhooks(Resource):
    def create(self, *, url: str, description: str = NOT_GIVEN, events: list[str] = NOT_GIVEN,
               project_ids: list[str] = NOT_GIVEN, enabled: bool = NOT_GIVEN,
               idempotency_key: str | None = None) -> m.WebhookEndpoint:
        """Register an endpoint; `events` (types or wildcards like "render.*") and `project_ids` narrow it."""
        return self._client.request(
            "webhooks_create",
            body=body(url=url, description=description, events=events, project_ids=project_ids, enabled=enabled),
            idempotency_key=idempotency_key,
        )

    def get(self, webhook_id: str) -> m.WebhookEndpoint:
        return self._client.request("webhooks_retrieve", path={"webhookId": webhook_id})

    def list(self, *, limit: int | None = None, sort: str | None = None,
             cursor: str | None = None) -> Page[m.WebhookEndpoint]:
        return self._client.paginate("webhooks_list", limit=limit, sort=sort, cursor=cursor)

    def update(self, webhook_id: str, *, url: str = NOT_GIVEN, description: str = NOT_GIVEN,
               events: list[str] = NOT_GIVEN, project_ids: list[str] = NOT_GIVEN,
               enabled: bool = NOT_GIVEN) -> m.WebhookEndpoint:
        """Change the fields given; `enabled=True` also re-enables an endpoint the platform disabled."""
        return self._client.request(
            "webhooks_partial_update", path={"webhookId": webhook_id},
            body=body(url=url, description=description, events=events, project_ids=project_ids, enabled=enabled),
        )

    def delete(self, webhook_id: str) -> None:
        self._client.request("webhooks_destroy", path={"webhookId": webhook_id})

    def test(self, webhook_id: str, *, project_id: str = NOT_GIVEN,
             idempotency_key: str | None = None) -> m.DeliveryDetail:
        """Queue a `webhook.test` event to this endpoint, signed with `project_id`'s secret."""
        return self._client.request("webhooks_test_create", path={"webhookId": webhook_id},
                                    body=body(project_id=project_id), idempotency_key=idempotency_key)

    def deliveries(self, webhook_id: str, *, status: str | None = None, event_type: str | None = None,
                   limit: int | None = None, sort: str | None = None,
                   cursor: str | None = None) -> Page[m.Delivery]:
        """The endpoint's deliveries, newest first (without attempts and payload)."""
        return self._client.paginate("webhooks_deliveries_list", path={"webhookId": webhook_id}, status=status,
                                     eventType=event_type, limit=limit, sort=sort, cursor=cursor)

    def get_delivery(self, webhook_id: str, delivery_id: str) -> m.DeliveryDetail:
        """One delivery with every attempt and the exact payload sent."""
        return self._client.request("webhooks_deliveries_retrieve",
                                    path={"webhookId": webhook_id, "deliveryId": delivery_id})

    def retry_delivery(self, webhook_id: str, delivery_id: str, *,
                       idempotency_key: str | None = None) -> m.DeliveryDetail:
        """Queue one more attempt of a delivery (any status) to the endpoint's current URL."""
        return self._client.request("webhooks_deliveries_retry_create",
                                    path={"webhookId": webhook_id, "deliveryId": delivery_id},
                                    idempotency_key=idempotency_key)
