import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
def loopback(settings):
    """The development setting that lets webhooks reach receivers on this machine."""
    settings.WEBHOOKS_ALLOW_LOOPBACK = True


@pytest.fixture
def receiver(loopback):
    with Receiver() as running:
        yield running


@pytest.fixture
def worked(django_capture_on_commit_callbacks):
    """`worked(lambda: client.post(...))`: the request, then at once the tasks it queued on commit.

    A test send or retry only queues its attempt for a webhooks worker; here Celery's eager mode runs
    that task in the test's thread as soon as the request has committed, so a test can read the outcome.
    """
    from renderowl.celery import app

    def run(request):
        app.conf.task_always_eager = True
        try:
            with django_capture_on_commit_callbacks(execute=True):
                return request()
        finally:
            app.conf.task_always_eager = False

    return run
