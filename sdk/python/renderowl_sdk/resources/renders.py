"""Renders: submit, dry run, get, list, cancel, wait with progress, follow the event stream, download."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

import httpx

from .. import _errors
from .. import _models as m
from .._pagination import Page
from .._sse import parse_events
from ._common import NOT_GIVEN, Resource, body

FINAL_RENDER_STATUSES = ("completed", "failed", "cancelled")
STREAM_READ_TIMEOUT = 60.0  # the server sends a keepalive comment every 15 s


def _until(lines, deadline, render_id):
    """The stream's lines, ending in WaitTimeoutError once `deadline` (monotonic) has passed."""
    for line in lines:
        if deadline is not None and time.monotonic() > deadline:
            raise _errors.WaitTimeoutError(f"Render {render_id} did not finish in time.", code="wait_timeout")
        yield line


class Renders(Resource):
    def submit(self, project_id: str, *, template_id: str, input_props: dict[str, Any] = NOT_GIVEN,
               output: dict[str, Any] = NOT_GIVEN, priority: str = NOT_GIVEN, webhook_url: str = NOT_GIVEN,
               metadata: dict[str, Any] = NOT_GIVEN, idempotency_key: str | None = None) -> m.RenderJob:
        """Queue a render of a ready template asset with `input_props`; `output` e.g. {"format": "mp4"}."""
        return self._client.request(
            "projects_renders_create", path={"projectId": project_id},
            body=body(template_id=template_id, input_props=input_props, output=output, priority=priority,
                      webhook_url=webhook_url, metadata=metadata),
            idempotency_key=idempotency_key,
        )

    def dry_run(self, project_id: str, *, template_id: str, input_props: dict[str, Any] = NOT_GIVEN,
                output: dict[str, Any] = NOT_GIVEN, priority: str = NOT_GIVEN, webhook_url: str = NOT_GIVEN,
                metadata: dict[str, Any] = NOT_GIVEN) -> m.RenderJob:
        """Validate a submission completely and return the job it would create; nothing is stored."""
        return self._client.request(
            "projects_renders_create", path={"projectId": project_id}, query={"dryRun": True},
            body=body(template_id=template_id, input_props=input_props, output=output, priority=priority,
                      webhook_url=webhook_url, metadata=metadata),
        )

    def get(self, render_id: str) -> m.RenderJobWithOutput:
        """The job; once completed, `output_url` is a freshly signed download URL."""
        return self._client.request("renders_retrieve", path={"renderId": render_id})

    def list(self, project_id: str, *, status: str | None = None, template_id: str | None = None,
             limit: int | None = None, sort: str | None = None, cursor: str | None = None) -> Page[m.RenderJob]:
        return self._client.paginate("projects_renders_list", path={"projectId": project_id}, status=status,
                                     templateId=template_id, limit=limit, sort=sort, cursor=cursor)

    def cancel(self, render_id: str) -> m.RenderJobWithOutput:
        """Cancel a pending or queued job (ConflictError `render_not_cancellable` otherwise)."""
        return self._client.request("renders_destroy", path={"renderId": render_id})

    def stream(self, render_id: str, *, last_event_id: str | None = None,
               timeout: float | None = None) -> Iterator[m.RenderJobWithOutput]:
        """Follow the job's Server-Sent Events: its current state, then each change, ending after a final
        status. Reconnects (resuming after the last event) when the server closes the stream early.
        With `timeout`, WaitTimeoutError once that many seconds pass (noticed within the server's 15 s
        keepalive)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        reconnects = 0  # connections in a row that broke or ended without a new event
        while True:
            headers = {"Last-Event-ID": last_event_id, "Accept": "text/event-stream"}
            try:
                with self._client.stream("renders_events_retrieve", path={"renderId": render_id},
                                         headers=headers) as response:
                    if response.status_code == 204:
                        return  # nothing after the last event: the job had already finished
                    reconnects += 1
                    for event in parse_events(_until(response.iter_lines(), deadline, render_id)):
                        if not event.data:
                            last_event_id = event.id or last_event_id
                            continue
                        data = json.loads(event.data)
                        if not isinstance(data, dict):
                            raise ValueError(f"an event that is not a JSON object: {event.data[:100]}")
                        job = m.RenderJobWithOutput.from_dict(data)
                        last_event_id = event.id or last_event_id  # only once read: a cut event is sent again
                        reconnects = 0
                        yield job
                        if job.status in FINAL_RENDER_STATUSES:
                            return
            except (httpx.TransportError, ValueError) as exc:
                if reconnects > self._client.max_retries:
                    raise _errors.APIConnectionError(f"The event stream of {render_id} broke: {exc}") from exc
            # Closed before a final status (the server's stream lifetime, a proxy): resume after the last event.
            if reconnects > self._client.max_retries:
                raise _errors.APIConnectionError(
                    f"The event stream of {render_id} keeps closing without news; poll the render instead.")
            if reconnects:
                self._client._sleep(0.5 * reconnects)

    def wait(self, render_id: str, *, on_progress: Callable[[m.RenderJobWithOutput], None] | None = None,
             timeout: float = 600.0, poll_interval: float = 1.0,
             use_stream: bool = True) -> m.RenderJobWithOutput:
        """Block until the job is completed, failed or cancelled and return it (check `status`).

        `on_progress(job)` is called with each new state. Follows the event stream; falls back to polling
        every `poll_interval` s while the stream is unavailable. WaitTimeoutError after `timeout` s.
        """
        deadline = time.monotonic() + timeout
        if use_stream:
            try:
                for job in self.stream(render_id, timeout=timeout):
                    if on_progress:
                        on_progress(job)
                    if job.status in FINAL_RENDER_STATUSES:
                        return self.get(render_id) if job.output_url is None and job.status == "completed" else job
            except (_errors.ServerError, _errors.RateLimitError, _errors.APIConnectionError):
                pass  # the event store is unavailable or busy: poll instead
        while True:
            job = self.get(render_id)
            if on_progress:
                on_progress(job)
            if job.status in FINAL_RENDER_STATUSES:
                return job
            if time.monotonic() + poll_interval > deadline:
                raise _errors.WaitTimeoutError(
                    f"Render {render_id} is still {job.status} after {timeout:g} s.", code="wait_timeout")
            self._client._sleep(poll_interval)

    def download(self, render_id: str, destination: str | os.PathLike | IO[bytes]) -> int:
        """Download a completed job's output to a path or a binary file object; returns the bytes written."""
        from .assets import download_url

        job = self.get(render_id)
        if job.status != "completed" or not job.output_url:
            raise _errors.ConflictError(
                f"Render {render_id} has no output to download (status {job.status}"
                + (", output deleted" if job.output_deleted_at else "") + ").", code="no_output")
        return download_url(self._client, job.output_url, destination)
