"""The wall-clock budget for CPU-bound work: interrupted past it, the worker's own alarm left as it was."""

import logging
import signal
import threading

import pytest

from assets.extractors.time_budget import TimeBudgetExceeded, time_budget


def spin_forever():
    while True:
        pass


def test_work_past_the_budget_is_interrupted_and_the_alarm_put_back():
    with pytest.raises(TimeBudgetExceeded, match="budget of 0.05 s"):
        with time_budget(0.05):
            spin_forever()
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_inner_budget_gives_the_outer_one_back():
    with pytest.raises(TimeBudgetExceeded, match="budget of 60 s"):
        with time_budget(60):
            with pytest.raises(TimeBudgetExceeded, match="budget of 0.05 s"):
                with time_budget(0.05):
                    spin_forever()
            remaining, _ = signal.getitimer(signal.ITIMER_REAL)
            assert 0 < remaining <= 60
            signal.setitimer(signal.ITIMER_REAL, 0.05)  # the outer budget, hurried along
            spin_forever()
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_outside_the_main_thread_the_work_runs_unbounded_and_says_so(caplog):
    finished = []

    def work():
        with time_budget(0.05):
            finished.append(sum(range(1000)))

    with caplog.at_level(logging.WARNING, logger="assets.extractors.time_budget"):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert finished == [499500]
    assert "time budget of 0.05 s not enforced: signals reach only the main thread" in caplog.text
