"""Log records carry the request id and organization id of the work that wrote them.

Two formats (settings.LOG_FORMAT): JSON lines for production's log collectors, and one readable
line per record for a developer's terminal. Periodic housekeeping that found nothing to do logs at
DEBUG, so that at INFO the terminal shows requests, task outcomes and errors.
"""

import json
import logging
from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)

# What every LogRecord has; anything else on a record came from `extra=` or a filter.
_STANDARD_ATTRIBUTES = {*logging.makeLogRecord({}).__dict__, "message", "asctime", "taskName"}
# Celery's copy of what its message already says.
_HIDDEN_ATTRIBUTES = {"data"}
# How celery.app.trace renders a return value that reports no work done.
_NOTHING_DONE = {"0", "None", "[]", "{}", "()"}


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `organization_id` to every record."""

    def filter(self, record):
        from renderowl.tenancy import current_organization_id

        record.request_id = current_request_id.get()
        record.organization_id = current_organization_id.get()
        return True


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value …`: the record's context after its message, blanks left out."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S")

    def formatMessage(self, record):
        context = " ".join(
            f"{name}={_readable(value)}"
            for name, value in record.__dict__.items()
            if name not in _STANDARD_ATTRIBUTES and name not in _HIDDEN_ATTRIBUTES and value is not None
        )
        line = super().formatMessage(record)
        return f"{line} {context}" if context else line


def _readable(value):
    text = str(value)
    if not text or any(character.isspace() or character in "\"'=" for character in text):
        return json.dumps(text, ensure_ascii=False)
    return text


class QuietHousekeepingFilter(logging.Filter):
    """Moves Celery's routine INFO lines to DEBUG: beat's "sending due task", the worker's "task received",
    and "task succeeded" for a periodic task (one in CELERY_BEAT_SCHEDULE) that returned no work done.

    Attach it to the `celery.beat`, `celery.worker.strategy` and `celery.app.trace` loggers.
    """

    def filter(self, record):
        if record.levelno != logging.INFO or not self._routine(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)

    def _routine(self, record):
        if record.name in {"celery.beat", "celery.worker.strategy"}:
            return True
        data = getattr(record, "data", None)
        if not isinstance(data, dict) or "return_value" not in data:
            return False
        return data.get("name") in _periodic_task_names() and str(data["return_value"]) in _NOTHING_DONE


def _periodic_task_names():
    from django.conf import settings

    return {entry["task"] for entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).values()}
