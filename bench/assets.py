"""Large-asset handling beside direct baselines, in the same run: a ~500 MB generated video.

Upload: the bytes go through the API's flow (create the asset, PUT to the local backend's signed URL,
upload-complete) to gunicorn; the baseline writes the same bytes to a file on the same disk from this
process, in the same 1 MiB chunks the backend writes, then fsyncs as the backend does.

Extraction: `assets.processing.asset_process` runs in a fresh process on each uploaded asset; the
baselines call `pymediainfo.MediaInfo.parse` (alone, and after a SHA-256 pass over the file, as the
processing run also hashes it) on the very file the asset is stored in, each in a fresh process too.
The processes are `bench/asset_probe.py`; each reports its work's time and its peak memory.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import requests

from assets.models import Asset
from assets.storage import LocalStorage
from assets.storage.local import CHUNK_SIZE
from bench.seed import bench_organization_create, bench_organization_delete
from bench.server import gunicorn, web_command
from bench.worker import _check_queues_are_free, tree_cpu_seconds
from renderowl.celery import app
from renderowl.tenancy import tenant_context
from tests.assets.media import ffmpeg

ROUNDS = 4
WORKERS = 2
# 50 s of 1280x720 at 80 Mb/s is 500 MB. Temporal noise keeps x264 from compressing the test pattern
# below the target rate; ultrafast keeps the encode to a few seconds on 2 cores.
VIDEO_SECONDS = 50
VIDEO_SIZE = "1280x720"
VIDEO_MBPS = 80
NOISE = "noise=alls=40:allf=t"
CONTENT_TYPE = "video/mp4"
# An upload or probe that takes longer than this is a failure, not a measurement.
REQUEST_TIMEOUT_SECONDS = 300
PROBE_TIMEOUT_SECONDS = 180
# Upload-complete queues processing (`assets`) and the asset events' fan-out (`events`); no worker may take
# them (the probes run processing themselves), and what this run leaves there is purged at the end.
QUEUES = ("assets", "events")
MB = 1_000_000
MIB = 1024 * 1024
KIB = 1024

PUT = "PUT signed URL via gunicorn (requests, data=file)"
WRITE_FSYNC = "baseline: write 1 MiB chunks + fsync"
WRITE_NO_FSYNC = "write 1 MiB chunks, no fsync (reference)"
MEDIAINFO = "baseline: MediaInfo.parse(path)"
SHA_MEDIAINFO = "baseline: sha256 pass + MediaInfo.parse"
PROCESS = "asset_process (Django, bench.settings)"
PROBE_MODES = {MEDIAINFO: "mediainfo", SHA_MEDIAINFO: "sha256+mediainfo", PROCESS: "process"}


@dataclass
class Transfer:
    seconds: float
    client_cpu: float
    server_cpu: float | None = None


@dataclass(frozen=True)
class Probe:
    """What bench/asset_probe.py reports about one run."""

    seconds: float
    cpu_seconds: float
    rss_before_kib: int
    peak_rss_kib: int
    stages: dict
    result: dict


@dataclass
class Runs:
    items: list = field(default_factory=list)

    def median(self, attribute):
        return statistics.median(getattr(item, attribute) for item in self.items)

    def peak_rss_kib(self):
        return max(item.peak_rss_kib for item in self.items)


def run_assets(report, *, root, results_dir):
    """Measure, print and keep (through `report`) the large-asset section."""
    _check_queues_are_free(app, QUEUES)
    report.line()
    with tempfile.TemporaryDirectory(prefix="renderowl-bench-assets-") as directory:
        directory = Path(directory)
        storage_root = directory / "storage"
        storage_root.mkdir()
        source = directory / "source.mp4"
        started = time.perf_counter()
        generate_video(source)
        generated_in = time.perf_counter() - started
        fsync_file(source)  # so that its writeback does not overlap the first measurements
        size = source.stat().st_size
        report.line(
            f"Assets: a {size / MB:,.1f} MB ({size / MIB:,.1f} MiB) MP4, {VIDEO_SECONDS} s of {VIDEO_SIZE} testsrc2 "
            f"with temporal noise, H.264 at {VIDEO_MBPS} Mb/s + AAC, made by the bundled ffmpeg in "
            f"{generated_in:.1f} s. {ROUNDS} rounds; the scenarios are interleaved within each round, in a rotating "
            "order."
        )
        bench = bench_organization_create(project_count=0, sample_size=0)
        try:
            environment = {
                "ASSET_STORAGE_BACKEND": "local",
                "ASSET_STORAGE_ROOT": str(storage_root),
                "DJANGO_ENV": os.environ.get("DJANGO_ENV", "development"),
            }
            with gunicorn(
                workers=WORKERS,
                root=root,
                log_path=results_dir / "gunicorn-assets.log",
                environment={**environment, "BENCH_ORGANIZATION_ID": bench.organization_id},
            ) as port:
                uploads, assets = measure_uploads(port, bench, source, storage_root)
            extraction = measure_extraction(root, bench, assets, environment)
        finally:
            bench_organization_delete(organization_id=bench.organization_id)
            with app.connection_for_write() as connection:
                for queue in QUEUES:
                    connection.default_channel.queue_purge(queue)
    report_uploads(report, uploads, size, server=web_command(root))
    report_extraction(report, extraction)


def generate_video(path):
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={VIDEO_SIZE}:rate=25",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", VIDEO_SECONDS,
        "-vf", NOISE,
        "-pix_fmt", "yuv420p",
        "-c:v", "libx264", "-preset", "ultrafast",
        "-b:v", f"{VIDEO_MBPS}M", "-maxrate", f"{VIDEO_MBPS}M", "-bufsize", f"{2 * VIDEO_MBPS}M",
        "-c:a", "aac", "-b:a", "64k",
        path,
    )


# Upload


@dataclass(frozen=True)
class UploadedAsset:
    asset_id: str
    path: Path  # the stored object, where the local backend keeps it


def measure_uploads(port, bench, source, storage_root):
    """ROUNDS rounds of: one PUT of `source` as a new asset, and one direct copy with and without fsync."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {bench.raw_key}"
    base = f"http://127.0.0.1:{port}"
    project = api(session, "POST", f"{base}/v1/projects", {"name": "Assets bench", "slug": "assets-bench"}, 201)
    server_pid = gunicorn_pid(port)
    # Only to find where the backend put each object; the server has its own instance.
    storage = LocalStorage(root=storage_root, base_url=base)
    runs = {PUT: Runs(), WRITE_FSYNC: Runs(), WRITE_NO_FSYNC: Runs()}
    uploaded = []

    def put():
        asset_id, transfer = upload(session, base, project["id"], source, server_pid, number=len(uploaded))
        uploaded.append(asset_id)
        return transfer

    copies = storage_root / "direct"
    copies.mkdir()
    scenarios = {
        PUT: put,
        WRITE_FSYNC: lambda: copy_direct(source, copies / f"{time.monotonic_ns()}", fsync=True),
        WRITE_NO_FSYNC: lambda: copy_direct(source, copies / f"{time.monotonic_ns()}", fsync=False),
    }
    names = list(scenarios)
    for round_number in range(ROUNDS):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            runs[name].items.append(scenarios[name]())
    with tenant_context(bench.organization_id):
        keys = dict(Asset.objects.filter(pk__in=uploaded).values_list("id", "storage_key"))
    return runs, [UploadedAsset(asset_id, storage.local_path(key=keys[asset_id])) for asset_id in uploaded]


