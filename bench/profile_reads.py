"""Where a read's time goes: the API's read paths beside the bare-view baseline, in-process, with cProfile.

    python bench/profile_reads.py [baseline] [project] [list100] [render]    # all when none is named

Seeds a throwaway organization (300 projects, one completed render), sends each path through Django's test
client (the same middleware, views and database role as the server, without gunicorn), prints this process's
CPU per request for each path in interleaved rounds (the noise of a shared machine shows in the range), then
the top of a cProfile of 400 more requests per path, by own time and by cumulative time. Run it like
bench/run.py (DATABASE_URL, REDIS_URL, a migrated database); it deletes its organization at the end.
PROFILE_TOP=80 prints 80 lines of each profile instead of 25.
"""

import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("BENCH_ORGANIZATION_ID", "00000000-0000-0000-0000-000000000000")
os.environ["ASSET_STORAGE_BACKEND"] = "local"
os.environ["ASSET_STORAGE_ROOT"] = tempfile.mkdtemp(prefix="renderowl-profile-")

import django  # noqa: E402 - Django is set up only once the settings module is chosen

django.setup()

import logging  # noqa: E402

from django.test import Client, override_settings  # noqa: E402

from bench.seed import bench_organization_create, bench_organization_delete  # noqa: E402
from renderowl.tenancy import tenant_context  # noqa: E402
from renders.models import RenderJob  # noqa: E402

logging.disable(logging.WARNING)
PATHS = ("baseline", "project", "list100", "render")
ROUNDS = 7
REQUESTS_PER_ROUND = 100
PROFILED_REQUESTS = 400
TOP = int(os.environ.get("PROFILE_TOP", "25"))


def completed_render(bench):
    with tenant_context(bench.organization_id):
        now = datetime.now(UTC)
        return RenderJob.objects.create(
            organization_id=bench.organization_id, project_id=bench.project_ids[0], template_id="ast_profile",
            status=RenderJob.Status.COMPLETED, engine="ffmpeg", input_props={"title": "Hi"},
            output={"format": "mp4", "width": 320, "height": 180, "fps": 10, "quality": "standard"}, progress=1.0,
            output_key=f"org/{bench.organization_id}/prj/{bench.project_ids[0]}/rnd_profile/output.mp4",
            output_size=1234, output_duration_ms=1000, attempts=1, queued_at=now, started_at=now, completed_at=now,
        )


def main(names):
    bench = bench_organization_create(project_count=300, sample_size=300)
    try:
        job = completed_render(bench)
        paths = {
            "baseline": [f"/bench/baseline/{pk}" for pk in bench.project_ids],
            "project": [f"/v1/projects/{pk}" for pk in bench.project_ids],
            "list100": ["/v1/projects?limit=100"],
            "render": [f"/v1/renders/{job.id}"],
        }
        client = Client(HTTP_AUTHORIZATION=f"Bearer {bench.raw_key}")
        with override_settings(BENCH_ORGANIZATION_ID=bench.organization_id):
            for name in names:  # warm up, and check every path answers
                for number in range(50):
                    response = client.get(paths[name][number % len(paths[name])])
                    if response.status_code != 200:
                        raise RuntimeError(f"{name} answered {response.status_code}: {response.content[:300]!r}")
            cpu_ms = {name: [] for name in names}
            for round_number in range(ROUNDS):
                shift = round_number % len(names)
                for name in names[shift:] + names[:shift]:
                    started = time.process_time()
                    for number in range(REQUESTS_PER_ROUND):
                        client.get(paths[name][number % len(paths[name])])
                    cpu_ms[name].append((time.process_time() - started) * 1000 / REQUESTS_PER_ROUND)
            baseline = statistics.median(cpu_ms["baseline"]) if "baseline" in cpu_ms else None
            for name, values in cpu_ms.items():
                median = statistics.median(values)
                ratio = f", baseline ÷ this {baseline / median:.2f}" if baseline else ""
                print(f"{name}: {median:.2f} ms CPU per request (rounds {min(values):.2f}-{max(values):.2f}){ratio}")
            for name in names:
                profiler = cProfile.Profile()
                profiler.enable()
                for number in range(PROFILED_REQUESTS):
                    client.get(paths[name][number % len(paths[name])])
                profiler.disable()
                for order in ("tottime", "cumulative"):
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(TOP)
                    print(f"\n{name}, {PROFILED_REQUESTS} requests, by {order}:")
                    print(out.getvalue()[out.getvalue().index("   ncalls"):])
    finally:
        bench_organization_delete(organization_id=bench.organization_id)


if __name__ == "__main__":
    chosen = sys.argv[1:] or list(PATHS)
    unknown = sorted(set(chosen) - set(PATHS))
    if unknown:
        sys.exit(f"Unknown path {unknown[0]!r}; choose among {', '.join(PATHS)}.")
    main(chosen)
