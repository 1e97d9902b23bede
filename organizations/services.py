"""Organizations and API keys: creation, authentication and revocation."""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.text import slugify

from organizations.models import ApiKey, Organization
from renderowl.errors import Invalid
from renderowl.ids import random_token
from renderowl.tenancy import RLS_SETTING, tenant_context

KEY_PATTERN = re.compile(r"^rwl_(live|test)_([A-Za-z0-9]{32,64})$")
KEY_RANDOM_LENGTH = 40
PREFIX_RANDOM_LENGTH = 8
LAST_USED_RESOLUTION = timedelta(minutes=1)


class OrganizationError(Invalid):
    """An operator-facing error whose message names the fix."""

    def __init__(self, detail, *, code="organization_error"):
        super().__init__(detail, code=code)


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    raw_key: str


def hash_key(raw_key):
    return hashlib.sha256(raw_key.encode()).hexdigest()


def organization_create(*, name, slug=None):
    slug = slug or slugify(name.replace("_", "-"))[:63].strip("-") or "org"
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", slug):
        raise OrganizationError(f"Slug {slug!r} is invalid: use lowercase letters, digits and hyphens.")
    try:
        with transaction.atomic(using=Organization.objects.db):
            return Organization.objects.create(name=name, slug=slug)
    except IntegrityError:
        raise OrganizationError(f"An organization with slug {slug!r} exists: pass another --slug.") from None


def organization_get(*, id_or_slug):
    lookup = {"slug": id_or_slug}
    if re.fullmatch(r"[0-9a-fA-F-]{36}", id_or_slug):
        lookup = {"id": id_or_slug}
    try:
        return Organization.objects.get(**lookup)
    except Organization.DoesNotExist:
        raise OrganizationError(f"No organization {id_or_slug!r}: pass an organization id or slug.") from None


def api_key_create(*, organization, name="", mode=ApiKey.Mode.LIVE, raw_key=None):
    """Issue a key; the raw key is returned here and never again. `raw_key` lets development pin one."""
    raw_key = raw_key or f"rwl_{mode}_{random_token(KEY_RANDOM_LENGTH)}"
    match = KEY_PATTERN.match(raw_key)
    if not match or match.group(1) != mode:
        raise OrganizationError(f"An API key must look like rwl_{mode}_ followed by 32-64 letters or digits.")
    # api_keys is under row-level security: the key is written in its organization's context.
    with tenant_context(organization.id, using=ApiKey.objects.db):
        api_key = ApiKey.objects.create(
            organization=organization,
            name=name,
            mode=mode,
            prefix=raw_key[: len(f"rwl_{mode}_") + PREFIX_RANDOM_LENGTH],
            key_hash=hash_key(raw_key),
        )
    return IssuedKey(api_key=api_key, raw_key=raw_key)


def _lookup_sql(connection, *, activate):
    """One round trip: the key through api_key_lookup() (the only way the application role sees
    another organization's key row), joined to its organization; with `activate`, the row-level-security
    setting is set to the key's organization in the same statement (transaction-local, as tenant_context sets it)."""
    quote = connection.ops.quote_name
    columns = [f"k.{quote(field.column)}" for field in ApiKey._meta.concrete_fields]
    columns += [f"o.{quote(field.column)}" for field in Organization._meta.concrete_fields]
    if activate:
        columns.append("set_config(%s, k.organization_id::text, true)")
    return (
        f"SELECT {', '.join(columns)} FROM api_key_lookup(%s) AS k "
        f"JOIN {quote(Organization._meta.db_table)} AS o ON o.{quote(Organization._meta.pk.column)} = k.organization_id"
    )


def api_key_authenticate(*, raw_key):
    """The active key matching `raw_key` (its organization loaded), or None.

    Looks up by hash, then compares in constant time. Writes nothing: see `api_key_record_use`. Inside a
    transaction (an API request's) the same statement activates the key's organization for the rest of
    it, and the key says so (`organization_activated`): a request needs no second round trip for that.
    """
    if not KEY_PATTERN.match(raw_key):
        return None
    digest = hash_key(raw_key)
    using = ApiKey.objects.db
    connection = connections[using]
    activate = connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(connection, activate=activate), [RLS_SETTING, digest] if activate else [digest])
        row = cursor.fetchone()
        if row is None:
            return None
        key_fields = [field.attname for field in ApiKey._meta.concrete_fields]
        organization_fields = [field.attname for field in Organization._meta.concrete_fields]
        api_key = ApiKey.from_db(using, key_fields, row[: len(key_fields)])
        api_key.organization = Organization.from_db(
            using, organization_fields, row[len(key_fields) : len(key_fields) + len(organization_fields)]
        )
        if not hmac.compare_digest(api_key.key_hash, digest):
            if activate:
                cursor.execute("SELECT set_config(%s, '', true)", [RLS_SETTING])
            return None
    api_key.organization_activated = activate
    return api_key


def api_key_record_use(*, api_key):
    """Record that `api_key` was used, at most once per LAST_USED_RESOLUTION, without ever waiting.

    Call it outside the request's transaction: it commits on its own, and skips a key row that
    another transaction holds locked (a concurrent request recording the same use, a revocation),
    so requests on one key never queue behind each other. Returns whether it wrote.
    """
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at <= LAST_USED_RESOLUTION:
        return False
    table = connections[ApiKey.objects.db].ops.quote_name(ApiKey._meta.db_table)
    with tenant_context(api_key.organization_id, using=ApiKey.objects.db):
        with connections[ApiKey.objects.db].cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET last_used_at = %s WHERE id = ("
                f"SELECT id FROM {table} WHERE id = %s AND (last_used_at IS NULL OR last_used_at < %s) "
                "FOR UPDATE SKIP LOCKED)",
                [now, api_key.pk, now - LAST_USED_RESOLUTION],
            )
            written = cursor.rowcount == 1
    if written:
        api_key.last_used_at = now
    return written


def api_key_revoke(*, key_or_prefix):
    """Revoke the key given whole (what a leak exposes) or by its prefix; revoking twice is harmless.

    Runs as an operator (inside the tenancy bypass). Returns the key.
    """
    key_or_prefix = key_or_prefix.strip().rstrip("…")
    if KEY_PATTERN.match(key_or_prefix):
        lookup = {"key_hash": hash_key(key_or_prefix)}
    else:
        lookup = {"prefix": key_or_prefix}
    # Never echo more than a prefix's length: the argument may be a whole (mistyped) key.
    prefix_length = len("rwl_live_") + PREFIX_RANDOM_LENGTH
    shown = key_or_prefix if len(key_or_prefix) <= prefix_length else f"{key_or_prefix[:prefix_length]}…"
    try:
        api_key = ApiKey.objects.get(**lookup)
    except ApiKey.DoesNotExist:
        raise OrganizationError(
            f"No API key {shown!r}: pass the whole key, or its prefix (rwl_live_ and the next 8 characters, "
            "as createapikey and the admin show it)."
        ) from None
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key
