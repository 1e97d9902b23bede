from django.db import models


class TenantModel(models.Model):
    """Base for tenant-owned rows: an organization id that row-level security keys on, and timestamps."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The stored response to a POST made with an Idempotency-Key, replayed for 24 hours."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and canonical body.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField(help_text="The response's JSON, byte for byte, so a replay keeps key order.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "idempotency_records"
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="idempotency_key_per_org")]
