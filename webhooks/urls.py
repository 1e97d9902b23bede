from django.urls import path
from rest_framework.routers import SimpleRouter

from webhooks.views import DeliveryViewSet, WebhookEndpointViewSet

router = SimpleRouter(trailing_slash=False)
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

deliveries = "webhooks/<rid:endpoint_id>/deliveries"
urlpatterns = [
    *router.urls,
    path(deliveries, DeliveryViewSet.as_view({"get": "list"}), name="webhook-delivery-list"),
    path(f"{deliveries}/<rid:pk>", DeliveryViewSet.as_view({"get": "retrieve"}), name="webhook-delivery-detail"),
    path(f"{deliveries}/<rid:pk>/retry", DeliveryViewSet.as_view({"post": "retry"}), name="webhook-delivery-retry"),
]
