"""Webhook fan-out through the real Celery worker beside plain `requests.post` calls, in the same run.

1,000 events, each emitted in its own transaction, fan out to 5 endpoints on 5 local receivers: 5,000
signed deliveries. The baseline sends the same number of POSTs of event-sized JSON bodies to the same
receivers from this process, one `requests.Session`, one request after another. It runs once before the
worker starts and once after it stops; the ratio is taken against the mean of the two.
"""

import json
import os
import secrets
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import celery
import requests
from django.db.models import Count, Max
from django.test import override_settings
from django.utils import timezone
from djangorestframework_camel_case.util import camelize

from bench.receivers import receivers
from bench.seed import bench_organization_delete
from bench.worker import TreeMemory, celery_worker, tree_cpu_seconds
from events.models import Event
from events.services import event_emit
from organizations.services import organization_create
from projects.models import Project
from projects.services import project_create
from renderowl.api.renderers import PRESERVED_FIELDS
from renderowl.celery import app
from renderowl.tenancy import OWNER_DB_ALIAS, dangerously_bypass_tenancy, tenant_context
from webhooks.models import Attempt, Delivery
from webhooks.services import endpoint_create
from webhooks.verification import verify_webhook

EVENT_COUNT = 1_000
RECEIVER_COUNT = 5
DELIVERY_COUNT = EVENT_COUNT * RECEIVER_COUNT
# The Procfile's default (WORKER_CONCURRENCY=2), and the machine's core count on the reference machine.
WORKER_CONCURRENCY = 2
# The Procfile's `events:` worker order: attempts first, so deliveries never wait behind a burst of fan-outs.
WORKER_QUEUES = ("webhooks", "events")
WARMUP_EVENTS = 4
EVENT_TYPE = "render.completed"
# The timed run stops counting here, to keep the benchmark within its time budget (the report says so).
RUN_LIMIT_SECONDS = 90
WARMUP_TIMEOUT_SECONDS = 30
RECORDED_TIMEOUT_SECONDS = 30
BASELINE_TIMEOUT_SECONDS = 10
MIB = 1024 * 1024

BASELINE = "baseline: requests.Session().post, sequential"
SUBJECT = f"Celery worker (prefork, {WORKER_CONCURRENCY} processes)"


@dataclass(frozen=True)
class FanoutOrganization:
    organization_id: str
    project_id: str
    webhook_secret: str


@dataclass
class Run:
    deliveries: int
    seconds: float
    cpu_seconds: float = 0.0  # the sender's: the baseline's process, or the worker's process tree

    @property
    def cpu_ms_per_delivery(self):
        return self.cpu_seconds * 1000 / self.deliveries

    @property
    def per_second(self):
        return self.deliveries / self.seconds


@dataclass(kw_only=True)
class SubjectRun(Run):
    """The worker's run: `seconds` runs from the first emit to the last delivery counted in `deliveries`."""

    event_ids: list
    complete: bool
    emit_seconds: float
    first_delivery_seconds: float
    fanned_out: int = 0
    fan_out_seconds: float | None = None
    recorded_seconds: float | None = None


@dataclass(frozen=True)
class Check:
    """What the receivers got and the database recorded for the timed events, once the worker has stopped."""

    received: int
    distinct: int
    statuses: dict
    attempts: int


def run_webhook_fanout(report, *, root, results_dir):
    """Measure, print and keep (through `report`) the webhook fan-out section."""
    report.line()
    report.line(
        f"Webhook fan-out: {EVENT_COUNT:,} events (each emitted in its own transaction) to {RECEIVER_COUNT} "
        f"endpoints on {RECEIVER_COUNT} loopback receivers = {DELIVERY_COUNT:,} signed deliveries, through a "
        f"real Celery {celery.__version__} worker (-Q {','.join(WORKER_QUEUES)}, prefork, "
        f"-c {WORKER_CONCURRENCY}). Baseline: the same number of plain POSTs from this process."
    )
    load_before = os.getloadavg()[0]
    with receivers(count=RECEIVER_COUNT, root=root) as receiving:
        bench = fanout_organization_create(urls=receiving.urls)
        try:
            bodies = baseline_bodies(bench)
            baselines = [run_baseline(receiving, bodies)]
            environment = {
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "DJANGO_ENV": os.environ.get("DJANGO_ENV", "development"),
                "OUTBOUND_ALLOW_LOOPBACK": "true",
            }
            with celery_worker(
                app=app,
                queues=WORKER_QUEUES,
                concurrency=WORKER_CONCURRENCY,
                root=root,
                log_path=results_dir / "worker.log",
                environment=environment,
            ) as worker, TreeMemory(worker.pid) as memory:
                idle = memory.sample()
                warm_up(receiving, bench)
                cpu_before = tree_cpu_seconds(worker.pid)
                subject = run_subject(receiving, bench)
                subject.cpu_seconds = tree_cpu_seconds(worker.pid) - cpu_before
            check = check_deliveries(receiving, bench, subject)
            baselines.append(run_baseline(receiving, bodies))
        finally:
            bench_organization_delete(organization_id=bench.organization_id)
    report_fanout(
        report, baselines, subject, check, idle, memory, worker,
        body_bytes=statistics.mean(map(len, bodies)), load=(load_before, os.getloadavg()[0]),
    )


