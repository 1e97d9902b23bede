"""The small interface every render engine implements, so the task that runs a render needs no special cases.

An engine is handed a validated `RenderInput`, the local path or signed URL of each asset it names
(`sources`: keyed by the prop's name, or by the asset id where the template names an asset literally;
trusted, unlike a URL in the template or the props, which the engine fetches through the outbound guard),
a private working directory it may fill and that the caller removes afterwards, a progress
callback, a wall-clock deadline and a cancellation probe. It returns the finished file's `RenderResult`
or raises `EngineError`; whatever it started (processes, temporary files outside `workdir`) is gone by
the time `render` returns or raises.
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
    """The produced file: where it is, its size in bytes, and its length probed from the file (0 for stills)."""

    path: Path
    size: int
    duration_ms: int


class EngineError(Exception):
    """A render that cannot finish, with a stable `code` for the job's `error.code` and a `message` naming the fix.

    Codes: `render_timeout` (the deadline passed), `render_cancelled`, `invalid_scene` (the template and
    props cannot be drawn as given), `source_not_allowed` (an input that is not http(s), lies outside the
    allowed directories, or whose URL the outbound guard refuses), `source_unavailable` (a URL input could not
    be downloaded in time), `source_too_large` (a URL input, or all of them, over the RENDER_MAX_*SOURCE_BYTES
    limits), `render_failed` (ffmpeg itself failed).
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self):
        return f"EngineError({self.code!r}, {self.message!r})"


class Engine(Protocol):
    """Renders one `RenderInput` into a file inside `workdir`; see the module docstring for the contract."""

    name: str

    def render(
        self,
        *,
        input: RenderInput,
        sources: dict[str, str],
        workdir: Path,
        on_progress: ProgressCallback,
        deadline: float | None,
        cancelled: Callable[[], bool],
    ) -> RenderResult:
        """`deadline` is a `time.time()` value; `cancelled()` is asked about once a second while the render runs."""
        ...
