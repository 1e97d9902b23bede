"""Projects: the use cases behind /v1/projects."""

import re
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from projects.models import Project
from renderowl.api.errors import Conflict, InvalidRequest

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def slug_from_name(name):
    slug = slugify(name)[:63].strip("-")
    return slug or "project"


def project_create(*, organization, name, slug=None, description="", metadata=None):
    """Create a project with a fresh webhook secret; the slug is unique among the organization's live projects."""
    slug = slug or slug_from_name(name)
    project = Project(
        organization=organization,
        name=name,
        slug=slug,
        description=description,
        metadata=metadata or {},
        webhook_secret=secrets.token_hex(32),
    )
    try:
        with transaction.atomic():
            project.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            f"The slug {slug!r} is taken by another project of this organization; choose another slug.",
            code="slug_taken",
            field="slug",
        ) from None
    return project


def project_update(*, project, changes):
    """Apply a partial update of name, description and metadata; the slug never changes."""
    new_slug = changes.pop("slug", project.slug)
    if new_slug != project.slug:
        raise InvalidRequest(
            "A project's slug is immutable; create a new project to use another slug.",
            code="slug_immutable",
            field="slug",
        )
    for field, value in changes.items():
        setattr(project, field, value)
    project.save(update_fields=[*changes, "updated_at"])
    return project


def project_delete(*, project):
    """Soft-delete: the row stays with deletedAt set and its slug becomes free again."""
    project.deleted_at = timezone.now()
    project.save(update_fields=["deleted_at", "updated_at"])
    return project
