from django.urls import path
from rest_framework.routers import SimpleRouter

from renders.views import ProjectRenderViewSet, RemoteRenderCallbackView, RenderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("renders", RenderViewSet, basename="render")

urlpatterns = [
    *router.urls,
    path(
        "projects/<rid:project_id>/renders",
        ProjectRenderViewSet.as_view({"get": "list", "post": "create"}),
        name="project-render-list",
    ),
    path(
        "engines/remotion/organizations/<uuid:organization_id>/renders/<rid:render_id>/attempts/<int:attempt>/callback",
        RemoteRenderCallbackView.as_view(),
        name="render-remote-callback",
    ),
]
