"""Selectors other apps read assets through (renders resolves a submission's template and asset props here)."""

from assets.models import Asset


def assets_live(*, organization_id, project_id):
    """Selector: the assets of a live project of the organization, orphans excluded (the only ones a render may use)."""
    return Asset.objects.filter(
        organization_id=organization_id,
        project_id=project_id,
        project__deleted_at__isnull=True,
        orphaned_at__isnull=True,
    )
