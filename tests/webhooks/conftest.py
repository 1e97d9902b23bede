import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
def loopback(settings):
    """The development setting that lets webhooks reach receivers on this machine."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True


@pytest.fixture
def receiver(loopback):
    with Receiver() as running:
        yield running

