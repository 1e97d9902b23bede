"""Typed errors: one base class carrying the API's problem document, one subclass per kind of failure."""

from __future__ import annotations

from typing import Any


class RenderowlError(Exception):
    """Anything that went wrong talking to Renderowl. Branch on `code`; quote `request_id` when reporting."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.code = code
        self.errors = errors or []
        self.request_id = request_id
        self.headers = headers or {}
        self.body = body

    def __str__(self):
        parts = [f"{self.status}" if self.status else None, self.code, self.detail]
        text = ": ".join(part for part in parts if part)
        return f"{text} (request {self.request_id})" if self.request_id else text

    def to_dict(self) -> dict[str, Any]:
        """The error as a problem document (what `--json` prints)."""
        if isinstance(self.body, dict):
            return dict(self.body)
        return {"status": self.status, "code": self.code, "detail": self.detail, "errors": self.errors,
                "requestId": self.request_id}


class APIStatusError(RenderowlError):
    """The API answered with an error status (4xx or 5xx)."""


class AuthenticationError(APIStatusError):
    """401: no API key, or an unknown or revoked one."""


class NotFoundError(APIStatusError):
    """404: no such resource, or another organization's."""


class ConflictError(APIStatusError):
    """409: the resource is not in a state that allows this (slug taken, asset in use, not cancellable…)."""


class ValidationError(APIStatusError):
    """400 or 422: the request is invalid; `errors` names each field at fault. Also raised before sending
    when a request fails the API's schema (then `status` is None and `code` is `validation_error`)."""


class RateLimitError(APIStatusError):
    """429: the organization's budget is spent; `retry_after` says for how many seconds."""

    @property
    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


class ServerError(APIStatusError):
    """5xx: a fault on the platform's side; retried automatically before it reaches you."""


class APIConnectionError(RenderowlError):
    """The API could not be reached, or the connection broke before an answer came."""


class APITimeoutError(APIConnectionError):
    """The request took longer than the client's timeout."""


class WebhookVerificationError(RenderowlError):
    """A webhook request is not a genuine, fresh Renderowl delivery: answer it 400."""


class WaitTimeoutError(RenderowlError):
    """A wait for an asset or a render ended before the object reached a final status."""


def error_for_status(status: int) -> type[APIStatusError]:
    if status == 401:
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status in (400, 422):
        return ValidationError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return ServerError
    return APIStatusError
