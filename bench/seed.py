"""Benchmark data: a throwaway organization with one API key and many projects, deleted afterwards."""

import random
import secrets
from dataclasses import dataclass

from django.db import connections, transaction

from events.models import Event
from organizations.models import Organization
from organizations.services import api_key_create, organization_create
from projects.models import Project
from renderowl.tenancy import OWNER_DB_ALIAS, dangerously_bypass_tenancy, tenant_context

INSERT_BATCH_SIZE = 2_000


@dataclass(frozen=True)
class BenchOrganization:
    organization_id: str
    raw_key: str
    project_ids: list[str]


def bench_organization_create(*, project_count, sample_size):
    """Create the organization, its key and `project_count` projects; returns a random sample of project ids."""
    with dangerously_bypass_tenancy(reason="bench: seed organization"):
        organization = organization_create(name="Renderowl bench", slug=f"bench-{secrets.token_hex(6)}")
        issued = api_key_create(organization=organization, name="bench")
    projects = [
        Project(
            organization=organization,
            name=f"Bench project {number}",
            slug=f"bench-{number}",
            webhook_secret=secrets.token_hex(32),
        )
        for number in range(project_count)
    ]
    with tenant_context(organization.id):
        Project.objects.bulk_create(projects, batch_size=INSERT_BATCH_SIZE)
    # Autovacuum gives a live table planner statistics; without them, right after a bulk insert,
    # PostgreSQL reads and sorts the organization's every project for each page instead of walking an index.
    with connections[OWNER_DB_ALIAS].cursor() as cursor:
        cursor.execute(f"ANALYZE {Project._meta.db_table}")
    sample = random.sample([project.id for project in projects], sample_size)
    return BenchOrganization(organization_id=str(organization.id), raw_key=issued.raw_key, project_ids=sample)


def bench_organization_delete(*, organization_id):
    """Delete the organization and, by cascade, everything it owns, and its events (which name it by id only)."""
    with dangerously_bypass_tenancy(reason="bench: delete organization"):
        with transaction.atomic(using=OWNER_DB_ALIAS):
            Organization.objects.filter(pk=organization_id).delete()
            # Left behind, the events the run did not publish would be republished by the next sweep.
            Event.objects.filter(organization_id=organization_id).delete()
