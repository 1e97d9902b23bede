"""The render API beside its baselines, in the same run: submit → rendering with an idle worker, and reads of a job.

Both run against the Procfile's web command under gunicorn, as the projects benchmark does, and the Procfile's
`renders:` worker, started as `make run` starts it; both processes get the bench settings and a local store in a
temporary directory.

Latency: small renders (a 1 s 320x180 text card) are submitted through the API one at a time; each is waited for
until it is completed and the worker runs no task, so every submission finds the worker idle. For each: startedAt
− createdAt (the API's own timestamps) and startedAt − the moment this process sent the POST (client, server and
worker share the machine's clock), beside the POST's response time and a control ping to the same worker, the
broker's round trip. Goal: p50 under 100 ms.

Throughput: GET /v1/renders/{id} of the completed jobs (each read signs a fresh outputUrl), GET /v1/projects/{id}
and the projects benchmark's baseline (bench/views.py), interleaved with the same load generator and settings as
the projects benchmark (bench/load.py). Goal (issue 13, bench/goals.py): at least 0.7× the baseline's requests per second.
"""

import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests
from django.db import connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from assets.processing import asset_process
from bench.goals import RATIO_GOALS
from bench.load import (
    CONNECTIONS,
    THROUGHPUT_HEADERS,
    WORKERS,
    Sample,
    Scenario,
    measure,
    ratio_extra,
    throughput_rows,
)
from bench.seed import bench_organization_create, bench_organization_delete
from bench.server import gunicorn, procfile_command
from bench.views import BASELINE
from bench.worker import _check_queues_are_free, procfile_worker, worker_idle
from renderowl.celery import app

LATENCY_RENDERS = 100
WARMUP_RENDERS = 3
# The baseline and GET /v1/projects/{id} cycle through as many rows as in the projects benchmark.
PROJECT_COUNT = 500
LATENCY_GOAL_MS = 100
THROUGHPUT_GOAL = RATIO_GOALS["render_retrieve"]
POLL_SECONDS = 0.02
RENDER_TIMEOUT_SECONDS = 60
IDLE_TIMEOUT_SECONDS = 10
REQUEST_TIMEOUT_SECONDS = 30
# Upload-complete queues the template's processing (this process runs it) and every render queues its events'
# fan-out: no worker may take them, and what this run leaves there is purged at the end.
QUEUES = ("assets", "events")
TEMPLATE = {
    "engine": "ffmpeg",
    "width": 320, "height": 180, "fps": 10, "durationInFrames": 10,
    "inputSchema": {"type": "object", "properties": {"title": {"type": "string"}}},
    "defaultProps": {"title": "Latency"},
    "scene": {"background": "#101820", "layers": [{"type": "text", "text": "{{title}}", "size": 32}]},
}

PING = "reference: control ping to the idle worker"
RESPONSE = "POST /v1/projects/{id}/renders, response time"
SERVER_LATENCY = "startedAt - createdAt (the API's timestamps)"
CLIENT_LATENCY = "POST sent -> startedAt (the client's clock)"
PROJECT_DETAIL = "GET /v1/projects/{id}"
RENDER_DETAIL = "GET /v1/renders/{id} (completed, fresh outputUrl)"


@dataclass(frozen=True)
class Submission:
    render_id: str
    sent_at: float  # this process's wall clock when the POST went out
    response_seconds: float
    created_at: datetime
    started_at: datetime