def fanout_organization_create(*, urls):
    """An organization with one project and one endpoint (no filters) per receiver URL."""
    with dangerously_bypass_tenancy(reason="bench: seed webhook organization"):
        organization = organization_create(name="Renderowl webhook bench", slug=f"bench-{secrets.token_hex(6)}")
    try:
        # The registration check refuses loopback unless allowed; the worker gets the same permission.
        with tenant_context(organization.id), override_settings(OUTBOUND_ALLOW_LOOPBACK=True):
            project = project_create(organization=organization, name="Webhook bench")
            for url in urls:
                endpoint_create(organization=organization, url=url)
    except BaseException:
        bench_organization_delete(organization_id=str(organization.id))
        raise
    return FanoutOrganization(str(organization.id), project.id, project.webhook_secret)


def render_data(number):
    """What a render.completed event carries: a render job's API representation, about 700 bytes."""
    created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=number)
    job_id = f"rnd_{secrets.token_hex(12)}"
    return {
        "id": job_id,
        "status": "completed",
        "priority": "normal",
        "template_id": "tpl_5f2b8c0d9e1a4b3c",
        "input_props": {"title": f"Weekly recap #{number}", "subtitle": "Renderowl", "accent_color": "#ff6a00"},
        "output": {"format": "mp4", "codec": "h264", "width": 1920, "height": 1080, "fps": 30},
        "progress": 1.0,
        "duration_seconds": 42.5,
        "output_url": f"https://storage.example.com/renders/{job_id}.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Expires=3600&X-Amz-Signature={secrets.token_hex(32)}",
        "error": None,
        "metadata": {"campaign": "bench", "sequence": number},
        "created_at": created.isoformat(),
        "started_at": (created + timedelta(seconds=2)).isoformat(),
        "completed_at": (created + timedelta(seconds=44)).isoformat(),
    }


def baseline_bodies(bench):
    """Event bodies built as `event_emit` builds them (camelized, compact), one per event."""
    bodies = []
    for number in range(EVENT_COUNT):
        body = {
            "id": f"evt_{secrets.token_hex(12)}",
            "type": EVENT_TYPE,
            "created_at": timezone.now().isoformat().replace("+00:00", "Z"),
            "organization_id": bench.organization_id,
            "project_id": bench.project_id,
            "data": {"object": render_data(number)},
        }
        bodies.append(
            json.dumps(camelize(body, ignore_fields=PRESERVED_FIELDS), separators=(",", ":"), default=str).encode()
        )
    return bodies


