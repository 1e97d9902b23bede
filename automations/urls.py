from django.urls import path
from rest_framework.routers import SimpleRouter

from automations.views import AutomationRunViewSet, AutomationViewSet, HookView, ProjectAutomationViewSet

router = SimpleRouter(trailing_slash=False)
router.register("automations", AutomationViewSet, basename="automation")

urlpatterns = [
    *router.urls,
    path(
        "projects/<rid:project_id>/automations",
        ProjectAutomationViewSet.as_view({"get": "list", "post": "create"}),
        name="project-automation-list",
    ),
    path("automations/<rid:automation_id>/runs", AutomationRunViewSet.as_view({"get": "list"}),
         name="automation-run-list"),
    path("automation-runs/<rid:pk>", AutomationRunViewSet.as_view({"get": "retrieve"}), name="automation-run-detail"),
    path("hooks/<rid:automation_id>/<str:token>", HookView.as_view(), name="automation-hook"),
]
