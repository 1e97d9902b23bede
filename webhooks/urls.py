from django.urls import path
from rest_framework.routers import SimpleRouter

from webhooks.views import DeliveryViewSet, WebhookEndpointViewSet

router = SimpleRouter(trailing_slash=False)
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

deliveries = "webhooks/<str:endpoint_id>/deliveries"
urlpatterns = [
    *router.urls,
    path(deliveries, DeliveryViewSet.as_view({"get": "list"}), name="webhook-delivery-list"),
    path(f"{deliveries}/<str:pk>", DeliveryViewSet.as_view({"get": "retrieve"}), name="webhook-delivery-detail"),
    path(f"{deliveries}/<str:pk>/retry", DeliveryViewSet.as_view({"post": "retry"}), name="webhook-delivery-retry"),
]
