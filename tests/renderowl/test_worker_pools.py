"""One worker pool per kind of work: queues, routes and beat's schedule agree with the Procfile and compose."""

import os
import shlex
import signal
import subprocess
import time
import uuid

import yaml
from django.conf import settings

from renderowl.celery import QUEUES, app
from renderowl.redis import get_redis
from tests.renderowl.worker_tasks import record_execution

# The final task names and the queue each one belongs on.
ROUTED = {
    "events.publish_event_task": "events",
    "webhooks.deliver_task": "webhooks",
    "webhooks.deliver_batch_task": "webhooks",
    "assets.process_asset_task": "assets",
    "renders.render_next_task": "renders",
    "assets.delete_stored_objects_task": "assets",
    "assets.sweep_orphaned_objects_task": "assets",
    "events.sweep_unpublished_events_task": "schedules",
    "events.prune_events_task": "schedules",
    "webhooks.dispatch_due_deliveries_task": "schedules",
    "assets.sweep_stale_processing_task": "schedules",
    "assets.sweep_object_deletions_task": "schedules",
    "assets.expire_pending_uploads_task": "schedules",
    "assets.queue_orphaned_objects_sweep_task": "schedules",
    "renderowl.prune_idempotency_records_task": "schedules",
    "projects.clear_expired_previous_secrets_task": "schedules",
    "renders.reap_lost_renders_task": "schedules",
    "renders.expire_render_outputs_task": "schedules",
    "renders.wake_renderers_task": "schedules",
    "automations.run_automation_task": "automations",
    # Sent by beat from each schedule trigger's own PeriodicTask (automations.schedules), not CELERY_BEAT_SCHEDULE.
    "automations.schedule_tick_task": "automations",
    "automations.reconcile_schedules_task": "schedules",
}


def procfile():
    """{process name: command} from the Procfile."""
    lines = (settings.BASE_DIR / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def worker_queues(argv):
    """The -Q list of a `celery worker` command line, in order; None for anything else."""
    if argv[:4] != ["celery", "-A", "renderowl", "worker"]:
        return None
    return argv[argv.index("-Q") + 1].split(",")


def procfile_pools():
    return {
        name: queues for name, command in procfile().items() if (queues := worker_queues(shlex.split(command)))
    }


def queue_of(task_name):
    return app.amqp.router.route({}, task_name)["queue"].name


def test_each_queue_is_drained_by_exactly_one_pool_deliveries_first():
    pools = procfile_pools()
    assert set(pools) == {"renders", "assets", "events", "automations", "schedules"}
    consumed = [queue for queues in pools.values() for queue in queues]
    assert sorted(consumed) == sorted(QUEUES)  # every queue once: none forgotten, none shared
    assert pools["renders"] == ["renders"]  # wake-ups only: the scheduler orders the jobs in PostgreSQL
    assert pools["schedules"] == ["schedules"]
    assert pools["automations"] == ["automations"]  # firings never wait behind deliveries, nor delay them
    assert pools["events"][:2] == ["webhooks", "events"]  # deliveries before new fan-outs
    assert app.conf.broker_transport_options["queue_order_strategy"] == "priority"


def test_each_pool_has_its_own_node_name_and_concurrency_variable():
    for name, command in procfile().items():
        argv = shlex.split(command)
        if worker_queues(argv):
            assert argv[argv.index("-n") + 1] == f"{name}@%h"
            assert argv[argv.index("--concurrency") + 1].startswith(f"${{{name.upper()}_CONCURRENCY:-")


def test_compose_runs_the_same_pools_as_the_procfile():
    compose = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())
    pools = {
        name: queues
        for name, service in compose["services"].items()
        if isinstance(service.get("command"), list) and (queues := worker_queues(service["command"]))
    }
    assert pools == procfile_pools()
    beats = [name for name, service in compose["services"].items() if service.get("command", [])[3:4] == ["beat"]]
    assert beats == ["beat"]


def test_tasks_are_routed_to_their_pools_queue():
    assert {name: queue_of(name) for name in ROUTED} == ROUTED


def test_every_scheduled_task_runs_on_the_schedules_queue():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {entry["task"] for entry in schedule.values()} == {
        name for name, queue in ROUTED.items() if queue == "schedules"
    }
    assert "automations.schedule_tick_task" not in {entry["task"] for entry in schedule.values()}
    assert {key: queue_of(entry["task"]) for key, entry in schedule.items()} == dict.fromkeys(schedule, "schedules")
    # The keys name django-celery-beat's rows: kept, so a deployment updates its rows in place.
    assert set(schedule) == {
        "prune-idempotency-records",
        "clear-expired-previous-webhook-secrets",
        "reap-lost-renders",
        "expire-render-outputs",
        "wake-renderers",
        "dispatch-due-webhook-deliveries",
        "sweep-unpublished-events",
        "sweep-stale-asset-processing",
        "sweep-asset-object-deletions",
        "expire-pending-asset-uploads",
        "sweep-orphaned-asset-objects",
        "prune-webhook-history",
        "reconcile-automation-schedules",
    }
    assert schedule["dispatch-due-webhook-deliveries"]["schedule"] == settings.WEBHOOK_DISPATCH_INTERVAL_SECONDS


def wait_for_length(key, length, worker, timeout=60):
    deadline = time.monotonic() + timeout
    while get_redis().llen(key) < length:
        assert worker.poll() is None, "the worker exited"
        assert time.monotonic() < deadline, f"the worker ran {get_redis().llen(key)} of {length} tasks in {timeout}s"
        time.sleep(0.05)


def test_the_events_pool_drains_its_queues_in_order_whatever_arrived_first():
    key = f"test:queue-order:{uuid.uuid4()}"
    with app.connection_for_write() as connection:
        for queue in procfile_pools()["events"]:
            connection.default_channel.queue_purge(queue)
    # Queued while no events worker runs, oldest first: the default queue, then events, then two webhook deliveries.
    for label, queue in [("default-1", "default"), ("events-1", "events"),
                         ("events-2", "events"), ("webhooks-1", "webhooks"), ("webhooks-2", "webhooks")]:
        record_execution.apply_async(args=[key, label], queue=queue)

    # The Procfile's own command line, one process (so prefetch is one message), plus the test task.
    command = procfile()["events"] + " --include tests.renderowl.worker_tasks --loglevel WARNING"
    worker = subprocess.Popen(
        ["sh", "-c", f"exec {command}"],
        env={**os.environ, "DJANGO_ENV": "test", "EVENTS_CONCURRENCY": "1"},
        cwd=settings.BASE_DIR,
    )
    try:
        wait_for_length(key, 5, worker)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()

    order = [label.decode() for label in get_redis().lrange(key, 0, -1)]
    # Round robin would have run webhooks-1, events-1, default-1, webhooks-2, events-2.
    assert order == ["webhooks-1", "webhooks-2", "events-1", "events-2", "default-1"]
