"""The baseline the API is measured against: a bare Django view that authenticates nothing."""

from django.conf import settings
from django.db import transaction
from django.http import Http404, JsonResponse

from projects.models import Project
from renderowl.tenancy import tenant_context

# The name of its scenario in every report that measures against it (the projects and the renders API).
BASELINE = "baseline: bare Django view, 1 row by pk"
# The columns the API's project representation carries, so both return the same payload.
PROJECT_COLUMNS = ("id", "name", "slug", "description", "metadata", "created_at", "updated_at", "deleted_at")


@transaction.non_atomic_requests
def project_row(request, project_id):
    """One projects row by primary key as JSON: one transaction, the RLS setting, one SELECT."""
    with tenant_context(settings.BENCH_ORGANIZATION_ID):
        row = Project.objects.filter(pk=project_id).values(*PROJECT_COLUMNS).first()
    if row is None:
        raise Http404(f"No project {project_id!r} in the bench organization.")
    return JsonResponse(row)
