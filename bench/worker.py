"""A real Celery worker for the length of a `with` block, and the memory of its process tree."""

import os
import secrets
import shlex
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.server import procfile_command

READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20
PING_TIMEOUT_SECONDS = 0.5
INSPECT_TIMEOUT_SECONDS = 1.0


class WorkerFailed(RuntimeError):
    """The worker exited or never became ready, or another consumer would steal its tasks; the message says why."""


@dataclass
class Worker:
    pid: int
    name: str
    purged: int = 0  # messages still queued when the worker stopped (a run cut short), then purged


@contextmanager
def celery_worker(*, app, queues, concurrency, root, log_path, environment):
    """Start `celery worker` (prefork, `concurrency` processes) on `queues`, wait until it answers a ping,
    yield a Worker, then stop it (warm shutdown, then by PID) together with its pool processes.

    The queues must be empty and unconsumed at the start, so whatever is left in them when the worker
    stops was queued for it: that is purged, so that no later worker on this broker runs it.
    """
    _check_queues_are_free(app, queues)
    name = f"bench-{secrets.token_hex(4)}@{socket.gethostname()}"
    command = [
        str(Path(sys.executable).parent / "celery"),
        "-A", "renderowl", "worker",
        "--queues", ",".join(queues),
        "--pool", "prefork",
        "--concurrency", str(concurrency),
        "--hostname", name,
        "--loglevel", "INFO",  # as the Procfile runs it
    ]
    env = {**os.environ, **environment}
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        worker = Worker(pid=process.pid, name=name)
        try:
            _wait_until_ready(app, process, name, log_path)
            yield worker
        finally:
            _stop(process)
            with app.connection_for_write() as connection:
                worker.purged = sum(connection.default_channel.queue_purge(queue) or 0 for queue in queues)


@contextmanager
def procfile_worker(process_type, *, app, root, log_path, environment):
    """Start the Procfile's `process_type:` worker exactly as `make run` does (its command, through a shell that
    expands its ${VAR:-default}s), wait until it answers, yield a Worker, then stop it as `celery_worker` does.

    The queues it consumes are read from the command's -Q, so the benchmark follows the Procfile when they change.
    """
    command = procfile_command(root, process_type)
    queues = celery_queues(command)
    _check_queues_are_free(app, queues)
    env = {
        **os.environ,
        **environment,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    with open(log_path, "w") as log:
        # `exec`: the worker is the child itself, so its PID is the one stopped and recognised in its stats.
        process = subprocess.Popen(
            ["sh", "-c", f"exec {command}"], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        worker = Worker(pid=process.pid, name="")
        try:
            worker.name = _wait_for_pid(app, process, log_path)
            yield worker
        finally:
            _stop(process)
            with app.connection_for_write() as connection:
                worker.purged = sum(connection.default_channel.queue_purge(queue) or 0 for queue in queues)


def celery_queues(command):
    """The queues a `celery worker` command line consumes (its -Q / --queues)."""
    words = shlex.split(command)
    for index, word in enumerate(words):
        if word in ("-Q", "--queues") and index + 1 < len(words):
            return tuple(words[index + 1].split(","))
        if word.startswith("--queues="):
            return tuple(word.removeprefix("--queues=").split(","))
    raise WorkerFailed(f"The command {command!r} names no -Q queues; the benchmark must know which queues to check.")


def _wait_for_pid(app, process, log_path):
    """Wait until the worker whose main process is `process` answers; returns its node name (the Procfile's -n)."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WorkerFailed(f"The Celery worker exited with status {process.returncode}; see {log_path}.")
        replies = app.control.inspect(timeout=PING_TIMEOUT_SECONDS).stats() or {}
        for name, stats in replies.items():
            if stats.get("pid") == process.pid:
                return name
    raise WorkerFailed(f"The Celery worker did not answer within {READY_TIMEOUT_SECONDS} s; see {log_path}.")


def worker_idle(app, worker, *, timeout):
    """Wait until `worker` runs no task (its last one has returned); False if it still runs one after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.inspect(destination=[worker.name], timeout=PING_TIMEOUT_SECONDS).active() or {}
        if replies.get(worker.name) == []:
            return True
    return False


def _check_queues_are_free(app, queues):
    """Refuse to start when another worker consumes these queues or messages already wait in them."""
    replies = app.control.inspect(timeout=INSPECT_TIMEOUT_SECONDS).active_queues() or {}
    for worker_name, consumed in replies.items():
        shared = sorted({queue["name"] for queue in consumed} & set(queues))
        if shared:
            raise WorkerFailed(
                f"The worker {worker_name} already consumes {', '.join(shared)} on this broker and would take the "
                "benchmark's tasks. Stop it, or point REDIS_URL at a Redis database of the benchmark's own."
            )
    with app.connection_for_write() as connection:
        for queue in queues:
            try:
                _, waiting, _ = connection.default_channel.queue_declare(queue=queue, passive=True)
            except connection.channel_errors:  # no such queue: nothing waits in it
                waiting = 0
            if waiting:
                raise WorkerFailed(
                    f"{waiting} messages already wait in the {queue!r} queue (a crashed run, or another producer on "
                    f"this broker). Purge them with `celery -A renderowl purge -Q {queue} -f`, or point REDIS_URL "
                    "at a Redis database of the benchmark's own."
                )


def _wait_until_ready(app, process, name, log_path):
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WorkerFailed(f"The Celery worker exited with status {process.returncode}; see {log_path}.")
        if app.control.ping(destination=[name], timeout=PING_TIMEOUT_SECONDS):
            return
    raise WorkerFailed(f"The Celery worker did not answer a ping within {READY_TIMEOUT_SECONDS} s; see {log_path}.")


def _stop(process):
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    process.terminate()  # a warm shutdown: the pool finishes what it runs, then exits
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    # The pool processes normally exit with the main process; any left behind is killed by its PID.
    _, alive = psutil.wait_procs(children, timeout=STOP_TIMEOUT_SECONDS)
    for child in alive:
        child.kill()
    psutil.wait_procs(alive, timeout=STOP_TIMEOUT_SECONDS)


def tree_cpu_seconds(pid):
    """User plus system CPU seconds used so far by a process and its live descendants."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


@dataclass
class MemoryPeak:
    rss_bytes: int = 0
    pss_bytes: int = 0
    processes: int = 0


class TreeMemory:
    """Samples the summed RSS and PSS of a process and all its descendants in a thread, keeping the peaks.

    RSS counts every page each process maps, so the pages the pool processes share with the main
    process after the fork are counted once per process; PSS divides shared pages among their sharers,
    so its sum is what the tree really occupies.
    """

    def __init__(self, pid, *, interval=0.1):
        self.pid = pid
        self.interval = interval
        self.peak = MemoryPeak()
        self.samples = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stopping.set()
        self._thread.join()

    def sample(self):
        """Take one sample now; returns it as a MemoryPeak (the current values) and updates the peaks."""
        try:
            root = psutil.Process(self.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return None
        current = MemoryPeak()
        for process in processes:
            try:
                memory = process.memory_full_info()
            except psutil.NoSuchProcess:
                continue
            current.rss_bytes += memory.rss
            current.pss_bytes += memory.pss
            current.processes += 1
        self.samples += 1
        if current.rss_bytes > self.peak.rss_bytes:
            self.peak.rss_bytes, self.peak.processes = current.rss_bytes, current.processes
        self.peak.pss_bytes = max(self.peak.pss_bytes, current.pss_bytes)
        return current

    def _run(self):
        while not self._stopping.wait(self.interval):
            self.sample()
