"""The small interface every render engine implements, so the task that runs a render needs no special cases.

An engine is handed a validated `RenderInput`, the local path or signed URL of each asset it names
(`sources`: keyed by the prop's name, or by the asset id where the template names an asset literally;
trusted, unlike a URL in the template or the props, which the engine fetches through the outbound guard),
a private working directory it may fill and that the caller removes afterwards, a progress
callback, a wall-clock deadline and a cancellation probe. It returns the finished file's `RenderResult`
or raises `EngineError`; whatever it started (processes, temporary files outside `workdir`) is gone by
the time `render` returns or raises.

An engine whose renderer runs elsewhere (`remote = True`: remotion) is also handed a `RemoteDelivery`:
the presigned PUT its renderer uploads the output to, the callback URL and secret the renderer signs
its reports with, and probes for what those callbacks recorded. Its sources are always signed URLs,
and its `RenderResult` has no path: the caller checks the stored object itself.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from renders.inputs import RenderInput

# (fraction done 0..1, stage: "preparing" | "rendering") — fractions never decrease and end at 1.0.
ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class RenderResult:
    """The produced file: where it is, its size in bytes, and its length (0 for stills).

    A remote engine's file is already at `RemoteDelivery.upload`: `path` and `size` are None, and the
    caller heads the stored object for its size.
    """

    path: Path | None
    size: int | None
    duration_ms: int


class EngineError(Exception):
    """A render that cannot finish, with a stable `code` for the job's `error.code` and a `message` naming the fix.

    Codes: `render_timeout` (the deadline passed), `render_cancelled`, `invalid_scene` (the template and
    props cannot be drawn as given), `source_not_allowed` (an input that is not http(s), lies outside the
    allowed directories, or whose URL the outbound guard refuses), `source_unavailable` (a URL input could not
    be downloaded in time), `source_too_large` (a URL input, or all of them, over the RENDER_MAX_*SOURCE_BYTES
    limits), `render_failed` (the renderer itself failed); remote engines add `renderer_unavailable` (the
    render server cannot be reached or refused to start the job) and `renderer_lost` (the server forgot the
    job, or stopped reporting on it).

    `retry`: the attempt was lost, not the job; the job is queued again while attempts remain
    (RENDER_MAX_ATTEMPTS), and fails with this code after the last.
    """

    def __init__(self, code: str, message: str, *, retry: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry = retry

    def __repr__(self):
        return f"EngineError({self.code!r}, {self.message!r}{', retry=True' if self.retry else ''})"


@dataclass(frozen=True)
class RemoteReport:
    """What the renderer's signed callbacks reported for this attempt: the last `status`
    (progress | success | error | timeout), the highest `progress`, the renderer's error messages, and when
    (`at`, a time.time() value) the last callback came."""

    status: str
    progress: float
    errors: tuple[str, ...]
    at: float


@dataclass(frozen=True)
class RemoteDelivery:
    """What the caller gives an engine whose renderer runs elsewhere (see the module docstring)."""

    render_id: str
    upload_url: str  # a presigned request: the renderer sends the output with `upload_method` and `upload_headers`
    upload_method: str
    upload_headers: dict
    callback_url: str
    callback_secret: str  # signs the renderer's callbacks; never logged, never shown
    reports: Callable[[], RemoteReport | None]  # what the callbacks recorded so far (None: none yet)
    dispatched: Callable[[str], None]  # records the renderer's job id
    # The server's job of an earlier attempt whose worker was lost: nobody cancelled it, so the engine does.
    abandoned_job_id: str = ""


class Engine(Protocol):
    """Renders one `RenderInput` into a file inside `workdir`; see the module docstring for the contract."""

    name: str
    remote: bool  # True: the renderer runs elsewhere and needs a RemoteDelivery

    def render(
        self,
        *,
        input: RenderInput,
        sources: dict[str, str],
        workdir: Path,
        on_progress: ProgressCallback,
        deadline: float | None,
        cancelled: Callable[[], bool],
        delivery: RemoteDelivery | None = None,
    ) -> RenderResult:
        """`deadline` is a `time.time()` value; `cancelled()` is asked about once a second while the render runs;
        `delivery` is given to remote engines only."""
        ...
