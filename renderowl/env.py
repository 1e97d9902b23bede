"""Read configuration from the environment, failing loudly where production needs a value."""

import os
from urllib.parse import parse_qs, unquote, urlsplit


class ImproperlyConfiguredEnv(RuntimeError):
    """A required environment variable is missing or malformed."""


def get_from_env(name, default=None, *, required=False, cast=str):
    """Return env var `name` cast with `cast`; raise when `required` and it is missing."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        if required:
            raise ImproperlyConfiguredEnv(
                f"The environment variable {name} is required when DJANGO_ENV=production. "
                f"Set it in the process environment (see docs/OPERATIONS.md)."
            )
        return default
    try:
        return cast(raw)
    except ValueError as exc:
        raise ImproperlyConfiguredEnv(f"The environment variable {name}={raw!r} is malformed: {exc}") from exc


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
