"""Automations: create, get, list, update, delete, trigger by hand, rotate the hook token, runs."""

from __future__ import annotations

from typing import Any

from .. import _models as m
from .._pagination import Page
from ._common import NOT_GIVEN, Resource, body


class Automations(Resource):
    def create(self, project_id: str, *, name: str, template_id: str, trigger: dict[str, Any],
               data_mapping: dict[str, Any] = NOT_GIVEN, output: dict[str, Any] = NOT_GIVEN,
               priority: str = NOT_GIVEN, enabled: bool = NOT_GIVEN, metadata: dict[str, str] = NOT_GIVEN,
               idempotency_key: str | None = None) -> m.Automation:
        """Create an automation; `trigger` is {"type": "webhook"|"schedule"|"asset_upload", …}."""
        return self._client.request(
            "projects_automations_create", path={"projectId": project_id},
            body=body(name=name, template_id=template_id, trigger=trigger, data_mapping=data_mapping,
                      output=output, priority=priority, enabled=enabled, metadata=metadata),
            idempotency_key=idempotency_key,
        )

    def get(self, automation_id: str) -> m.Automation:
        return self._client.request("automations_retrieve", path={"automationId": automation_id})

    def list(self, project_id: str, *, limit: int | None = None, sort: str | None = None,
             cursor: str | None = None) -> Page[m.Automation]:
        return self._client.paginate("projects_automations_list", path={"projectId": project_id}, limit=limit,
                                     sort=sort, cursor=cursor)

    def update(self, automation_id: str, *, name: str = NOT_GIVEN, template_id: str = NOT_GIVEN,
               trigger: dict[str, Any] = NOT_GIVEN, data_mapping: dict[str, Any] = NOT_GIVEN,
               output: dict[str, Any] = NOT_GIVEN, priority: str = NOT_GIVEN, enabled: bool = NOT_GIVEN,
               metadata: dict[str, str] = NOT_GIVEN) -> m.Automation:
        return self._client.request(
            "automations_partial_update", path={"automationId": automation_id},
            body=body(name=name, template_id=template_id, trigger=trigger, data_mapping=data_mapping,
                      output=output, priority=priority, enabled=enabled, metadata=metadata),
        )

    def delete(self, automation_id: str) -> None:
        self._client.request("automations_destroy", path={"automationId": automation_id})

    def trigger(self, automation_id: str, *, payload: Any = None, idempotency_key: str | None = None) -> m.AutomationRun:
        """Fire the automation by hand with `payload`: a run (`status` pending) that submits a render."""
        return self._client.request("automations_trigger_create", path={"automationId": automation_id},
                                    body={"payload": payload}, idempotency_key=idempotency_key)

    def trigger_dry_run(self, automation_id: str, *, payload: Any = None) -> m.AutomationDryRun:
        """The props the mapping makes of `payload`, validated as a render's; nothing is created."""
        return self._client.request("automations_trigger_create", path={"automationId": automation_id},
                                    body={"payload": payload, "dryRun": True})

    def rotate_hook_token(self, automation_id: str, *, idempotency_key: str | None = None) -> m.Automation:
        """A new `hook_url` for a webhook trigger; the old one stops working at once."""
        return self._client.request("automations_hook_token_rotate_create", path={"automationId": automation_id},
                                    idempotency_key=idempotency_key)

    def runs(self, automation_id: str, *, status: str | None = None, limit: int | None = None,
             sort: str | None = None, cursor: str | None = None) -> Page[m.AutomationRun]:
        """The automation's runs, newest first."""
        return self._client.paginate("automations_runs_list", path={"automationId": automation_id},
                                     status=status, limit=limit, sort=sort, cursor=cursor)

    def get_run(self, run_id: str) -> m.AutomationRun:
        return self._client.request("automation_runs_retrieve", path={"automationRunId": run_id})
