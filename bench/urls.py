"""The API's URLs plus the baseline view, which exists only for benchmarks."""

from django.urls import path

from bench.views import project_row

# Django looks the error handlers up on the root URLconf, so they are re-exported with the patterns.
from renderowl.urls import handler404, handler500  # noqa: F401
from renderowl.urls import urlpatterns as api_urlpatterns

urlpatterns = [
    *api_urlpatterns,
    path("bench/baseline/<str:project_id>", project_row, name="bench-baseline"),
]
