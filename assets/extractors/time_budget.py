"""A wall-clock budget for CPU-bound work on customer input, enforced by SIGALRM in the worker process.

A check between steps cannot stop one step that runs for hours (a validator walking a pathological
schema); a signal can, because Python runs its handler between two bytecodes of whatever is running.
Signals reach only the main thread, which is where Celery's prefork and solo pools run tasks. Anywhere
else (a thread pool, a test worker thread) the work runs without the budget, and a warning says so; the
task's own time limits still apply there.
"""

import logging
import signal
import threading
import time
from contextlib import contextmanager

logger = logging.getLogger(__name__)


class TimeBudgetExceeded(Exception):
    """The work inside `time_budget` ran past its budget and was interrupted."""


class _OutOfTime(BaseException):
    # A BaseException, so that no `except Exception` in library code can swallow the interruption.
    pass


# After the first alarm, more follow at this interval until the block ends: an exception raised where
# Python cannot propagate it (a weakref callback, a __del__) is dropped, and the next alarm lands elsewhere.
REFIRE_SECONDS = 0.1


def _expire(signum, frame):
    raise _OutOfTime


def _disarm():
    """Stop the alarm; one that goes off meanwhile is ignored, as the work is over."""
    while True:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        except _OutOfTime:  # delivered as setitimer returned: the interpreter runs handlers right after calls
            continue


@contextmanager
def time_budget(seconds: float):
    """Run the block for at most `seconds` (> 0) of wall time, else raise TimeBudgetExceeded."""
    if threading.current_thread() is not threading.main_thread():
        logger.warning("time budget of %s s not enforced: signals reach only the main thread", seconds)
        yield
        return
    previous_handler = signal.signal(signal.SIGALRM, _expire)
    started = time.monotonic()
    previous_delay = 0.0
    try:
        previous_delay, _ = signal.setitimer(signal.ITIMER_REAL, seconds, REFIRE_SECONDS)
        yield
    except _OutOfTime:
        raise TimeBudgetExceeded(f"the work ran past its budget of {seconds:g} s") from None
    finally:
        _disarm()  # before the previous handler is back: SIGALRM's default action ends the process
        signal.signal(signal.SIGALRM, previous_handler if previous_handler is not None else signal.SIG_DFL)
        if previous_delay:  # someone else's alarm was pending: give it back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(previous_delay - (time.monotonic() - started), 0.001))
