from django.db import models
from django.db.models import Q

from renderowl.ids import IdFactory
from renderowl.models import TenantModel

LIVE = Q(deleted_at__isnull=True)


class Project(TenantModel):
    """Groups a customer's assets, renders, automations; holds the secret its webhooks are signed with."""

    id = models.CharField(primary_key=True, max_length=40, default=IdFactory("prj"), editable=False)
    name = models.CharField(max_length=200)
    slug = models.CharField(max_length=63)
    description = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    webhook_secret = models.CharField(max_length=64, editable=False)
    previous_webhook_secret = models.CharField(max_length=64, blank=True, default="", editable=False)
    previous_webhook_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "projects"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"],
                condition=LIVE,
                name="project_slug_unique_among_live",
            )
        ]
        # One per list sort, over live rows only: a page never steps over deleted projects.
        indexes = [
            models.Index(fields=["organization", "created_at", "id"], name="project_live_created", condition=LIVE),
            models.Index(fields=["organization", "updated_at", "id"], name="project_live_updated", condition=LIVE),
            models.Index(fields=["organization", "name", "id"], name="project_live_name", condition=LIVE),
        ]

    def __str__(self):
        return f"{self.name} ({self.id})"