def api(session, method, url, body, expected_status):
    response = session.request(method, url, json=body, timeout=REQUEST_TIMEOUT_SECONDS)
    if response.status_code != expected_status:
        raise RuntimeError(f"{method} {url} answered {response.status_code}: {response.text[:300]}")
    return response.json()


def upload(session, base, project_id, source, server_pid, *, number):
    """Create a video asset, PUT the file to its signed URL (timed), and complete the upload; returns its id."""
    size = source.stat().st_size
    created = api(
        session, "POST", f"{base}/v1/projects/{project_id}/assets",
        {"type": "video", "name": f"bench-{number}.mp4", "contentType": CONTENT_TYPE, "size": size}, 201,
    )
    signed = urlsplit(created["upload"]["url"])
    # The URL names PUBLIC_BASE_URL, which cannot know the port gunicorn got; only its path is signed.
    url = f"{base}{signed.path}" + (f"?{signed.query}" if signed.query else "")
    server_cpu, client_cpu, started = tree_cpu_seconds(server_pid), time.process_time(), time.perf_counter()
    with open(source, "rb") as body:
        # A plain requests call, not the session: the signed URL is the credential, the API key is not sent.
        response = requests.put(url, data=body, headers=created["upload"]["headers"], timeout=REQUEST_TIMEOUT_SECONDS)
    transfer = Transfer(
        seconds=time.perf_counter() - started,
        client_cpu=time.process_time() - client_cpu,
        server_cpu=tree_cpu_seconds(server_pid) - server_cpu,
    )
    if response.status_code != 201 or response.json().get("size") != size:
        raise RuntimeError(f"PUT {signed.path[:60]}… answered {response.status_code}: {response.text[:300]}")
    asset = api(session, "POST", f"{base}/v1/assets/{created['asset']['id']}/upload-complete", None, 200)
    if asset["status"] != "processing":
        raise RuntimeError(f"upload-complete left the asset {asset['status']}, not processing.")
    return asset["id"], transfer