def run_baseline(receiving, bodies):
    """DELIVERY_COUNT POSTs, each event to every receiver in turn, over one Session, one after another."""
    receiving.reset()
    headers = {"Content-Type": "application/json"}
    with requests.Session() as session:
        started, cpu_started = time.monotonic(), time.process_time()
        for number in range(DELIVERY_COUNT):
            body = bodies[number // RECEIVER_COUNT]
            url = receiving.urls[number % RECEIVER_COUNT]
            response = session.post(url, data=body, headers=headers, timeout=BASELINE_TIMEOUT_SECONDS)
            if response.status_code != 200:
                raise RuntimeError(f"POST {url} answered {response.status_code}")
        elapsed, cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started
    received = receiving.count()
    if received != DELIVERY_COUNT:
        raise RuntimeError(f"The receivers counted {received:,} baseline requests; expected {DELIVERY_COUNT:,}.")
    return Run(deliveries=DELIVERY_COUNT, seconds=elapsed, cpu_seconds=cpu_seconds)


def emit_events(bench, count):
    """Emit `count` events, each in its own transaction like a real state change; returns their ids."""
    with tenant_context(bench.organization_id):
        project = Project.objects.get(pk=bench.project_id)
    event_ids = []
    for number in range(count):
        with tenant_context(bench.organization_id):
            event_ids.append(event_emit(
                type=EVENT_TYPE, organization_id=project.organization_id, project_id=project.id, data=render_data(number)
            ).id)
    return event_ids


def warm_up(receiving, bench):
    """A few events first, untimed: the pool processes open their database, broker and HTTP connections."""
    receiving.reset()
    event_ids = emit_events(bench, WARMUP_EVENTS)
    expected = WARMUP_EVENTS * RECEIVER_COUNT
    if not receiving.wait_for(expected, timeout=WARMUP_TIMEOUT_SECONDS):
        raise RuntimeError(f"Warm-up: {receiving.count()} of {expected} deliveries arrived; see worker.log.")
    if wait_until_recorded(event_ids, expected, timeout=WARMUP_TIMEOUT_SECONDS) is None:
        raise RuntimeError(f"Warm-up: the worker did not record the outcome of {expected} deliveries; see worker.log.")


def run_subject(receiving, bench):
    """Emit EVENT_COUNT events and time from the first emit until the receivers count DELIVERY_COUNT requests.

    A run that has not finished when RUN_LIMIT_SECONDS have passed is cut short: its rate is what was
    delivered by then, and the report says so.
    """
    receiving.reset()
    started = time.monotonic()
    started_at = timezone.now()
    event_ids = emit_events(bench, EVENT_COUNT)
    emit_seconds = time.monotonic() - started
    complete = receiving.wait_for(DELIVERY_COUNT, timeout=started + RUN_LIMIT_SECONDS - time.monotonic())
    times = sorted(receiving.stats()["times"])
    if not times:
        raise RuntimeError(f"No delivery arrived within {RUN_LIMIT_SECONDS} s; see bench/results/worker.log.")
    counted = times[:DELIVERY_COUNT]
    run = SubjectRun(
        deliveries=len(counted),
        seconds=counted[-1] - started,
        event_ids=event_ids,
        complete=complete,
        emit_seconds=emit_seconds,
        first_delivery_seconds=counted[0] - started,
    )
    if complete:
        recorded = wait_until_recorded(event_ids, DELIVERY_COUNT, timeout=RECORDED_TIMEOUT_SECONDS)
        run.recorded_seconds = None if recorded is None else recorded - started
    fanned_out = Event.objects.using(OWNER_DB_ALIAS).filter(pk__in=event_ids, published_at__isnull=False)
    run.fanned_out = fanned_out.count()
    if run.fanned_out:
        run.fan_out_seconds = (fanned_out.aggregate(last=Max("published_at"))["last"] - started_at).total_seconds()
    return run


def wait_until_recorded(event_ids, expected, *, timeout):
    """Wait until the worker has recorded an outcome for `expected` deliveries; returns when (monotonic), or None."""
    deadline = time.monotonic() + timeout
    deliveries = Delivery.objects.using(OWNER_DB_ALIAS).filter(event_id__in=event_ids)
    while time.monotonic() < deadline:
        if deliveries.exclude(status=Delivery.Status.PENDING).count() >= expected:
            return time.monotonic()
        time.sleep(0.05)
    return None


def check_deliveries(receiving, bench, subject):
    """Once the worker has stopped: every request received is one recorded success, none twice, all signed."""
    stats = receiving.stats()
    deliveries = Delivery.objects.using(OWNER_DB_ALIAS).filter(event_id__in=subject.event_ids)
    statuses = dict(deliveries.values_list("status").annotate(count=Count("id")).order_by())
    attempts = Attempt.objects.using(OWNER_DB_ALIAS).filter(delivery__event_id__in=subject.event_ids).count()
    request = stats["last_request"]
    verify_webhook(request["body"], request["headers"], secret=bench.webhook_secret)  # raises unless genuine
    check = Check(received=stats["count"], distinct=stats["distinct"], statuses=statuses, attempts=attempts)
    succeeded = statuses.get(Delivery.Status.SUCCEEDED, 0)
    if not (check.received == check.distinct == succeeded == attempts):
        raise RuntimeError(
            f"The receivers got {check.received:,} requests ({check.distinct:,} distinct), but the database records "
            f"{succeeded:,} succeeded deliveries and {attempts:,} attempts."
        )
    if subject.complete and succeeded != DELIVERY_COUNT:
        raise RuntimeError(f"{succeeded:,} deliveries succeeded; expected {DELIVERY_COUNT:,}.")
    return check


def report_fanout(report, baselines, subject, check, idle, memory, worker, *, body_bytes, load):
    baseline_rate = statistics.mean(run.per_second for run in baselines)
    ratio = subject.per_second / baseline_rate
    subject_name = SUBJECT if subject.complete else f"{SUBJECT}, CUT SHORT at {RUN_LIMIT_SECONDS} s"
    rows = [
        [name, f"{run.deliveries:,}", f"{run.seconds:.2f}", f"{run.per_second:.0f}",
         f"{run.per_second / baseline_rate:.3f}", f"{run.cpu_ms_per_delivery:.2f}"]
        for name, run in [
            (f"{BASELINE}, before the worker", baselines[0]),
            (f"{BASELINE}, after the worker", baselines[1]),
            (subject_name, subject),
        ]
    ]
    report.line(
        f"Bodies: event JSON, {body_bytes:.0f} bytes on average. The worker's time runs from the first emit to the "
        f"last delivery counted, as the receivers saw it arrive."
    )
    report.table(["scenario", "deliveries", "seconds", "deliveries/s", "÷ baseline mean", "sender CPU ms each"], rows)
    report.line(
        "Sender CPU: the baseline process's own CPU time, or the worker tree's (fan-out included); neither counts "
        "PostgreSQL, Redis or the receivers."
    )
    report.line(f"Ratio: the worker delivers {ratio:.3f}× the baseline's rate (1 : {1 / ratio:.1f}).")
    report.results.ratio(
        "webhook_delivery",
        ratio,
        range=[round(subject.per_second / max(run.per_second for run in baselines), 3),
               round(subject.per_second / min(run.per_second for run in baselines), 3)],
        deliveries_per_second=round(subject.per_second, 1),
        baseline_per_second=round(baseline_rate, 1),
        complete=subject.complete,
    )
    report.results.value("webhook_cpu_ms_per_delivery", subject.cpu_ms_per_delivery)
    report.results.value(
        "webhook_worker_peak_pss_mib", memory.peak.pss_bytes / MIB, rss_mib=round(memory.peak.rss_bytes / MIB, 1)
    )
    if not subject.complete:
        report.line(
            f"INCOMPLETE: {subject.deliveries:,} of {DELIVERY_COUNT:,} deliveries arrived within the "
            f"{RUN_LIMIT_SECONDS} s limit; the rate is over those. {worker.purged:,} task messages were still queued "
            "when the worker stopped and were purged."
        )
    timeline = [
        f"first delivery at {subject.first_delivery_seconds * 1000:.0f} ms",
        f"{EVENT_COUNT:,} events emitted and committed by {subject.emit_seconds:.2f} s "
        f"({EVENT_COUNT / subject.emit_seconds:.0f}/s)",
    ]
    if subject.fanned_out == EVENT_COUNT:
        timeline.append(f"last fan-out at {subject.fan_out_seconds:.2f} s")
    else:
        timeline.append(f"{subject.fanned_out:,} of the events fanned out by then")
    timeline.append(f"{subject.deliveries:,}th delivery received at {subject.seconds:.2f} s")
    if subject.recorded_seconds is not None:
        timeline.append(f"every outcome recorded by {subject.recorded_seconds:.2f} s")
    report.line("Worker timeline from the first emit: " + "; ".join(timeline) + ".")
    statuses = ", ".join(f"{count:,} {status}" for status, count in sorted(check.statuses.items()))
    report.line(
        f"Checked after the worker stopped: the receivers got {check.received:,} requests, {check.distinct:,} "
        f"distinct (receiver, event id) pairs; the database holds {statuses} deliveries and {check.attempts:,} "
        "attempts; the last request's signature verifies with the project's secret."
    )
    report.line(
        f"Machine load average (1 min): {load[0]:.2f} before this benchmark, {load[1]:.2f} after it, on "
        f"{os.cpu_count()} CPUs. The worker, PostgreSQL, Redis, the receivers and this process share them."
    )
    report.line()
    report.line(
        f"Worker memory: its process tree (main process + {WORKER_CONCURRENCY} pool processes), sampled every "
        f"{memory.interval:g} s from start to stop ({memory.samples:,} samples)"
    )
    report.table(
        ["", "processes", "RSS sum MiB", "PSS sum MiB"],
        [
            ["idle, once started", idle.processes, f"{idle.rss_bytes / MIB:.1f}", f"{idle.pss_bytes / MIB:.1f}"],
            ["peak, warm-up and run", memory.peak.processes, f"{memory.peak.rss_bytes / MIB:.1f}",
             f"{memory.peak.pss_bytes / MIB:.1f}"],
        ],
    )
    report.line(
        "RSS counts the pages the pool processes share with the main process once per process; PSS divides them "
        "among their sharers."
    )