def run_render_api(report, *, root, results_dir):
    """Measure, print and keep (through `report`) the render API section."""
    _check_queues_are_free(app, QUEUES)
    report.line()
    worker_command = procfile_command(root, "renders")
    report.line(
        f"Render API: the Procfile's web command ({WORKERS} processes) and its renders: worker "
        f"({worker_command}), bench settings, local storage in a temporary directory."
    )
    with tempfile.TemporaryDirectory(prefix="renderowl-bench-render-api-") as directory:
        storage_root = Path(directory)
        bench = bench_organization_create(project_count=PROJECT_COUNT, sample_size=PROJECT_COUNT)
        try:
            environment = {
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "DJANGO_ENV": os.environ.get("DJANGO_ENV", "development"),
                "ASSET_STORAGE_BACKEND": "local",
                "ASSET_STORAGE_ROOT": str(storage_root),
                "BENCH_ORGANIZATION_ID": bench.organization_id,
            }
            with gunicorn(
                workers=WORKERS, root=root, log_path=results_dir / "gunicorn-renders.log", environment=environment
            ) as port:
                api = Api(port, bench.raw_key)
                project_id = bench.project_ids[0]
                template_id = template_create(api, bench, project_id, storage_root)
                with procfile_worker(
                    "renders", app=app, root=root, log_path=results_dir / "worker-renders.log", environment=environment
                ) as worker:
                    for _ in range(WARMUP_RENDERS):
                        submit_and_wait(api, worker, project_id, template_id)
                    submissions = [submit_and_wait(api, worker, project_id, template_id)
                                   for _ in range(LATENCY_RENDERS)]
                    pings = ping_worker(worker, LATENCY_RENDERS)
                download = check_download(api, submissions[-1].render_id)
                queries = query_counts(bench, submissions[-1].render_id, storage_root)
                auth = {"Authorization": f"Bearer {bench.raw_key}"}
                render_ids = [submission.render_id for submission in submissions]
                measurements = measure([
                    Scenario(BASELINE, [f"/bench/baseline/{pk}" for pk in bench.project_ids], {}, port),
                    Scenario(PROJECT_DETAIL, [f"/v1/projects/{pk}" for pk in bench.project_ids], auth, port),
                    Scenario(RENDER_DETAIL, [f"/v1/renders/{pk}" for pk in render_ids], auth, port),
                ])
        finally:
            bench_organization_delete(organization_id=bench.organization_id)
            with app.connection_for_write() as connection:
                for queue in QUEUES:
                    connection.default_channel.queue_purge(queue)
    report_latency(report, submissions, pings)
    report.line(download)
    report_throughput(report, measurements, queries)


