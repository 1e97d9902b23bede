import uuid

from django.db import models


class Organization(models.Model):
    """A tenant: every tenant-owned row carries its id, and row-level security keys on it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=63, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "organizations"
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.name} ({self.slug})"


class ApiKey(models.Model):
    """A secret that authenticates as one organization. Only its SHA-256 is stored.

    Not a row-level-security table: authentication reads it before the organization is known.
    """

    class Mode(models.TextChoices):
        LIVE = "live"
        TEST = "test"

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200, blank=True, default="")
    mode = models.CharField(max_length=4, choices=Mode.choices, default=Mode.LIVE)
    prefix = models.CharField(max_length=24, unique=True, help_text="Shown to identify the key; not secret.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_keys"
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.prefix}… ({self.name or 'unnamed'})"

    @property
    def is_active(self):
        return self.revoked_at is None
