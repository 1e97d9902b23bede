"""Django behind an event loop: slow clients wait in the loop, complete requests run on a few reused threads.

The web process runs `renderowl.asgi` under gunicorn's asyncio worker (Procfile `web:`). The loop
reads headers and bodies however slowly they come, at the cost of a socket and a coroutine each;
a thread is taken only once a request is complete, for the middleware and the view. Django's own
ASGIHandler already reads the body first; this subclass adds what production needs on top:

- a fixed pool of WEB_THREADS threads per process for the request work, each kept for the
  process's life, so concurrency and database connections are bounded as under a threaded WSGI
  server, and CONN_MAX_AGE keeps its meaning (stock Django starts a new thread, and so a new
  database connection, for every request), with one hop from the loop to a thread per request
  (stock Django makes three);
- a per-chunk deadline on request bodies (REQUEST_BODY_TIMEOUT_SECONDS): a body that stops
  arriving is answered 408 and its connection closed;
- no body bigger than MAX_REQUEST_BODY_BYTES is read at all (413), except on the signed upload
  path, which takes a declared Content-Length of at most the largest asset size; a view may also
  refuse a request from its headers before any of the body is read (`refuse_before_body`);
- streamed responses (downloads, static files) read from their file chunk by chunk in a worker
  thread, never all at once: stock Django materialises a synchronous iterator into a list;
- a response streamed from an asynchronous iterator (Server-Sent Events) runs on the loop alone,
  holding no request thread and no database connection however long it lasts, and is stopped when
  its client disconnects; such loop code borrows a request thread, for a short piece of database
  work, with `in_request_thread`.
"""

import asyncio
import contextvars
import functools
import io
import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import close_old_connections
from django.http import FileResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve, set_script_prefix

from renderowl.api.errors import plain_problem_response
from renderowl.api.middleware import (
    STREAMED_UPLOAD_PATH_PREFIX,
    loggable_path,
    new_request_id,
    request_too_large_response,
)
from renderowl.logging import current_request_id

logger = logging.getLogger("renderowl.request")
_current_scope: contextvars.ContextVar[dict] = contextvars.ContextVar("renderowl_asgi_scope")
_request_threads: contextvars.ContextVar[ThreadPoolExecutor] = contextvars.ContextVar("renderowl_request_threads")


class _Body(tempfile.SpooledTemporaryFile):
    """The request body, spooled to disk past FILE_UPLOAD_MAX_MEMORY_SIZE; `refusal` says why it was not read.

    `refusal` is a code of _refusal_response, or the response a view's `refuse_before_body` gave.
    """

    refusal = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.request_id = new_request_id()  # only a refusal uses it: otherwise the middleware assigns one


