"""The real URLconf plus one view that fails, to see what a client gets from a server fault."""

from django.urls import include, path


def fail(request):
    raise RuntimeError("a fault the test provokes")


urlpatterns = [
    path("v1/test-only/fail", fail),
    path("", include("renderowl.urls")),
]
