"""The client: authentication, request validation, retries with reused idempotency keys, typed errors."""

from __future__ import annotations

import email.utils
import json
import os
import random
import re
import time
import uuid
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from . import _errors
from ._base import Model
from ._models import OPERATIONS, REQUEST_SCHEMAS
from ._pagination import Page
from ._validation import json_body, validate
from ._version import __version__

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
RETRY_BASE_SECONDS = 0.5
RETRY_MAX_SECONDS = 8.0
RETRY_AFTER_MAX_SECONDS = 60.0
ERROR_BODY_LIMIT = 64 * 1024
_NOT_GIVEN: Any = object()


class Renderowl:
    """A Renderowl API client.

        client = Renderowl(api_key="rwl_live_…", base_url="https://api.example.com")
        project = client.projects.create(name="Summer Campaign")

    `api_key` and `base_url` default to RENDEROWL_API_KEY and RENDEROWL_BASE_URL. Requests that fail on the
    network, or with 408, 409 idempotency_request_in_progress, 429 or 5xx, are retried `max_retries` times
    with exponential backoff and jitter (honouring Retry-After); every POST carries one Idempotency-Key that
    its retries reuse, so a retried create never creates twice. Pass `http_client` to bring your own
    httpx.Client (proxies, transports, event hooks).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout | None = None,
        http_client: httpx.Client | None = None,
    ):
        from .resources import Assets, Automations, Projects, Renders, Webhooks

        api_key = api_key or os.environ.get("RENDEROWL_API_KEY")
        if not api_key:
            raise _errors.AuthenticationError(
                "No API key: pass api_key= or set RENDEROWL_API_KEY (rwl_live_… or rwl_test_…).",
                code="missing_api_key",
            )
        base_url = base_url or os.environ.get("RENDEROWL_BASE_URL")
        if not base_url:
            raise _errors.RenderowlError(
                "No base URL: pass base_url= or set RENDEROWL_BASE_URL (e.g. https://api.example.com).",
                code="missing_base_url",
            )
        if not base_url.lower().startswith(("http://", "https://")):
            raise _errors.RenderowlError(
                f"The base URL {base_url!r} is not an http(s) URL: pass it as https://api.example.com.",
                code="invalid_base_url",
            )
        base_url = base_url.rstrip("/")
        self.base_url = base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url
        self.api_key = api_key
        self.max_retries = max(0, int(max_retries))
        if timeout is None:
            timeout = http_client.timeout if http_client is not None else DEFAULT_TIMEOUT
        self.timeout = timeout
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self.timeout, follow_redirects=False)
        self._sleep = time.sleep  # replaced in tests to observe the backoff without waiting
        self.projects = Projects(self)
        self.assets = Assets(self)
        self.renders = Renders(self)
        self.automations = Automations(self)
        self.webhooks = Webhooks(self)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"Renderowl(base_url={self.base_url!r})"

    # -- requests -----------------------------------------------------------------------------------

    def request(
        self,
        operation_id: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = _NOT_GIVEN,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Call one operation of openapi.json by its operationId; returns the decoded model (None for 204)."""
        operation = OPERATIONS[operation_id]
        response = self._send(operation, path, query, body, headers, idempotency_key)
        return self._decode(operation, response)

    def paginate(self, operation_id: str, *, path: Mapping[str, str] | None = None, **query: Any) -> Page[Any]:
        """The first page of a list operation; iterating the Page walks the rest."""

        def fetch(cursor: str | None) -> Page[Any]:
            result = self.request(operation_id, path=path, query={**query, "cursor": cursor})
            return Page(result.data or [], result.has_more, result.next_cursor, fetch, cursor)

        return fetch(query.pop("cursor", None))

    @contextmanager
    def stream(self, operation_id: str, *, path: Mapping[str, str] | None = None, headers=None):
        """An open streaming response of a GET operation (errors raised, and retried, before it starts)."""
        operation = OPERATIONS[operation_id]
        response = self._send(operation, path, None, _NOT_GIVEN, headers, None, stream=True)
        try:
            yield response
        finally:
            response.close()

    def _url(self, operation, path_params):
        path_params = dict(path_params or {})
        for name, schema in operation["path_params"].items():
            if name not in path_params or path_params[name] is None:
                raise _errors.ValidationError(f"Missing {name}.", code="validation_error",
                                              errors=[{"field": name, "message": "This field is required."}])
            validate(path_params[name], schema, what=f"path parameter {name}", path=name)
        url = operation["path"]
        for name, value in path_params.items():
            url = url.replace("{" + name + "}", quote(str(value), safe=""))
        return self.base_url + url

    def _prepare(self, operation, path_params, query, body, headers, idempotency_key):
        url = self._url(operation, path_params)
        params = {key: value for key, value in (query or {}).items() if value is not None}
        for key, value in params.items():
            if key not in operation["query"]:
                allowed = ", ".join(operation["query"]) or "none"
                raise _errors.ValidationError(
                    f"Unknown query parameter {key}; this list takes: {allowed}.", code="validation_error",
                    errors=[{"field": key, "message": "Unknown query parameter."}],
                )
            validate(value, operation["query"][key], what=f"query parameter {key}", path=key)
        params = {key: str(value).lower() if isinstance(value, bool) else value for key, value in params.items()}
        request_headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": f"renderowl-sdk-python/{__version__}",
        }
        content = None
        if body is not _NOT_GIVEN:
            if operation["body"]:
                validate(body, REQUEST_SCHEMAS[operation["body"]], what=f"{operation['body']}")
            content = json_body(body, what=operation["body"] or "request body")
            request_headers["Content-Type"] = "application/json"
        if operation["method"] == "POST":
            request_headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        request_headers.update({key: value for key, value in (headers or {}).items() if value is not None})
        return url, params, content, request_headers

    def _send(self, operation, path_params, query, body, headers, idempotency_key, *, stream=False):
        url, params, content, request_headers = self._prepare(operation, path_params, query, body, headers,
                                                              idempotency_key)
        request = self._http.build_request(operation["method"], url, params=params, content=content,
                                           headers=request_headers, timeout=self.timeout)
        return self.send_with_retries(request, stream=stream)

    def send_with_retries(self, request, *, stream: bool = False) -> httpx.Response:
        """Send `request` (an httpx.Request, or a function building one afresh for each try, for bodies that
        are streamed), retrying what is safe to retry; a 2xx response, or the typed error."""
        for attempt in range(self.max_retries + 1):
            response = None
            answered = False
            attempt_request = request() if callable(request) else request
            try:
                response = self._http.send(attempt_request, stream=True)
                if response.is_success:
                    if not stream:
                        response.read()
                    answered = True
                    return response
                content = _read_at_most(response, ERROR_BODY_LIMIT)
            except httpx.TimeoutException as exc:
                error: _errors.RenderowlError = _errors.APITimeoutError(
                    f"The request timed out: {attempt_request.method} {attempt_request.url.path} ({exc.__class__.__name__}).",
                    code="timeout",
                )
            except httpx.TransportError as exc:
                error = _errors.APIConnectionError(
                    f"Could not reach {attempt_request.url.host}: {exc.__class__.__name__}: {exc}".rstrip(": "),
                    code="connection_error",
                )
            else:
                error = error_from_response(response, content)
                if not should_retry(response, error):
                    raise error
                wait = parse_retry_after(response.headers.get("retry-after"))
                if wait is not None and wait > RETRY_AFTER_MAX_SECONDS:
                    raise error  # the server asks for longer than a client should block: say so at once
            finally:
                if response is not None and not answered:
                    response.close()
            if attempt == self.max_retries:
                raise error
            self._sleep(retry_delay(attempt, response))
        raise AssertionError("unreachable")

    def _decode(self, operation, response: httpx.Response):
        model_name = operation["responses"].get(str(response.status_code))
        if model_name is None or response.status_code == 204:
            return None
        try:
            data = response.json()
        except ValueError as exc:
            raise _errors.APIStatusError(
                f"Expected JSON from {operation['path']}, got {response.headers.get('content-type')!r}.",
                status=response.status_code, code="invalid_response", request_id=response.headers.get("x-request-id"),
            ) from exc
        if not isinstance(data, dict):
            raise _errors.APIStatusError(
                f"Expected a {model_name} object from {operation['path']}, got JSON {type(data).__name__}.",
                status=response.status_code, code="invalid_response", request_id=response.headers.get("x-request-id"), body=data,
            )
        return Model._registry[model_name].from_dict(data)


