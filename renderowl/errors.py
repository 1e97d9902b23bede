"""The domain error: what services, tasks and commands raise when a caller breaks a rule.

It knows nothing of HTTP. `renderowl.api.errors` maps its kind to a status and renders it as
problem+json; `renderowl.commands.DomainCommand` prints its detail and exits non-zero.
"""

from enum import StrEnum


class ErrorKind(StrEnum):
    INVALID = "invalid"  # the input is malformed or breaks a rule of its own
    NOT_FOUND = "not_found"  # no such thing (or another organization's)
    CONFLICT = "conflict"  # the input is fine, the current state forbids it
    TOO_LARGE = "too_large"  # a size or count beyond a limit
    UNPROCESSABLE = "unprocessable"  # well-formed, but semantically wrong (props against a template)


class DomainError(Exception):
    """A broken rule with a stable `code`, a `detail` that names the fix, and the `field` at fault, if one.

    `errors` lists every fault when there are several ([{"field", "message"}]); by default it holds
    the one `field` with the detail. Raise a subclass that names the kind.
    """

    kind = ErrorKind.INVALID

    def __init__(self, detail, *, code, field=None, errors=None):
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.field = field
        if errors is None:
            errors = [{"field": field, "message": detail}] if field else []
        self.errors = errors

    def __str__(self):
        return self.detail

    def __reduce__(self):
        # Keyword-only arguments defeat Exception's pickling, which Celery uses to carry a task's error.
        return _rebuild, (type(self), self.detail, self.code, self.field, self.errors)


def _rebuild(cls, detail, code, field, errors):
    return cls(detail, code=code, field=field, errors=errors)


class Invalid(DomainError):
    """The input is malformed or breaks a rule of its own."""

    kind = ErrorKind.INVALID


class NotFound(DomainError):
    """The thing named does not exist for this caller."""

    kind = ErrorKind.NOT_FOUND


class Conflict(DomainError):
    """The request is well-formed but the current state forbids it."""

    kind = ErrorKind.CONFLICT


class TooLarge(DomainError):
    """A size or count beyond a limit."""

    kind = ErrorKind.TOO_LARGE


class Unprocessable(DomainError):
    """Well-formed input that is semantically wrong (for example props that fail a template's schema)."""

    kind = ErrorKind.UNPROCESSABLE