class Api:
    """The API on gunicorn's port, with the bench organization's key."""

    def __init__(self, port, raw_key):
        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {raw_key}"

    def call(self, method, path, body=None, *, expected_status=200):
        response = self.session.request(method, f"{self.base}{path}", json=body, timeout=REQUEST_TIMEOUT_SECONDS)
        if response.status_code != expected_status:
            raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def local(self, url):
        """A signed URL names PUBLIC_BASE_URL, which cannot know gunicorn's port; only its path is signed."""
        parts = urlsplit(url)
        return f"{self.base}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def template_create(api, bench, project_id, storage_root):
    """Upload the template through the API and process it in this process; returns its asset id."""
    data = json.dumps(TEMPLATE).encode()
    created = api.call(
        "POST", f"/v1/projects/{project_id}/assets",
        {"type": "template", "name": "latency.json", "contentType": "application/json", "size": len(data)},
        expected_status=201,
    )
    # The signed URL is the credential: no API key.
    response = requests.put(
        api.local(created["upload"]["url"]), data=data, headers=created["upload"]["headers"],
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    if response.status_code != 201:
        raise RuntimeError(f"The template's PUT answered {response.status_code}: {response.text[:300]}")
    asset_id = created["asset"]["id"]
    api.call("POST", f"/v1/assets/{asset_id}/upload-complete")
    with override_settings(ASSET_STORAGE_BACKEND="local", ASSET_STORAGE_ROOT=storage_root):
        asset_process(organization_id=bench.organization_id, asset_id=asset_id)
    asset = api.call("GET", f"/v1/assets/{asset_id}")
    if asset["status"] != "ready":
        raise RuntimeError(f"The benchmark's template ended {asset['status']}: {asset['error']}")
    return asset_id


def submit_and_wait(api, worker, project_id, template_id):
    """Submit one render, wait until it is completed and the worker runs no task; returns its timings."""
    sent_at, started = time.time(), time.perf_counter()
    job = api.call(
        "POST", f"/v1/projects/{project_id}/renders", {"templateId": template_id, "inputProps": {"title": "Hi"}},
        expected_status=201,
    )
    response_seconds = time.perf_counter() - started
    deadline = time.monotonic() + RENDER_TIMEOUT_SECONDS
    while job["status"] in ("pending", "queued", "rendering"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"The render {job['id']} is still {job['status']} after {RENDER_TIMEOUT_SECONDS} s.")
        time.sleep(POLL_SECONDS)
        job = api.call("GET", f"/v1/renders/{job['id']}")
    if job["status"] != "completed":
        raise RuntimeError(f"The render {job['id']} ended {job['status']}: {job['error']}")
    if not worker_idle(app, worker, timeout=IDLE_TIMEOUT_SECONDS):
        raise RuntimeError(f"The worker still runs a task {IDLE_TIMEOUT_SECONDS} s after {job['id']} completed.")
    return Submission(
        render_id=job["id"],
        sent_at=sent_at,
        response_seconds=response_seconds,
        created_at=datetime.fromisoformat(job["createdAt"]),
        started_at=datetime.fromisoformat(job["startedAt"]),
    )


def ping_worker(worker, count):
    """Round trips of a control ping to the idle worker: what the broker alone takes to reach it and back."""
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        if not app.control.ping(destination=[worker.name], timeout=1.0):
            raise RuntimeError(f"The worker {worker.name} did not answer a ping within 1 s.")
        seconds.append(time.perf_counter() - started)
    return seconds


def check_download(api, render_id):
    """A completed job's outputUrl serves its outputSize bytes."""
    job = api.call("GET", f"/v1/renders/{render_id}")
    response = requests.get(api.local(job["outputUrl"]), timeout=REQUEST_TIMEOUT_SECONDS)
    if response.status_code != 200 or len(response.content) != job["outputSize"]:
        return (
            f"CHECK FAILED: the outputUrl of {render_id} answered {response.status_code} with "
            f"{len(response.content)} bytes, not {job['outputSize']}."
        )
    return f"Checked: the outputUrl of a completed render serves its {job['outputSize']:,} bytes."


def query_counts(bench, render_id, storage_root):
    """SQL queries of each throughput scenario's request, in-process through the Django test client."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {bench.raw_key}")
    paths = {
        BASELINE: f"/bench/baseline/{bench.project_ids[0]}",
        PROJECT_DETAIL: f"/v1/projects/{bench.project_ids[0]}",
        RENDER_DETAIL: f"/v1/renders/{render_id}",
    }
    counts = {}
    with override_settings(
        BENCH_ORGANIZATION_ID=bench.organization_id, ASSET_STORAGE_BACKEND="local", ASSET_STORAGE_ROOT=storage_root
    ):
        client.get(paths[PROJECT_DETAIL])  # a key's first use in a minute also records lastUsedAt
        for name, path in paths.items():
            with CaptureQueriesContext(connections["default"]) as captured:
                response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} answered {response.status_code}: {response.content[:300]!r}")
            counts[name] = len(captured.captured_queries)
    return counts


def report_latency(report, submissions, pings):
    samples = {
        PING: pings,
        RESPONSE: [item.response_seconds for item in submissions],
        SERVER_LATENCY: [(item.started_at - item.created_at).total_seconds() for item in submissions],
        CLIENT_LATENCY: [item.started_at.timestamp() - item.sent_at for item in submissions],
    }
    goals = (SERVER_LATENCY, CLIENT_LATENCY)
    rows = []
    for name, seconds in samples.items():
        sample = Sample(latencies=seconds)
        rows.append([
            name,
            len(seconds),
            f"{sample.percentile_ms(0.50):.1f}",
            f"{sample.percentile_ms(0.99):.1f}",
            f"{min(seconds) * 1000:.1f}-{max(seconds) * 1000:.1f}",
            f"{statistics.mean(seconds) * 1000:.1f}",
            f"p50 < {LATENCY_GOAL_MS} ms" if name in goals else "",
        ])
    report.line()
    report.line(
        f"Submit -> rendering with an idle worker: {LATENCY_RENDERS} renders of a 1 s 320x180 text card, each "
        f"submitted once the last has completed and the worker runs no task ({WARMUP_RENDERS} more before, untimed). "
        "startedAt is when the worker claimed the job."
    )
    report.table(["scenario", "renders", "p50 ms", "p99 ms", "min-max ms", "mean ms", "goal"], rows)
    server = Sample(latencies=samples[SERVER_LATENCY])
    client = Sample(latencies=samples[CLIENT_LATENCY])
    report.results.value(
        "submit_to_rendering_p50_ms", server.percentile_ms(0.50), goal=LATENCY_GOAL_MS,
        p99_ms=round(server.percentile_ms(0.99), 1), client_p50_ms=round(client.percentile_ms(0.50), 1),
    )


def report_throughput(report, measurements, queries):
    report.line()
    report.line(
        f"Reads of a completed render beside the projects benchmark's baseline, under the Procfile's web command "
        f"({WORKERS} processes, {CONNECTIONS} connections)"
    )
    report.table(THROUGHPUT_HEADERS, throughput_rows(measurements, baseline=BASELINE))
    report.line(
        "SQL queries per request (in-process, through the Django test client): "
        + ", ".join(f"{name} {count}" for name, count in queries.items())
        + "."
    )
    ratio = measurements[RENDER_DETAIL].sample.requests_per_second / measurements[BASELINE].sample.requests_per_second
    report.line(f"{RENDER_DETAIL}: {ratio:.2f}x the baseline's req/s (goal >= {THROUGHPUT_GOAL}x).")
    report.results.ratio(
        "render_retrieve", ratio, goal=THROUGHPUT_GOAL, **ratio_extra(measurements[RENDER_DETAIL], measurements[BASELINE])
    )
