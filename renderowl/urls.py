from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView

from renderowl import health
from renderowl.api.index import api_index

handler404 = "renderowl.api.errors.not_found_view"
handler500 = "renderowl.api.errors.server_error_view"

urlpatterns = [
    path("", api_index, name="index"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("v1/openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", SpectacularRedocView.as_view(url_name="openapi", template_name="renderowl/redoc.html"), name="docs"),
    path("v1/", include("projects.urls")),
    path("v1/", include("webhooks.urls")),
    path("v1/storage/", include("assets.storage_urls")),
    path("v1/", include("assets.urls")),
    path("v1/", include("renders.urls")),
    path("v1/", include("automations.urls")),
]
if settings.ADMIN_ENABLED:
    urlpatterns.append(path("admin/", admin.site.urls))
