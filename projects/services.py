"""Projects: the use cases behind /v1/projects."""

import re
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from projects.models import LIVE, Project
from projects.signals import project_deleted
from renderowl.errors import Conflict, Invalid, NotFound
from renderowl.tenancy import OWNER_DB_ALIAS, dangerously_bypass_tenancy

SECRET_ROTATION_OVERLAP = timedelta(hours=24)
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def slug_from_name(name):
    """A slug in [a-z0-9-] from a display name: 'My_Project v2' -> 'my-project-v2'."""
    slug = slugify(name.replace("_", "-"))[:63].strip("-")
    return slug or "project"


def projects_live(*, organization_id):
    """Selector: the organization's projects that are not deleted (the only ones other apps may use)."""
    return Project.objects.filter(LIVE, organization_id=organization_id)


def project_lock_for_child(*, organization_id, project_id):
    """Selector for creating a child (asset, render, automation): the live project, share-locked until commit.

    The share lock makes a concurrent `project_delete` wait for the child to commit (and orphan it
    with the rest), or the child wait for the delete and then find no live project (NotFound).
    """
    query = projects_live(organization_id=organization_id).filter(pk=project_id)
    sql, params = query.query.sql_with_params()
    project = next(iter(Project.objects.raw(f"{sql} FOR SHARE", params)), None)
    if project is None:
        raise NotFound(f"No project {project_id!r} in this organization.", code="not_found")
    return project


def project_create(*, organization, name, slug=None, description="", metadata=None):
    """Create a project with a fresh webhook secret; the slug is unique among the organization's live projects.

    A slug the client chose and that is taken is a 409; a slug derived from the name gets a short
    random suffix instead.
    """
    candidates = [slug] if slug else [slug_from_name(name)]
    if not slug:
        candidates += [f"{candidates[0][:56]}-{secrets.token_hex(3)}" for _ in range(3)]
    for candidate in candidates:
        project = Project(
            organization=organization,
            name=name,
            slug=candidate,
            description=description,
            metadata=metadata or {},
            webhook_secret=secrets.token_hex(32),
        )
        try:
            with transaction.atomic():
                project.save(force_insert=True)
            return project
        except IntegrityError:
            continue
    raise Conflict(
        f"The slug {candidates[0]!r} is taken by another project of this organization; choose another slug.",
        code="slug_taken",
        field="slug",
    )


def project_update(*, project, changes):
    """Apply a partial update of name, description and metadata; the slug never changes."""
    new_slug = changes.pop("slug", project.slug)
    if new_slug != project.slug:
        raise Invalid(
            "A project's slug is immutable; create a new project to use another slug.",
            code="slug_immutable",
            field="slug",
        )
    changed = [field for field, value in changes.items() if getattr(project, field) != value]
    if not changed:
        return project
    for field in changed:
        setattr(project, field, changes[field])
    project.save(update_fields=[*changed, "updated_at"])
    return project


def project_webhook_secret_rotate(*, project, now=None):
    """Issue a new webhook secret; the old one keeps signing alongside it for SECRET_ROTATION_OVERLAP."""
    now = now or timezone.now()
    # Locked and re-read, so two concurrent rotations chain instead of one losing the other's secret.
    project = Project.objects.select_for_update().get(pk=project.pk)
    project.previous_webhook_secret = project.webhook_secret
    project.previous_webhook_secret_expires_at = now + SECRET_ROTATION_OVERLAP
    project.webhook_secret = secrets.token_hex(32)
    project.save(
        update_fields=["webhook_secret", "previous_webhook_secret", "previous_webhook_secret_expires_at", "updated_at"]
    )
    return project


def projects_clear_expired_previous_secrets(*, now=None, batch=1000):
    """Forget previous webhook secrets whose rotation overlap has ended, across organizations. Operator path.

    Signing stops using them at expiry anyway; this makes sure no copy outlives its use. Returns how many.
    """
    now = now or timezone.now()
    cleared = 0
    with dangerously_bypass_tenancy(reason="clear expired previous webhook secrets", routine=True):
        while True:
            with transaction.atomic(using=OWNER_DB_ALIAS):
                ids = list(
                    Project.objects.filter(previous_webhook_secret_expires_at__lte=now)
                    .exclude(previous_webhook_secret="")
                    .values_list("pk", flat=True)[:batch]
                )
                if not ids:
                    return cleared
                cleared += Project.objects.filter(pk__in=ids).update(previous_webhook_secret="")


def project_signing_secrets(*, project_id, now=None):
    """Selector: the secrets a webhook for the project is signed with now (the previous one during a rotation).

    Deleted projects included: their pending deliveries are still signed. A project purged for good
    has none (an empty list): nothing of it may be sent any more.
    """
    now = now or timezone.now()
    project = (
        Project.objects.only("webhook_secret", "previous_webhook_secret", "previous_webhook_secret_expires_at")
        .filter(pk=project_id)
        .first()
    )
    if project is None:
        return []
    current = [project.webhook_secret]
    expires_at = project.previous_webhook_secret_expires_at
    if project.previous_webhook_secret and expires_at and expires_at > now:
        return [*current, project.previous_webhook_secret]
    return current


def project_delete(*, project):
    """Soft-delete: the row stays with deletedAt set, its slug is free again, and `project_deleted` cascades.

    The row is locked first, so children being created (which share-lock it) either commit before
    and are cascaded with the rest, or find the project gone. Nothing is purged here; `manage.py
    purgedeleted` removes old deleted projects and orphans.
    """
    now = timezone.now()
    with transaction.atomic():
        project = Project.objects.select_for_update().filter(LIVE, pk=project.pk).first()
        if project is None:  # deleted by a concurrent request meanwhile
            raise NotFound("No such project, or it is already deleted.", code="not_found")
        project.deleted_at = now
        project.save(update_fields=["deleted_at", "updated_at"])
        project_deleted.send(sender=Project, project=project, now=now)
    return project