def copy_direct(source, target, *, fsync):
    """Read and write the file in the backend's chunk size, as a new file kept until the run ends.

    Kept, like the uploaded objects: every scenario then writes into page-cache memory that no file used
    before, so none profits from pages another one just freed (on a VM, first-touched memory costs far
    more). Without `fsync`, the copy is fsynced after the clock stops, so that its writeback does not
    slow the next scenario down.
    """
    started, cpu = time.perf_counter(), time.process_time()
    with open(source, "rb") as reader, open(target, "wb") as out:
        for chunk in iter(partial(reader.read, CHUNK_SIZE), b""):
            out.write(chunk)
        out.flush()
        if fsync:
            os.fsync(out.fileno())
    transfer = Transfer(seconds=time.perf_counter() - started, client_cpu=time.process_time() - cpu)
    if not fsync:
        fsync_file(target)
    return transfer


def fsync_file(path):
    with open(path, "rb+") as file:
        os.fsync(file.fileno())


def gunicorn_pid(port):
    """The gunicorn master this process started on `port` (bench/server.py yields only the port)."""
    for child in psutil.Process().children():
        if f"127.0.0.1:{port}" in " ".join(child.cmdline()):
            return child.pid
    raise RuntimeError(f"No gunicorn child process serves port {port}.")


def report_uploads(report, runs, size, *, server):
    baseline = size / runs[WRITE_FSYNC].median("seconds") / MB
    rows = []
    for name, run in runs.items():
        rates = [size / item.seconds / MB for item in run.items]
        server_cpu = [item.server_cpu for item in run.items if item.server_cpu is not None]
        rows.append([
            name,
            len(run.items),
            f"{size / run.median('seconds') / MB:.0f}",
            f"{min(rates):.0f}-{max(rates):.0f}",
            f"{run.median('seconds'):.2f}",
            f"{run.median('client_cpu'):.2f}",
            f"{statistics.median(server_cpu):.2f}" if server_cpu else "-",
            f"{size / run.median('seconds') / MB / baseline:.2f}",
        ])
    report.line()
    report.line(
        f"Upload of the file, beside writing the same bytes to a file on the same disk from this process "
        f"({WORKERS} processes of: {server}; the PUT's server writes 1 MiB chunks and fsyncs, as the "
        "baseline does)"
    )
    report.table(
        ["scenario", "runs", "MB/s", "MB/s by round", "seconds", "client CPU s", "server CPU s", "÷ baseline"], rows
    )
    ratio = runs[WRITE_FSYNC].median("seconds") / runs[PUT].median("seconds")
    unsynced = runs[WRITE_NO_FSYNC].median("seconds") / runs[PUT].median("seconds")
    report.line(
        f"Ratio: the signed PUT moves {ratio:.2f}× the baseline's MB/s (1 : {1 / ratio:.1f}); {unsynced:.2f}× that "
        "of the copy without fsync. MB = 10^6 bytes; medians over the rounds. Client CPU: this process's; server "
        "CPU: the gunicorn tree's (master and workers). Every copy and upload is a new file kept until the end."
    )


# Extraction


