"""Read configuration from the environment, failing loudly where production needs a value."""

import ipaddress
import os
from urllib.parse import parse_qs, unquote, urlsplit


class ImproperlyConfiguredEnv(RuntimeError):
    """A required environment variable is missing or malformed."""


def get_from_env(name, default=None, *, required=False, cast=str):
    """Return env var `name` cast with `cast`; raise when `required` and it is missing."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        if required:
            raise ImproperlyConfiguredEnv(_required_message(name))
        return default
    try:
        return cast(raw)
    except ValueError as exc:
        raise ImproperlyConfiguredEnv(f"The environment variable {name}={raw!r} is malformed: {exc}") from exc


def _required_message(name):
    django_env = os.environ.get("DJANGO_ENV")
    if django_env == "development":
        return (
            f"The environment variable {name} is required. `make run` writes the development settings "
            f"(a generated SECRET_KEY among them) to .run/env: run `. .run/env` before `python manage.py …`."
        )
    message = (
        f"The environment variable {name} is required when DJANGO_ENV=production. "
        f"Set it in the process environment (see docs/OPERATIONS.md)."
    )
    if not django_env:
        message += (
            " DJANGO_ENV is not set, so production settings apply: for local work use `make run` or "
            "`make test`, or `. .run/env` (which sets DJANGO_ENV=development) before `python manage.py …`."
        )
    return message


# The development key this code once shipped with: it is public, so it signs nothing in production.
PUBLISHED_DEVELOPMENT_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
MIN_SECRET_KEY_LENGTH = 32


def checked_secret_key(key, *, production, fallbacks=()):
    """Return `key`; in production refuse a short key, and the published development key anywhere."""
    if not production:
        return key
    if PUBLISHED_DEVELOPMENT_KEY in (key, *fallbacks):
        raise ImproperlyConfiguredEnv(
            "SECRET_KEY (or SECRET_KEY_FALLBACKS) is the published development key, which anyone can sign "
            "with; generate a secret one: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ImproperlyConfiguredEnv(
            f"SECRET_KEY is {len(key)} characters long; production needs at least {MIN_SECRET_KEY_LENGTH} "
            "random ones: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    return key


def as_networks(raw):
    """Parse a comma-separated list of CIDR networks (`10.9.0.0/16, 2001:db8::/32`) into strings."""
    networks = []
    for item in as_list(raw):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError as exc:
            raise ValueError(f"{item!r} is not a network such as 10.9.0.0/16 or 2001:db8::/32") from exc
    return networks


def as_bool(raw):
    """Parse the usual spellings of a boolean environment value."""
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def as_list(raw):
    """Parse a comma-separated list, dropping blanks."""
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_settings(url, *, user=None, password=None):
    """Turn a postgresql:// URL into a Django DATABASES entry, optionally as another role.

    A Unix-socket server is given as `postgresql://user@/dbname?host=/path/to/socket/dir`.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfiguredEnv(f"Only postgresql:// database URLs are supported, got {parts.scheme!r}.")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "renderowl",
        "USER": user if user is not None else unquote(parts.username or ""),
        "PASSWORD": password if password is not None else unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": {"connect_timeout": "5", **query},
    }
