"""Django behind an event loop: slow clients wait in the loop, complete requests run on a few reused threads.

The web process runs `renderowl.asgi` under gunicorn's asyncio worker (Procfile `web:`). The loop
reads headers and bodies however slowly they come, at the cost of a socket and a coroutine each;
a thread is taken only once a request is complete, for the middleware and the view. Django's own
ASGIHandler already reads the body first; this subclass adds what production needs on top:

- a fixed set of WEB_THREADS threads per process for the request work, each kept for the
  process's life, so concurrency and database connections are bounded as under a threaded WSGI
  server, and CONN_MAX_AGE keeps its meaning (stock Django starts a new thread, and so a new
  database connection, for every request);
- a per-chunk deadline on request bodies (REQUEST_BODY_TIMEOUT_SECONDS): a body that stops
  arriving is answered 408 and its connection closed;
- no body bigger than MAX_REQUEST_BODY_BYTES is read at all (413), except on the signed upload
  path, which takes a declared Content-Length of at most the largest asset size;
- streamed responses (downloads, static files) read from their file chunk by chunk in a worker
  thread, never all at once: stock Django materialises a synchronous iterator into a list.
"""

import asyncio
import functools
import logging
import tempfile
from contextlib import asynccontextmanager
from contextvars import ContextVar

from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections

from renderowl.api.errors import plain_problem_response
from renderowl.api.middleware import (
    STREAMED_UPLOAD_PATH_PREFIX,
    loggable_path,
    new_request_id,
    request_too_large_response,
)

logger = logging.getLogger("renderowl.request")
_current_scope: ContextVar[dict] = ContextVar("renderowl_asgi_scope")


class _Body(tempfile.SpooledTemporaryFile):
    """The request body, spooled to disk past FILE_UPLOAD_MAX_MEMORY_SIZE; `refusal` says why it was not read."""

    refusal = None


class ThreadSlots:
    """A fixed number of long-lived threads, lent out one per request while its Django work runs."""

    def __init__(self, count):
        self._free = asyncio.Queue()
        for _ in range(count):
            # asgiref runs thread-sensitive code in one thread per such context, created on first use
            # and kept while the context object lives: here, for the process's life.
            self._free.put_nowait(ThreadSensitiveContext())

    @asynccontextmanager
    async def hold(self):
        slot = await self._free.get()
        token = SyncToAsync.thread_sensitive_context.set(slot)
        try:
            yield
        finally:
            SyncToAsync.thread_sensitive_context.reset(token)
            self._free.put_nowait(slot)


class RenderowlASGIHandler(ASGIHandler):
    """Django's ASGI handler with bounded, reused request threads and bounded body reads."""

    def __init__(self, *, threads):
        super().__init__()
        self.slots = ThreadSlots(threads)

    async def __call__(self, scope, receive, send):
        # The path decides how much body may be read; read_body only gets `receive`.
        token = _current_scope.set(scope)
        try:
            await super().__call__(scope, receive, send)
        finally:
            _current_scope.reset(token)

    async def read_body(self, receive):
        scope = _current_scope.get()
        body = _Body(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b", dir=settings.FILE_UPLOAD_TEMP_DIR)
        limit, body.refusal = _body_limit(scope)
        if body.refusal or limit is None:
            return body  # not one byte read: the connection is closed after the answer
        received = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), timeout=settings.REQUEST_BODY_TIMEOUT_SECONDS)
            except TimeoutError:
                body.refusal = "timeout"
                return body
            if message["type"] == "http.disconnect":
                body.close()
                raise RequestAborted()
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                body.refusal = "too_large"
                return body
            if chunk:
                if getattr(body, "_rolled", False):
                    await sync_to_async(body.write, thread_sensitive=False)(chunk)
                else:
                    body.write(chunk)
            if not message.get("more_body", False):
                break
        body.seek(0)
        return body

    def create_request(self, scope, body_file):
        refusal = getattr(body_file, "refusal", None)
        if refusal is None:
            return super().create_request(scope, body_file)
        response = _refusal_response(refusal)
        response["X-Request-Id"] = new_request_id()
        response["Connection"] = "close"
        logger.info(
            "request",
            extra={"method": scope["method"], "path": loggable_path(scope["path"]), "status": response.status_code},
        )
        return None, response

    async def run_get_response(self, request):
        """The middleware and the view, on one of the process's request threads."""
        async with self.slots.hold():
            # What request_started/finished do for a WSGI thread, for the thread that holds the connections.
            await sync_to_async(close_old_connections)()
            try:
                return await super().run_get_response(request)
            finally:
                await sync_to_async(close_old_connections)()

    async def send_response(self, response, send):
        if response.streaming and not response.is_async:
            response.streaming_content = _iterate_in_threads(response.streaming_content)
        await super().send_response(response, send)


def _body_limit(scope):
    """(the most bytes this request's body may have, None to read none, a refusal before reading any or None)."""
    headers = dict(scope.get("headers", ()))
    raw_length = headers.get(b"content-length")
    try:
        length = int(raw_length) if raw_length is not None else None
    except ValueError:
        return 0, "invalid_content_length"
    if scope["path"].startswith(STREAMED_UPLOAD_PATH_PREFIX):
        if length is None:
            return None, None  # the view answers 411
        if length > max(settings.ASSET_MAX_SIZES.values()):
            return 0, "too_large"
        return length, None
    if length is not None and length > settings.MAX_REQUEST_BODY_BYTES:
        return 0, "too_large"
    return settings.MAX_REQUEST_BODY_BYTES, None


def _refusal_response(refusal):
    if refusal == "timeout":
        seconds = settings.REQUEST_BODY_TIMEOUT_SECONDS
        return plain_problem_response(
            408,
            code="request_timeout",
            detail=f"The request body stopped arriving for {seconds:g} s; send it again without pausing.",
        )
    if refusal == "invalid_content_length":
        return plain_problem_response(400, code="invalid_content_length", detail="Content-Length is not a number.")
    return request_too_large_response()


async def _iterate_in_threads(iterator):
    """Each part of a synchronous iterator (a file's chunks) read in a worker thread, one at a time."""
    next_part = functools.partial(next, iter(iterator), None)
    while (part := await sync_to_async(next_part, thread_sensitive=False)()) is not None:
        yield part
