from django.urls import path
from rest_framework.routers import SimpleRouter

from renders.views import ProjectRenderViewSet, RenderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("renders", RenderViewSet, basename="render")

urlpatterns = [
    *router.urls,
    path(
        "projects/<rid:project_id>/renders",
        ProjectRenderViewSet.as_view({"get": "list", "post": "create"}),
        name="project-render-list",
    ),
]
