"""The Celery application: separate queues per kind of work, late acks, JSON only.

The organization a task acts for travels in the message header `organization_id`,
added at publish time from the current tenancy context, and every task runs inside
`tenant_context` for it (see TenantTask): one mechanism, never a task argument.
"""

import logging
import os

from celery import Celery, Task, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renderowl.settings")

# Each kind of work has its own queue and worker pool (Procfile); `schedules` carries only the periodic
# schedulers that beat sends, so a burst of renders, assets or events never delays them. `renders` only
# wakes renderers: the jobs wait in PostgreSQL, which orders them (renders.scheduling).
QUEUES = ("renders", "assets", "events", "webhooks", "automations", "schedules", "default")
ORGANIZATION_HEADER = "organization_id"

logger = logging.getLogger(__name__)


class TenantTask(Task):
    """Runs the task in the tenancy context of the organization that published it, if any.

    By default the whole task is one transaction in that context. A task that must not hold a
    transaction open (one that waits on the network) sets `tenant_transaction = False`: it then
    gets only the organization, and opens its own short `tenant_context` blocks.
    """

    tenant_transaction = True

    def __call__(self, *args, **kwargs):
        organization_id = (self.request.headers or {}).get(ORGANIZATION_HEADER) or getattr(
            self.request, ORGANIZATION_HEADER, None
        )
        if organization_id is None:
            return super().__call__(*args, **kwargs)
        from renderowl.tenancy import organization_scope, tenant_context

        scope = tenant_context if self.tenant_transaction else organization_scope
        with scope(organization_id):
            return super().__call__(*args, **kwargs)


app = Celery("renderowl", task_cls=TenantTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.autodiscover_tasks()


@signals.before_task_publish.connect
def _carry_organization(headers=None, **kwargs):
    """Stamp outgoing task messages with the publisher's organization."""
    from renderowl.tenancy import current_organization_id

    organization_id = current_organization_id.get()
    if organization_id and headers is not None and ORGANIZATION_HEADER not in headers:
        headers[ORGANIZATION_HEADER] = organization_id


def enqueue(task_name, *args, organization_id=None, queue=None):
    """Publish the task named `task_name` to run in `organization_id`'s tenancy context; False if refused.

    Tasks are named, not imported, so a service never imports its own app's task module. Only for
    work that a sweep recovers (outbox events, asset processing, leased deliveries): a broker outage
    is logged, not raised, because the state that asks for the work is already committed. `queue`
    overrides the task's route in CELERY_TASK_ROUTES.
    """
    headers = {ORGANIZATION_HEADER: str(organization_id)} if organization_id else {}
    if task_name not in app.tasks:  # a web process has not imported the apps' task modules yet
        app.loader.import_default_modules()
    task = app.tasks[task_name]  # a misspelt name fails here, loudly, not in a worker
    try:
        task.apply_async(args=args, headers=headers, **({"queue": queue} if queue else {}))
    except Exception:  # noqa: BLE001 - kombu and redis raise many types; the sweeps retry every one
        logger.warning("task not published; its sweep will retry", extra={"task": task_name}, exc_info=True)
        return False
    return True


def enqueue_on_commit(task_name, *args, organization_id=None, queue=None):
    """Publish the task once the current transaction commits, for the current (or given) organization."""
    from django.db import transaction

    from renderowl.tenancy import current_organization_id

    organization_id = organization_id or current_organization_id.get()

    def enqueue_committed():
        enqueue(task_name, *args, organization_id=organization_id, queue=queue)

    transaction.on_commit(enqueue_committed, robust=True)
