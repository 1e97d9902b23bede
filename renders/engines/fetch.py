"""Downloading a render's URL inputs into its working directory before ffmpeg starts, so ffmpeg opens no customer URL.

A URL a customer wrote in the scene or passed in props goes through the kernel's outbound guard
(`renderowl.network`): its host is resolved once, every address checked (no private, loopback,
link-local or operator-denied one), and the checked address dialed, with TLS verified against the
host name. A redirect is followed at most MAX_REDIRECTS times, each hop checked and dialed the same way.
The platform's own signed storage URLs (`trusted`) are dialed as they are (the store may be on a
private network) and never redirected.

Every download is bounded: RENDER_MAX_SOURCE_BYTES each, RENDER_MAX_TOTAL_SOURCE_BYTES for the render,
and one wall-clock deadline for all of them (RENDER_SOURCE_TIMEOUT_SECONDS, or the render's own if
sooner) that cuts the connection however slowly a server trickles its bytes. Errors name the field:
`source_not_allowed` (the guard refused the URL or a redirect), `source_unavailable` (no 200 answer,
a network or TLS failure, too many redirects, the deadline), `source_too_large`.
"""

import logging
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

from renderowl.network import (
    BlockedDestination,
    exchange_deadline,
    guarded_pool_manager,
    platform_pool_manager,
    url_check,
)
from renders.engines.base import EngineError

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
CHUNK_BYTES = 64 * 1024
CONNECT_SECONDS = 10.0
READ_SECONDS = 30.0
# How often a long download tells the render that it is alive (which renews the job's lease), and
# looks whether the render was cancelled.
HEARTBEAT_SECONDS = 5.0
CANCEL_POLL_SECONDS = 1.0
# The downloaded file keeps its URL's extension when it is one of these (ffmpeg and fonts go by content
# otherwise): no extension can make a file mean something else (a playlist, a concat list).
SUFFIXES = frozenset(
    ".mp4 .m4v .mov .webm .mkv .avi .mpg .mpeg .ts .gif .png .jpg .jpeg .webp .bmp .tif .tiff .avif "
    ".mp3 .m4a .aac .wav .ogg .oga .opus .flac .ttf .otf .ttc .otc .woff .woff2".split()
)
HEADERS = {"Accept-Encoding": "identity", "User-Agent": "Renderowl-render/1"}


