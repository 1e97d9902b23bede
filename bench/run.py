"""The benchmarks of `make bench`, each against a baseline measured in the same run.

    python bench/run.py [projects] [webhooks] [assets] [renders]    # all when none is named

projects: requests per second and p50/p99 latency of GET /v1/projects/{id} and GET /v1/projects?limit=100
under gunicorn beside a bare-Django baseline, the first page of a list beside a page after 20,000 rows, and
the SQL queries per list request.
webhooks: deliveries per second of 1,000 events fanned out to 5 local receivers by a real Celery worker,
beside plain requests.post calls, and the worker's peak memory (bench/webhook_fanout.py).
assets: a generated ~500 MB video uploaded through the local backend's signed PUT beside writing the same bytes
to disk directly, and its metadata extraction by asset_process (time, peak RSS) beside pymediainfo called
directly on the same file (bench/assets.py).
renders: the built-in FFmpeg engine rendering a 10 s 1280x720 scene beside one hand-written ffmpeg command for
the same output, and its render time per minute of 1080p30 output (bench/render_engine.py); then, with gunicorn
and the Procfile's renders: worker, submit -> rendering latency with an idle worker, and GET /v1/renders/{id}
beside the projects benchmark's bare-view baseline (bench/render_api.py).

Prints the results and writes them to bench/results/latest.txt, and each row beside its goal (a WARNING line
for a row below it) to bench/results/latest.json (bench/goals.py).
"""

import logging
import os
import platform
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
# `python bench/run.py` puts bench/ on the path; the apps and the bench package live one level up.
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django  # noqa: E402 - Django is set up only once the settings module is chosen

django.setup()
# This process's own setup requests would log a line each and bury the report; gunicorn's workers
# keep logging as in production, to bench/results/gunicorn.log.
logging.disable(logging.WARNING)

import gunicorn as gunicorn_package  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.assets import run_assets  # noqa: E402
from bench.goals import BenchResults  # noqa: E402
from bench.load import (  # noqa: E402
    CONNECTIONS,
    ROUNDS,
    SLICE_SECONDS,
    THROUGHPUT_HEADERS,
    WARMUP_SECONDS,
    WORKERS,
    Scenario,
    get_json,
    measure,
    ratio_extra,
    throughput_rows,
)
from bench.render_api import run_render_api  # noqa: E402
from bench.render_engine import run_render_engine  # noqa: E402
from bench.seed import bench_organization_create, bench_organization_delete  # noqa: E402
from bench.server import gunicorn, web_command  # noqa: E402
from bench.views import BASELINE  # noqa: E402
from bench.webhook_fanout import run_webhook_fanout  # noqa: E402

PROJECT_COUNT = 20_500
DEEP_OFFSET = 20_000
WALK_PAGE_SIZE = 100
DETAIL_SAMPLE_SIZE = 500
QUERY_COUNT_LIMITS = (1, 20, 100)
SQL_PREVIEW_CHARS = 150
RESULTS_DIR = ROOT / "bench" / "results"

DETAIL = "GET /v1/projects/{id}"
LIST_100 = "GET /v1/projects?limit=100"
FIRST_PAGE = "GET /v1/projects?limit=20 (first page)"
DEEP_PAGE = f"GET /v1/projects?limit=20 (after {DEEP_OFFSET:,} rows)"
COMPARED = "[compared]"
BENCHMARKS = ("projects", "webhooks", "assets", "renders")


