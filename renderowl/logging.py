"""Log records carry the request id and organization id of the work that wrote them."""

import logging
from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `organization_id` to every record."""

    def filter(self, record):
        from renderowl.tenancy import current_organization_id

        record.request_id = current_request_id.get()
        record.organization_id = current_organization_id.get()
        return True