class SourceFetcher:
    """Downloads each URL a render reads once into `workdir`, within the render's limits; see the module docstring.

    `fetch(url, where=..., trusted=...)` returns the local file; `where` names the field in errors.
    `deadline` is the render's (a `clock()` value), `heartbeat()` is called while a download runs.
    """

    def __init__(
        self,
        *,
        workdir: Path,
        deadline: float | None = None,
        clock: Callable[[], float] = time.time,
        heartbeat: Callable[[], None] = lambda: None,
        cancelled: Callable[[], bool] = lambda: False,
    ):
        self.workdir = Path(workdir)
        self.clock = clock
        self.timeout = settings.RENDER_SOURCE_TIMEOUT_SECONDS
        own = clock() + self.timeout
        self.deadline = own if deadline is None else min(own, deadline)
        self.render_deadline_first = deadline is not None and deadline < own
        self.heartbeat = heartbeat
        self.cancelled = cancelled
        self.total = 0
        self.files: dict[tuple[str, bool], Path] = {}
        self._pools: dict[bool, urllib3.PoolManager] = {}
        self._beat_at = self._cancel_at = time.monotonic()

    def fetch(self, url: str, *, where: str, trusted: bool = False) -> Path:
        key = (url, trusted)
        if key not in self.files:
            path = self.workdir / f"source_{len(self.files)}{_suffix(url)}"
            try:
                self._download(url, path, where=where, trusted=trusted)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            self.files[key] = path
        return self.files[key]

    def close(self):
        for pool in self._pools.values():
            pool.clear()

    def _download(self, url, path, *, where, trusted):
        seconds = self.deadline - self.clock()
        if seconds <= 0:
            raise self._too_slow(where)
        try:
            with exchange_deadline(seconds) as watch:
                try:
                    self._exchange(url, path, where=where, trusted=trusted)
                    if watch.expired:  # the cut connection looked like the end of a body without a length
                        raise self._too_slow(where)
                except (EngineError, BlockedDestination):
                    raise
                except Exception as exc:
                    if watch.expired:
                        raise self._too_slow(where) from None
                    logger.info(
                        "render input not fetched",
                        extra={"where": where, "host": urlsplit(url).hostname, "error": type(exc).__name__},
                    )
                    raise EngineError(
                        "source_unavailable",
                        f"{where}: the URL could not be fetched ({_reason(exc)}); check that it serves the file "
                        "publicly, or upload the file as an asset.",
                    ) from None
        except BlockedDestination as exc:
            raise EngineError("source_not_allowed", f"{where}: {exc}") from None

    def _exchange(self, url, path, *, where, trusted):
        pool = self._pool(trusted)
        for _ in range(MAX_REDIRECTS + 1):
            if not trusted:
                url = url_check(url, resolve=False)  # the dial resolves and checks the host
            response = pool.request(
                "GET", url, headers=HEADERS, redirect=False, retries=False, preload_content=False,
                decode_content=False, timeout=urllib3.Timeout(connect=CONNECT_SECONDS, read=READ_SECONDS),
            )  # fmt: skip
            try:
                if response.status in REDIRECT_STATUSES and not trusted and response.headers.get("Location"):
                    url = urljoin(url, response.headers["Location"])
                    continue
                self._save(response, path, where=where)
                return
            finally:
                response.close()  # a body left unread is not drained: the connection goes
                response.release_conn()
        raise EngineError(
            "source_unavailable",
            f"{where}: the URL redirects more than {MAX_REDIRECTS} times; give the file's final URL.",
        )

    def _save(self, response, path, *, where):
        if response.status != 200:
            raise EngineError(
                "source_unavailable",
                f"{where}: the server answered HTTP {response.status}, not 200 with the file; check the URL.",
            )
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise EngineError(
                "source_unavailable",
                f"{where}: the server sent the file compressed ({encoding[:20]}) although asked not to; serve it as is.",
            )
        per_source = settings.RENDER_MAX_SOURCE_BYTES
        left = settings.RENDER_MAX_TOTAL_SOURCE_BYTES - self.total
        limit = min(per_source, left)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:  # refused before a byte of it is read
            raise _too_large(where, per_source=per_source, over_total=left < per_source)
        size = 0
        with path.open("wb") as file:
            while chunk := response.read1(CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise _too_large(where, per_source=per_source, over_total=left < per_source)
                file.write(chunk)
                self._tick()
        self.total += size

    def _tick(self):
        now = time.monotonic()
        if now - self._beat_at >= HEARTBEAT_SECONDS:
            self._beat_at = now
            self.heartbeat()
        if now - self._cancel_at >= CANCEL_POLL_SECONDS:
            self._cancel_at = now
            if self.cancelled():
                raise EngineError("render_cancelled", "The render was cancelled.")

    def _pool(self, trusted):
        if trusted not in self._pools:
            make = platform_pool_manager if trusted else guarded_pool_manager
            self._pools[trusted] = make(num_pools=4, maxsize=1, retries=False)
        return self._pools[trusted]

    def _too_slow(self, where):
        if self.render_deadline_first:
            return EngineError(
                "render_timeout", "The render's deadline passed while its inputs were downloading (RENDER_TIMEOUT_SECONDS)."
            )
        return EngineError(
            "source_unavailable",
            f"{where}: the render's URL inputs did not all download within {self.timeout:g} s "
            "(RENDER_SOURCE_TIMEOUT_SECONDS); serve them faster, or upload the files as assets.",
        )


def _too_large(where, *, per_source, over_total):
    if over_total:
        return EngineError(
            "source_too_large",
            f"{where}: the render's URL inputs together are larger than the "
            f"{settings.RENDER_MAX_TOTAL_SOURCE_BYTES} bytes a render may download (RENDER_MAX_TOTAL_SOURCE_BYTES); "
            "use smaller files, or upload them as assets.",
        )
    return EngineError(
        "source_too_large",
        f"{where}: the file is larger than the {per_source} bytes a URL input may have (RENDER_MAX_SOURCE_BYTES); "
        "use a smaller file, or upload it as an asset.",
    )


def _reason(exc):
    """What went wrong, without the URL (a signed one carries its signature) or the addresses dialed."""
    text = str(getattr(exc, "reason", None) or exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
        return "its TLS certificate is not valid for the host"
    return type(getattr(exc, "reason", None) or exc).__name__


def _suffix(url):
    suffix = Path(urlsplit(url).path).suffix.lower()
    return suffix if suffix in SUFFIXES else ""
