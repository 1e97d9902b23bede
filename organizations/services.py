"""Organizations and API keys: creation, authentication and revocation."""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from organizations.models import ApiKey, Organization
from renderowl.errors import Invalid
from renderowl.ids import random_token

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
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        mode=mode,
        prefix=raw_key[: len(f"rwl_{mode}_") + PREFIX_RANDOM_LENGTH],
        key_hash=hash_key(raw_key),
    )
    return IssuedKey(api_key=api_key, raw_key=raw_key)


def api_key_authenticate(*, raw_key):
    """The active key matching `raw_key`, or None. Looks up by hash, then compares in constant time."""
    if not KEY_PATTERN.match(raw_key):
        return None
    digest = hash_key(raw_key)
    api_key = ApiKey.objects.select_related("organization").filter(key_hash=digest, revoked_at=None).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, digest):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_key_revoke(*, prefix):
    """Revoke the key with this prefix; revoking twice is harmless. Returns the key."""
    try:
        api_key = ApiKey.objects.get(prefix=prefix)
    except ApiKey.DoesNotExist:
        raise OrganizationError(f"No API key with prefix {prefix!r}: the prefix is the part before the …") from None
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key