class Report:
    """Prints lines as they come and keeps them for the results file."""

    def __init__(self):
        self.lines = []
        self.results = BenchResults()  # each row beside its goal, for bench/results/latest.json

    def line(self, text=""):
        print(text, flush=True)
        self.lines.append(text)

    def table(self, headers, rows):
        widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
        self.line("  ".join(str(cell).ljust(width) for cell, width in zip(headers, widths)).rstrip())
        self.line("  ".join("-" * width for width in widths))
        for row in rows:
            self.line("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())

    def save(self, path):
        path.write_text("\n".join(self.lines) + "\n")


def main(argv):
    selected = argv or list(BENCHMARKS)
    unknown = [name for name in selected if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"Unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}.")
    report = Report()
    report.line(
        f"Renderowl bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}."
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    if "projects" in selected:
        run_projects(report)
    if "webhooks" in selected:
        run_webhook_fanout(report, root=ROOT, results_dir=RESULTS_DIR)
    if "assets" in selected:
        run_assets(report, root=ROOT, results_dir=RESULTS_DIR)
    if "renders" in selected:
        run_render_engine(report)
        run_render_api(report, root=ROOT, results_dir=RESULTS_DIR)
    report.results.finish(report, RESULTS_DIR / "latest.json")
    report.save(RESULTS_DIR / "latest.txt")
    print(f"\nWritten to {(RESULTS_DIR / 'latest.txt').relative_to(ROOT)} and {(RESULTS_DIR / 'latest.json').relative_to(ROOT)}.")


def run_projects(report):
    report.line()
    report.line(
        f"Projects API: gunicorn {gunicorn_package.__version__}, {WORKERS} processes, "
        f"{CONNECTIONS} client connections, {PROJECT_COUNT:,} projects in one organization."
    )
    servers = {"": web_command(ROOT)}
    if os.environ.get("BENCH_COMPARE_WEB_COMMAND"):
        servers[COMPARED] = os.environ["BENCH_COMPARE_WEB_COMMAND"]
    for label, command in servers.items():
        report.line(f"Server{label and ' ' + label}: {command}")
    report.line(
        f"Each scenario: {WARMUP_SECONDS:g} s warm-up, then {ROUNDS} rounds of {SLICE_SECONDS:g} s, "
        "the scenarios interleaved within each round in a rotating order."
    )
    bench = bench_organization_create(project_count=PROJECT_COUNT, sample_size=DETAIL_SAMPLE_SIZE)
    try:
        report_query_counts(report, bench)
        with ExitStack() as running:
            ports = {
                label: running.enter_context(
                    gunicorn(
                        workers=WORKERS,
                        root=ROOT,
                        log_path=RESULTS_DIR / f"gunicorn{label and '-compared'}.log",
                        environment={"BENCH_ORGANIZATION_ID": bench.organization_id},
                        command=command,
                    )
                )
                for label, command in servers.items()
            }
            auth = {"Authorization": f"Bearer {bench.raw_key}"}
            deep_cursor = walk_to_deep_cursor(report, ports[""], auth)
            # With a compared server, both serve the same scenarios, interleaved in the same rounds.
            scenarios = [
                scenario
                for label, port in ports.items()
                for scenario in [
                    Scenario(BASELINE + label, [f"/bench/baseline/{pk}" for pk in bench.project_ids], {}, port),
                    Scenario(DETAIL + label, [f"/v1/projects/{pk}" for pk in bench.project_ids], auth, port),
                    Scenario(LIST_100 + label, ["/v1/projects?limit=100"], auth, port),
                    Scenario(FIRST_PAGE + label, ["/v1/projects?limit=20"], auth, port),
                    Scenario(DEEP_PAGE + label, [f"/v1/projects?limit=20&cursor={quote(deep_cursor)}"], auth, port),
                ]
            ]
            measurements = measure(scenarios)
        for label in servers:
            report_throughput(
                report, {name: m for name, m in measurements.items() if name.endswith(COMPARED) == bool(label)}, label=label
            )
        report_keyset(report, measurements[FIRST_PAGE], measurements[DEEP_PAGE])
        record_goal_rows(report.results, measurements)
    finally:
        bench_organization_delete(organization_id=bench.organization_id)


def record_goal_rows(results, measurements):
    """The Procfile server's req/s over the bare view's, for the rows issue 13 holds to a goal."""
    baseline = measurements[BASELINE]
    for row, scenario in (("project_retrieve", DETAIL), ("project_list_100", LIST_100)):
        measured = measurements[scenario]
        results.ratio(
            row, measured.sample.requests_per_second / baseline.sample.requests_per_second,
            **ratio_extra(measured, baseline),
        )


def report_query_counts(report, bench):
    """Count SQL queries per request in-process: a list page must cost as many queries whatever its limit."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {bench.raw_key}")
    list_paths = [f"/v1/projects?limit={limit}" for limit in QUERY_COUNT_LIMITS]
    detail_paths = [f"/v1/projects/{bench.project_ids[0]}", f"/bench/baseline/{bench.project_ids[0]}"]
    queries_by_path = {}
    with override_settings(BENCH_ORGANIZATION_ID=bench.organization_id):
        # A key's first use in a minute also records lastUsedAt; count the steady state after it.
        client.get(list_paths[0])
        for path in list_paths + detail_paths:
            queries_by_path[path] = captured_sql(client, path)
    report.line()
    report.line("SQL queries per request (in-process, through the Django test client)")
    report.table(
        ["request", "queries"],
        [[path.replace(bench.project_ids[0], "{id}"), len(sql)] for path, sql in queries_by_path.items()],
    )
    constant = len({len(queries_by_path[path]) for path in list_paths}) == 1
    report.line(f"Constant in limit ({', '.join(map(str, QUERY_COUNT_LIMITS))}): {'yes' if constant else 'NO'}")
    report.line(f"The queries of {list_paths[-1]}:")
    for number, sql in enumerate(queries_by_path[list_paths[-1]], start=1):
        preview = sql if len(sql) <= SQL_PREVIEW_CHARS else sql[:SQL_PREVIEW_CHARS] + "…"
        report.line(f"  {number}. {preview}")


def captured_sql(client, path):
    with CaptureQueriesContext(connections["default"]) as queries:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}: {response.content[:300]!r}")
    return [query["sql"] for query in queries.captured_queries]


def walk_to_deep_cursor(report, port, auth):
    """Follow nextCursor from the first page until DEEP_OFFSET rows are behind; returns that cursor."""
    seen, cursor = set(), None
    while len(seen) < DEEP_OFFSET:
        path = f"/v1/projects?limit={WALK_PAGE_SIZE}" + (f"&cursor={quote(cursor)}" if cursor else "")
        page = get_json(port=port, path=path, headers=auth)
        seen.update(project["id"] for project in page["data"])
        cursor = page["nextCursor"]
        if cursor is None:
            raise RuntimeError(f"The walk ended after {len(seen):,} rows; expected at least {DEEP_OFFSET:,}.")
    report.line()
    report.line(
        f"Walked {DEEP_OFFSET // WALK_PAGE_SIZE} pages of {WALK_PAGE_SIZE} over HTTP: {len(seen):,} distinct "
        "projects, none skipped or repeated."
    )
    return cursor


def report_throughput(report, measurements, *, label=""):
    report.line()
    server = f"the compared server {label}" if label else "the Procfile's web command"
    report.line(f"Throughput and latency under {server} ({WORKERS} processes, {CONNECTIONS} connections)")
    report.table(THROUGHPUT_HEADERS, throughput_rows(measurements, baseline=BASELINE + label))


def report_keyset(report, first, deep):
    """Compare the deep page with the first: equal within noise when their per-round p50 ranges overlap."""
    rows = [
        [
            f"p{round(fraction * 100)} ms",
            f"{first.sample.percentile_ms(fraction):.2f}",
            f"{deep.sample.percentile_ms(fraction):.2f}",
            f"{deep.sample.percentile_ms(fraction) / first.sample.percentile_ms(fraction):.2f}",
        ]
        for fraction in (0.50, 0.99)
    ]
    rows.append(
        [
            "req/s",
            f"{first.sample.requests_per_second:.0f}",
            f"{deep.sample.requests_per_second:.0f}",
            f"{deep.sample.requests_per_second / first.sample.requests_per_second:.2f}",
        ]
    )
    report.line()
    report.line(f"Keyset pagination: the page after {DEEP_OFFSET:,} rows beside the first page (limit=20)")
    report.table(["", "first page", "deep page", "deep ÷ first"], rows)
    overlap = max(min(first.round_p50s_ms), min(deep.round_p50s_ms)) <= min(
        max(first.round_p50s_ms), max(deep.round_p50s_ms)
    )
    if overlap:
        report.line("Their per-round p50 ranges overlap: equal within noise.")
    else:
        report.line("Their per-round p50 ranges do not overlap: NOT equal within noise.")


if __name__ == "__main__":
    main(sys.argv[1:])
