from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from events.registry import event_types
from renderowl.api.viewsets import ListModelMixin, RetrieveModelMixin, TenantViewSet
from renderowl.errors import Invalid
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookTestSerializer,
)
from webhooks.services import delivery_retry, endpoint_create, endpoint_delete, endpoint_send_test, endpoint_update


class WebhookEndpointViewSet(ListModelMixin, RetrieveModelMixin, TenantViewSet):
    """Endpoints receive signed events for the organization's projects."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(summary="List webhook endpoints")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Get a webhook endpoint")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Register a webhook endpoint",
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointSerializer},
    )
    def create(self, request):
        params = self.validated_body(WebhookEndpointCreateSerializer)
        endpoint = endpoint_create(organization=self.organization, **params)
        return Response(WebhookEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Update a webhook endpoint",
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer},
    )
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        params = self.validated_body(WebhookEndpointUpdateSerializer)
        endpoint = endpoint_update(endpoint=endpoint, changes=params)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(summary="Delete a webhook endpoint and its delivery log", responses={204: None})
    def destroy(self, request, pk=None):
        endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a test event",
        request=WebhookTestSerializer,
        responses={202: DeliveryDetailSerializer},
        description="Queues a signed webhook.test event to this endpoint alone and answers at once with the "
        "pending delivery: a worker sends it within seconds; poll GET /v1/webhooks/{webhookId}/deliveries/{deliveryId} "
        "for the attempt's outcome. At most WEBHOOK_MANUAL_SENDS_IN_FLIGHT (5) test sends and retries of an "
        "organization wait at once (409 too_many_manual_sends).",
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        endpoint = self.get_object()
        params = self.validated_body(WebhookTestSerializer)
        delivery = endpoint_send_test(endpoint=endpoint, project_id=params.get("project_id"))
        return Response(DeliveryDetailSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryViewSet(ListModelMixin, RetrieveModelMixin, TenantViewSet):
    """Every event sent to an endpoint, with each attempt."""

    queryset = Delivery.objects.all()
    serializer_class = DeliverySerializer
    list_filter_params = ("status", "eventType")

    def endpoint(self):
        return get_object_or_404(WebhookEndpoint.objects.filter(organization_id=self.request.user.organization_id),
                                 pk=self.kwargs["endpoint_id"])

    def scope_queryset(self, queryset):
        queryset = queryset.filter(endpoint=self.endpoint()).select_related("event")
        if self.action != "list":
            return queryset.prefetch_related("attempts")
        queryset = queryset.defer("event__body")
        status_filter = self.request.query_params.get("status")
        if status_filter is not None:
            if status_filter not in Delivery.Status.values:
                raise Invalid(
                    f"status must be one of {', '.join(Delivery.Status.values)}.", code="invalid_filter", field="status"
                )
            queryset = queryset.filter(status=status_filter)
        event_type = self.request.query_params.get("eventType")
        if event_type is not None:
            if event_type not in event_types():
                raise Invalid(f"Unknown event type {event_type!r}.", code="invalid_filter", field="eventType")
            queryset = queryset.filter(event__type=event_type)
        return queryset

    @extend_schema(
        summary="List an endpoint's deliveries",
        parameters=[
            OpenApiParameter("status", str, enum=Delivery.Status.values),
            OpenApiParameter("eventType", str, enum=list(event_types())),
        ],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Get a delivery with its attempts", responses={200: DeliveryDetailSerializer})
    def retrieve(self, request, *args, **kwargs):
        return Response(DeliveryDetailSerializer(self.get_object()).data)

    @extend_schema(
        summary="Redeliver",
        request=None,
        responses={202: DeliveryDetailSerializer},
        description="Queues one more attempt with the same event id (receivers deduplicate by it) and answers at "
        "once with the pending delivery; poll it for the outcome. Shares the test sends' in-flight limit.",
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, *args, **kwargs):
        delivery = delivery_retry(delivery=self.get_object())
        return Response(DeliveryDetailSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