def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    """The start of an error body: a problem document is small, a proxy's page may not be."""
    content = b""
    for chunk in response.iter_bytes():
        content += chunk
        if len(content) >= limit:
            break
    return content[:limit]


def error_from_response(response: httpx.Response, content: bytes | None = None) -> _errors.APIStatusError:
    """The typed error for an error response, carrying its problem document."""
    content = response.content if content is None else content
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = None
    problem = body if isinstance(body, dict) else {}
    detail = problem.get("detail")
    if not isinstance(detail, str) or not detail:
        detail = _text_detail(response, content.decode("utf-8", "replace") if body is None else "")
    errors = problem.get("errors")
    cls = _errors.error_for_status(response.status_code)
    return cls(
        detail,
        status=response.status_code,
        code=problem.get("code") if isinstance(problem.get("code"), str) else f"http_{response.status_code}",
        errors=[item for item in errors if isinstance(item, dict)] if isinstance(errors, list) else [],
        request_id=problem.get("requestId") or response.headers.get("x-request-id"),
        headers={key.lower(): value for key, value in response.headers.items()},
        body=body,
    )


def _text_detail(response: httpx.Response, text: str) -> str:
    """A short detail for an answer that is not a problem document: an HTML page says where it came from,
    text gives its first line."""
    status = response.status_code
    if not text.strip():
        return f"HTTP {status} {response.reason_phrase}".strip()
    content_type = response.headers.get("content-type", "")
    if "html" in content_type or re.match(r"<(!doctype html|html)", text.lstrip(), re.IGNORECASE):
        return f"HTTP {status}: an HTML page instead of the API's problem document (from a proxy or load balancer?)."
    # Storage answers in XML (<Error><Code>AccessDenied</Code>…), often on several lines: keep all of its start.
    xml = "xml" in content_type or text.lstrip().startswith("<?xml")
    line = " ".join(text.split()) if xml else text.strip().splitlines()[0]
    return f"HTTP {status}: {line[:200] + '…' if len(line) > 200 else line}"


def should_retry(response: httpx.Response, error: _errors.RenderowlError) -> bool:
    status = response.status_code
    if status in (408, 429) or status >= 500:
        return True
    return status == 409 and error.code == "idempotency_request_in_progress"


def retry_delay(attempt: int, response: httpx.Response | None) -> float:
    """Retry-After when the server gave one (up to the cap), else exponential backoff with jitter."""
    retry_after = parse_retry_after(response.headers.get("retry-after")) if response is not None else None
    if retry_after is not None and retry_after <= RETRY_AFTER_MAX_SECONDS:
        return retry_after
    delay = min(RETRY_BASE_SECONDS * (2**attempt), RETRY_MAX_SECONDS)
    return delay * (1 - 0.25 * random.random())


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())
