"""The progress throttle: at most one render.progress per tenth of the way or per five seconds, and always the end;
and the lease that progress renews."""

from django.conf import settings

from renders.rendering import ProgressThrottle


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_is_reported_every_tenth_or_every_five_seconds_and_at_the_end():
    clock = Clock()
    throttle = ProgressThrottle(clock=clock)

    assert [throttle.due(f) for f in (0.02, 0.05, 0.09)] == [False, False, False]
    assert throttle.due(0.1)
    assert not throttle.due(0.15)
    clock.now += 4.9
    assert not throttle.due(0.16)
    clock.now += 0.1
    assert throttle.due(0.17)
    assert throttle.due(1.0)


def test_the_same_fraction_again_is_never_reported_however_long_after():
    clock = Clock()
    throttle = ProgressThrottle(clock=clock)

    clock.now += 60
    assert not throttle.due(0.0)  # an engine's heartbeat while it downloads: it only renews the lease
    assert throttle.due(0.01)
    clock.now += 60
    assert not throttle.due(0.01)
    assert throttle.due(1.0)


def test_by_default_a_render_whose_worker_died_is_taken_up_again_within_three_minutes():
    # Its lease lapses RENDER_LEASE_SECONDS after the last progress at most, and beat's reaper looks this often.
    reaper_interval = settings.CELERY_BEAT_SCHEDULE["reap-lost-renders"]["schedule"]
    assert settings.RENDER_LEASE_SECONDS + reaper_interval <= 3 * 60
