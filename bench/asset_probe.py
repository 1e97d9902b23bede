"""One measured run of asset metadata work in a process of its own, so that its peak memory is its own.

    python -m bench.asset_probe mediainfo PATH               # baseline: pymediainfo alone, no Django
    python -m bench.asset_probe sha256+mediainfo PATH        # baseline: a SHA-256 pass, then pymediainfo
    python -m bench.asset_probe process ORGANIZATION_ID ASSET_ID   # assets.processing.asset_process

Prints one JSON object: the work's wall and CPU seconds (interpreter start-up, imports and Django setup
excluded), the resident memory just before the work (VmRSS) and the process's peak (VmHWM), both from
/proc/self/status. VmHWM belongs to this process's own address space; `ru_maxrss` would not do, as Linux
carries the parent's peak over into it across fork and exec. The baselines import neither Django nor
any app module.
"""

import hashlib
import json
import sys
import time
from functools import partial

CHUNK = 1024 * 1024  # what assets.processing reads the stored object in


def memory_kib():
    """(VmRSS, VmHWM) of this process, in KiB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for chunk in iter(partial(source.read, CHUNK), b""):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def media_summary(info):
    general, video = info.general_tracks[0], (info.video_tracks or [None])[0]
    return {
        "durationMs": general.duration,
        "width": video and video.width,
        "height": video and video.height,
        "bitrate": general.overall_bit_rate,
    }


def mediainfo(path, *, with_sha256):
    """Returns (the work, a function that describes its outcome afterwards)."""
    from pymediainfo import MediaInfo

    stages, result = {}, {}

    def work():
        if with_sha256:
            started = time.perf_counter()
            result["checksum"] = sha256_file(path)
            stages["sha256"] = time.perf_counter() - started
        started = time.perf_counter()
        result["info"] = MediaInfo.parse(path)
        stages["mediainfo"] = time.perf_counter() - started

    def describe():
        summary = media_summary(result.pop("info"))
        return stages, {**result, **summary}

    return work, describe


def process(organization_id, asset_id):
    """Returns (one asset_process run, a function that describes its outcome afterwards).

    The run's extraction step is timed apart; the rest is the claim, the SHA-256 pass and the record.
    """
    import os

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from assets import processing
    from assets.models import Asset
    from renderowl.tenancy import tenant_context

    marks = {}
    extract = processing.extract

    def timed_extract(asset, path):
        marks["extract_started"] = time.perf_counter()
        try:
            return extract(asset, path)
        finally:
            marks["extract_ended"] = time.perf_counter()

    # A module-level name that asset_process looks up at call time: this measures what runs, changing nothing.
    processing.extract = timed_extract

    def work():
        marks["started"] = time.perf_counter()
        marks["status"] = processing.asset_process(organization_id=organization_id, asset_id=asset_id)
        marks["ended"] = time.perf_counter()

    def describe():
        stages = {
            "claim+sha256": marks["extract_started"] - marks["started"],
            "extract_metadata": marks["extract_ended"] - marks["extract_started"],
            "record+event": marks["ended"] - marks["extract_ended"],
        }
        with tenant_context(organization_id):
            asset = Asset.objects.get(pk=asset_id)
        metadata = asset.metadata or {}
        result = {"status": marks["status"], "checksum": asset.checksum, "error": asset.error}
        result.update({key: metadata.get(key) for key in ("durationMs", "width", "height", "bitrate")})
        return stages, result

    return work, describe


def main(argv):
    mode, *args = argv
    if mode == "process":
        work, describe = process(*args)
    elif mode in ("mediainfo", "sha256+mediainfo"):
        work, describe = mediainfo(args[0], with_sha256=mode == "sha256+mediainfo")
    else:
        raise SystemExit(f"Unknown mode {mode!r}.")
    rss_before, _ = memory_kib()
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    _, peak = memory_kib()
    stages, result = describe()
    print(json.dumps({
        "seconds": wall, "cpu_seconds": cpu, "rss_before_kib": rss_before, "peak_rss_kib": peak,
        "stages": stages, "result": result,
    }, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
