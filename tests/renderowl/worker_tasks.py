"""Test-only tasks for workers started as separate processes (`celery worker --include tests.renderowl.worker_tasks`)."""

from renderowl.celery import app
from renderowl.redis import get_redis


@app.task(name="tests.record_execution")
def record_execution(key, label):
    """Appends `label` to the Redis list `key`: the list is the order in which the worker ran the tasks."""
    get_redis().rpush(key, label)
    get_redis().expire(key, 300)
