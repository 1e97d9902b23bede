"""PreparedQuery: `.values()` reads whose SQL is compiled once, against the real database."""

import uuid
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import LIVE, Project
from renderowl.prepared import PreparedQuery
from renderowl.tenancy import tenant_context

COLUMNS = ("id", "name", "metadata", "created_at", "deleted_at")


def project_row():
    return PreparedQuery(
        lambda *, organization_id, pk: Project.objects.filter(LIVE, organization_id=organization_id, pk=pk).values(*COLUMNS),
        organization_id=uuid.UUID, pk=str,
    )


def test_a_prepared_row_is_the_row_values_reads_for_each_call_s_values(tenant):
    first = tenant.create_project(name="First", metadata={"team": "video"})
    second = tenant.create_project(name="Second")
    prepared = project_row()

    with tenant_context(tenant.id):
        for project in (first, second, first):
            expected = Project.objects.filter(pk=project["id"]).values(*COLUMNS).get()
            assert prepared.row(organization_id=tenant.id, pk=project["id"]) == expected
    assert expected["metadata"] == {"team": "video"}  # JSON decoded, as .values() decodes it
    assert expected["created_at"].tzinfo is not None


def test_a_prepared_row_is_one_statement_prepared_on_the_server_and_logged_by_django(tenant):
    project = tenant.create_project()
    prepared = project_row()

    with tenant_context(tenant.id):
        prepared.row(organization_id=tenant.id, pk=project["id"])
        with CaptureQueriesContext(connection) as queries:
            prepared.row(organization_id=tenant.id, pk=project["id"])

        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
            prepared_statements = [statement for (statement,) in cursor.fetchall()]

    # Bound on the server, and prepared there: this session's PostgreSQL parsed and planned it once.
    assert any('"projects"."id" = $2' in statement for statement in prepared_statements)
    # Django's query log shows it with its values.
    assert len(queries.captured_queries) == 1
    assert f"\"projects\".\"id\" = '{project['id']}'" in queries.captured_queries[0]["sql"]


def test_prepared_rows_follow_each_call_s_values_datetimes_included(tenant):
    for number in range(5):
        tenant.create_project(name=f"P{number}")
    after = PreparedQuery(
        lambda *, organization_id, created_after: Project.objects.filter(
            organization_id=organization_id, created_at__gt=created_after
        ).order_by("created_at").values("name", "created_at"),
        organization_id=uuid.UUID, created_after=datetime,
    )
    with tenant_context(tenant.id):
        everything = list(Project.objects.order_by("created_at").values("name", "created_at"))
        for cut in range(len(everything)):
            assert after.rows(organization_id=tenant.id, created_after=everything[cut]["created_at"]) == everything[cut + 1:]
        with pytest.raises(RuntimeError, match="more than one row"):
            after.row(organization_id=tenant.id, created_after=everything[0]["created_at"])


def test_a_row_that_does_not_match_is_none(tenant, other_tenant):
    mine = tenant.create_project()
    theirs = other_tenant.create_project()
    prepared = project_row()

    with tenant_context(tenant.id):
        assert prepared.row(organization_id=tenant.id, pk="prj_missing") is None
        # Another organization's id: neither the filter nor row-level security lets it through.
        assert prepared.row(organization_id=tenant.id, pk=theirs["id"]) is None
        assert prepared.row(organization_id=other_tenant.id, pk=mine["id"]) is None
    assert tenant.client.delete(f"/v1/projects/{mine['id']}").status_code in (202, 204)
    with tenant_context(tenant.id):
        assert prepared.row(organization_id=tenant.id, pk=mine["id"]) is None


def test_sql_that_carries_a_value_inline_is_refused(tenant):
    inline = PreparedQuery(
        lambda *, pk: Project.objects.extra(where=[f"id = '{pk}'"]).values("id"), pk=str,  # noqa: S610 - the point
    )
    with tenant_context(tenant.id), pytest.raises(ValueError, match="SQL changes"):
        inline.row(pk="prj_x")


def test_a_parameter_that_does_not_reach_the_query_as_it_is_is_refused(tenant):
    shortened = PreparedQuery(lambda *, name: Project.objects.filter(name=name[:5]).values("id"), name=str)
    with tenant_context(tenant.id), pytest.raises(ValueError, match="'name' does not reach"):
        shortened.row(name="Anything")


def test_only_values_querysets_and_str_or_uuid_parameters_can_be_prepared(tenant):
    instances = PreparedQuery(lambda *, pk: Project.objects.filter(pk=pk), pk=str)
    with tenant_context(tenant.id), pytest.raises(TypeError, match=r"\.values\(\)"):
        instances.row(pk="prj_x")
    with pytest.raises(TypeError, match="'limit' is none"):
        PreparedQuery(lambda *, limit: Project.objects.values("id")[:limit], limit=int)
