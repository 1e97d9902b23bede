from django.db import transaction
from django.urls import path
from rest_framework.routers import SimpleRouter

from assets.views import AssetViewSet, ProjectAssetViewSet, template_schema

router = SimpleRouter(trailing_slash=False)
router.register("assets", AssetViewSet, basename="asset")

urlpatterns = [
    *router.urls,
    path(
        "projects/<rid:project_id>/assets",
        ProjectAssetViewSet.as_view({"get": "list", "post": "create"}),
        name="project-asset-list",
    ),
    path("schemas/template.json", transaction.non_atomic_requests(template_schema), name="template-schema"),
]
