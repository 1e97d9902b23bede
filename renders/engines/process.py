"""Runs one ffmpeg process for a render: reads its `-progress` stream, and kills its process group on cancel or deadline.

ffmpeg starts in a new session (its own process group), so a kill reaches anything it spawned, and
asks Linux to kill it when the worker dies (PR_SET_PDEATHSIG), so a worker killed by SIGKILL takes its
ffmpeg with it. The caller's thread checks the clock every POLL_SECONDS and `cancelled()` every
CANCEL_POLL_SECONDS while two reader threads drain stdout (progress) and stderr (whose first lines, the cause,
make the failure message).
"""

import ctypes
import functools
import math
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from renders.engines.base import EngineError

POLL_SECONDS = 0.1
# `cancelled()` may cost a database read: asked at most this often.
CANCEL_POLL_SECONDS = 1.0
PR_SET_PDEATHSIG = 1
ADDRESS = re.compile(r" @ 0x[0-9a-f]+")  # ffmpeg's "[png @ 0x5626…]": memory addresses, noise to a reader
URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S*")
STDERR_KEEP_LINES = 3  # ffmpeg names the cause first; what follows is the fallout


def ffmpeg_run(
    command: list[str],
    *,
    cwd: Path,
    duration: float,
    on_progress: Callable[[float], None],
    deadline: float | None,
    cancelled: Callable[[], bool],
    clock: Callable[[], float] = time.time,
    redact: tuple[str, ...] = (),
) -> None:
    """Runs `command` in `cwd` to completion, reporting the fraction of `duration` written; raises EngineError."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=functools.partial(_die_with_parent, os.getpid()),
    )
    lines: queue.Queue = queue.Queue()
    errors: list[str] = []
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, lines.put), daemon=True),
        threading.Thread(
            target=_pump,
            args=(process.stderr, lambda line: len(errors) < STDERR_KEEP_LINES and errors.append(line)),
            daemon=True,
        ),
    ]
    for reader in readers:
        reader.start()
    last_cancel_check = -math.inf
    try:
        while True:
            try:
                line = lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                line = None
            if line is not None:
                fraction = _progress(line, duration)
                if fraction is not None:
                    on_progress(fraction)
            if time.monotonic() - last_cancel_check >= CANCEL_POLL_SECONDS:
                last_cancel_check = time.monotonic()
                if cancelled():
                    raise EngineError("render_cancelled", "The render was cancelled.")
            if deadline is not None and clock() >= deadline:
                raise EngineError(
                    "render_timeout", "The render took longer than its deadline (RENDER_TIMEOUT_SECONDS)."
                )
            if line is None and not readers[0].is_alive() and lines.empty():
                break  # ffmpeg closed its output and every line of it has been read
        process.wait()
    finally:
        if process.poll() is None:
            _kill(process)
        for reader in readers:
            reader.join(timeout=5)
    if process.returncode != 0:
        detail = " ".join(errors).strip() or f"exit status {process.returncode}"
        for secret in redact:
            detail = detail.replace(secret, "…")
        detail = URL.sub("<url>", detail)  # signed URLs carry their signature
        detail = ADDRESS.sub("", detail)
        raise EngineError("render_failed", f"ffmpeg could not render the scene: {detail[-500:]}")


def _die_with_parent(parent):
    """In the child, before exec: Linux sends it SIGKILL if the worker dies, even by SIGKILL (it has its own group).

    A worker that died between the fork and this request can no longer signal it: the child ends itself then.
    """
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)


def _pump(stream, put):
    for raw in iter(stream.readline, b""):
        put(raw.decode("utf-8", "replace").strip())
    stream.close()


def _progress(line, duration):
    key, _, value = line.partition("=")
    if key == "progress" and value == "end":
        return 1.0
    if key == "out_time_us" and value.lstrip("-").isdigit() and duration > 0:
        return min(max(int(value) / 1_000_000 / duration, 0.0), 0.999)
    return None


def _kill(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
