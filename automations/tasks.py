"""Celery entry points for automations, on the `automations` queue (CELERY_TASK_ROUTES)."""

from celery import shared_task

from automations.firing import automation_run_execute, automation_schedule_tick
from automations.schedules import schedules_reconcile


@shared_task(name="automations.run_automation_task")
def run_automation_task(run_id):
    """Execute a pending run: map its payload and submit the render; a second run of the task changes nothing."""
    run = automation_run_execute(run_id=run_id)
    return None if run is None else run.status


@shared_task(name="automations.schedule_tick_task")
def schedule_tick_task(automation_id):
    """Beat, per schedule trigger (its PeriodicTask carries the organization header): one run per cron tick."""
    run = automation_schedule_tick(automation_id=automation_id)
    return None if run is None else run.id


@shared_task(name="automations.reconcile_schedules_task")
def reconcile_schedules_task():
    """Beat: repair schedule triggers' PeriodicTasks that a crash left out of step with their automations."""
    return schedules_reconcile()