class RenderowlASGIHandler(ASGIHandler):
    """Django's ASGI handler with bounded, reused request threads, bounded body reads and one thread hop.

    Stock Django hops between the loop and a thread three times a request (request_started, the
    middleware chain, response.close), each hop waiting for the GIL while the loop serves other
    connections. Here the request is built, signalled, answered and (unless streamed) closed in one
    call on a request thread, through the synchronous middleware chain, as a WSGI server would.
    """

    def __init__(self, *, threads):
        BaseHandler.__init__(self)  # not ASGIHandler's: the middleware chain is the synchronous one
        self.load_middleware(is_async=False)
        # The request threads: a request waits in the executor's queue, not in a thread, for a free one.
        self.request_threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        # The path decides how much body may be read; read_body only gets `receive`.
        token = _current_scope.set(scope)
        threads_token = _request_threads.set(self.request_threads)
        try:
            await self.handle(scope, receive, send)
        finally:
            _request_threads.reset(threads_token)
            _current_scope.reset(token)

    async def handle(self, scope, receive, send):
        try:
            body = await self.read_body(receive)
        except RequestAborted:
            return  # the client left mid-body: nobody to answer
        try:
            if body.refusal is not None:
                _, response = self.create_request(scope, body)
            else:
                # A copy of the loop's context per request, as asgiref gives: nothing leaks between requests.
                response = await asyncio.get_running_loop().run_in_executor(
                    self.request_threads, contextvars.copy_context().run, self._respond, scope, body
                )
            try:
                if response.streaming and response.is_async:
                    await self._send_until_disconnect(response, send, receive)
                else:
                    await self.send_response(response, send)
            finally:
                if response.streaming or body.refusal is not None:
                    await sync_to_async(response.close, thread_sensitive=False)()
        finally:
            body.close()

    def _respond(self, scope, body):
        """On a request thread: what Django's WSGIHandler does for one request, short of sending it."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            # The content is rendered: close now (request_finished, releasing the database connection)
            # on the thread that holds it, rather than hop back once it is sent.
            response.close()
        return response

    async def read_body(self, receive):
        scope = _current_scope.get()
        body = _Body(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b", dir=settings.FILE_UPLOAD_TEMP_DIR)
        headers = dict(scope.get("headers", ()))
        framed = b"content-length" in headers or b"transfer-encoding" in headers
        if not framed and scope.get("http_version", "1.1").startswith("1"):
            return body  # HTTP/1 framing: a request with neither header has no body
        limit = None
        token = current_request_id.set(body.request_id)  # the requestId of a view's refusal
        try:
            refusal = self._refused_by_view(scope)
        finally:
            current_request_id.reset(token)
        if refusal is None:
            limit, refusal = _body_limit(scope, headers)
        body.refusal = refusal
        if refusal is not None or limit is None:
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

    def _refused_by_view(self, scope):
        """A view's answer from the headers alone (`view.refuse_before_body(request, **kwargs)`), or None."""
        try:
            match = resolve(scope["path"])
        except Resolver404:
            return None
        check = getattr(match.func, "refuse_before_body", None)
        if check is None:
            return None
        request, error = super().create_request(scope, io.BytesIO())
        return error if request is None else check(request, *match.args, **match.kwargs)

    def create_request(self, scope, body_file):
        refusal = getattr(body_file, "refusal", None)
        if refusal is None:
            return super().create_request(scope, body_file)
        token = current_request_id.set(body_file.request_id)  # the problem's requestId, and the log line's
        try:
            response = refusal if isinstance(refusal, HttpResponseBase) else _refusal_response(refusal)
            # No middleware runs for it: add what RequestContextMiddleware and CommonMiddleware would.
            response["X-Request-Id"] = body_file.request_id
            response["Content-Length"] = str(len(response.content))
            response["Connection"] = "close"
            logger.info(
                "request",
                extra={"method": scope["method"], "path": loggable_path(scope["path"]), "status": response.status_code},
            )
        finally:
            current_request_id.reset(token)
        return None, response

    async def send_response(self, response, send):
        if response.streaming and not response.is_async:
            response.streaming_content = _iterate_in_threads(response.streaming_content)
        await super().send_response(response, send)

    async def _send_until_disconnect(self, response, send, receive):
        """Send an asynchronous stream until it ends or its client disconnects, whichever comes first.

        An idle stream writes nothing for a while, so a write failing is no way to learn that its
        client left; stopping the stream runs its iterator's cleanup (its `finally`) on the loop.
        """
        sending = asyncio.ensure_future(self.send_response(response, send))
        leaving = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait((sending, leaving), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sending, leaving):
                task.cancel()
            await asyncio.gather(sending, leaving, return_exceptions=True)
        if not sending.cancelled() and sending.exception() is not None:
            raise sending.exception()


def _body_limit(scope, headers):
    """(the most bytes this request's body may have, None to read none, a refusal before reading any or None)."""
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


async def in_request_thread(function, *args):
    """`function(*args)` on one of the process's request threads, for loop code that needs the database briefly.

    A streamed response's iterator runs on the loop and holds no connection; this lends it a request
    thread's (reused, health-checked as a request's would be) rather than opening one more. Outside
    RenderowlASGIHandler (Django's test client, another server) it runs as `sync_to_async` would.
    """
    threads = _request_threads.get(None)
    if threads is None:
        return await sync_to_async(function)(*args)
    return await asyncio.get_running_loop().run_in_executor(
        threads, contextvars.copy_context().run, _as_request_work, function, *args
    )


def _as_request_work(function, *args):
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


async def _disconnected(receive):
    """Return once the client has disconnected; what else `receive` brings (the rest of an unread body) is dropped."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _iterate_in_threads(iterator):
    """Each part of a synchronous iterator (a file's chunks) read in a worker thread, one at a time."""
    next_part = functools.partial(next, iter(iterator), None)
    while (part := await sync_to_async(next_part, thread_sensitive=False)()) is not None:
        yield part