def measure_extraction(root, bench, assets, environment):
    """ROUNDS rounds, one per uploaded asset: each baseline and asset_process once on that asset's stored file."""
    env = {**os.environ, **environment, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    runs = {name: Runs() for name in PROBE_MODES}
    names = list(PROBE_MODES)
    for round_number, asset in enumerate(assets):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            mode = PROBE_MODES[name]
            args = [bench.organization_id, asset.asset_id] if mode == "process" else [str(asset.path)]
            runs[name].items.append(probe(root, env, mode, args))
    return runs


def probe(root, env, mode, args):
    completed = subprocess.run(
        [sys.executable, "-m", "bench.asset_probe", mode, *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS, check=False,
    )
    # The processing run may log to stdout too; the probe's report is its last line.
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"asset_probe {mode} exited {completed.returncode}: {completed.stderr.strip()[-1500:]}")
    return Probe(**json.loads(lines[-1]))


def report_extraction(report, runs):
    base = runs[MEDIAINFO]
    base_peak = base.peak_rss_kib()
    rows = []
    for name, run in runs.items():
        peak = run.peak_rss_kib()
        before = run.median("rss_before_kib")
        seconds = [item.seconds for item in run.items]
        rows.append([
            name,
            len(run.items),
            f"{run.median('seconds'):.3f}",
            f"{min(seconds):.3f}-{max(seconds):.3f}",
            f"{run.median('cpu_seconds'):.3f}",
            f"{before / KIB:.1f}",
            f"{peak / KIB:.1f}",
            f"{(peak - before) / KIB:.1f}",
            f"{run.median('seconds') / base.median('seconds'):.1f}",
            f"{peak / base_peak:.2f}",
        ])
    report.line()
    report.line(
        "Metadata extraction of the same file, each run in a fresh process, on the stored object of one uploaded "
        "asset per round (in the page cache: just written). Time and CPU: the work only, without the "
        "process's start-up, imports or django.setup(); memory: VmRSS just before the work, and the process's peak "
        "(VmHWM)."
    )
    report.table(
        ["scenario", "runs", "seconds", "seconds by round", "CPU s", "RSS before MiB", "peak RSS MiB",
         "peak - before MiB", "time ÷ base", "peak ÷ base"],
        rows,
    )
    process = runs[PROCESS]
    stages = {stage: statistics.median(item.stages[stage] for item in process.items)
              for stage in process.items[0].stages}
    sha = runs[SHA_MEDIAINFO]
    report.line(
        "asset_process by stage (medians): "
        + ", ".join(f"{stage} {seconds:.3f} s" for stage, seconds in stages.items())
        + f". The baseline's own SHA-256 pass: {statistics.median(item.stages['sha256'] for item in sha.items):.3f} s."
    )
    time_ratio = process.median("seconds") / base.median("seconds")
    peak_ratio = process.peak_rss_kib() / base.peak_rss_kib()
    report.line(
        f"Ratios: asset_process takes {time_ratio:.1f}× the time of MediaInfo.parse alone "
        f"({process.median('seconds') / sha.median('seconds'):.2f}× the time of a SHA-256 pass plus MediaInfo.parse), "
        f"with {peak_ratio:.2f}× its peak RSS (most of it Django and the app, loaded before the work starts)."
    )
    report.line(check_extraction(runs))


def check_extraction(runs):
    """Every processing run must end ready, with the baseline's checksum and the same duration and size."""
    expected = runs[SHA_MEDIAINFO].items[0].result
    problems = []
    for item in runs[PROCESS].items:
        result = item.result
        if result["status"] != "ready":
            problems.append(f"a run ended {result['status']} ({result['error']})")
        elif result["checksum"] != expected["checksum"]:
            problems.append(f"checksum {result['checksum']} is not the baseline's {expected['checksum']}")
        elif [result[key] for key in ("durationMs", "width", "height")] != [
            int(expected[key]) for key in ("durationMs", "width", "height")
        ]:
            problems.append(f"metadata {result} differs from MediaInfo's {expected}")
    checksums = {item.result["checksum"] for item in runs[SHA_MEDIAINFO].items}
    if len(checksums) != 1:
        problems.append(f"the stored objects differ: {sorted(checksums)}")
    if problems:
        return "CHECK FAILED: " + "; ".join(problems) + "."
    result = runs[PROCESS].items[0].result
    return (
        f"Checked: all {len(runs[PROCESS].items)} processing runs ended ready with the baseline's SHA-256 "
        f"({expected['checksum'][:19]}…) and MediaInfo's {result['durationMs']} ms, "
        f"{result['width']}x{result['height']}."
    )
