"""Projects: create, get, list, update, delete, rotate the webhook secret."""

from __future__ import annotations

from .. import _models as m
from .._pagination import Page
from ._common import NOT_GIVEN, Resource, body


class Projects(Resource):
    def create(self, *, name: str, slug: str = NOT_GIVEN, description: str = NOT_GIVEN,
               metadata: dict[str, str] = NOT_GIVEN, idempotency_key: str | None = None) -> m.ProjectWithSecret:
        """Create a project; the response is the only one that shows its `webhook_secret`."""
        return self._client.request("projects_create", body=body(name=name, slug=slug, description=description,
                                                                  metadata=metadata), idempotency_key=idempotency_key)

    def get(self, project_id: str) -> m.Project:
        return self._client.request("projects_retrieve", path={"projectId": project_id})

    def list(self, *, limit: int | None = None, sort: str | None = None, cursor: str | None = None) -> Page[m.Project]:
        """A page of projects; iterate it to walk every page."""
        return self._client.paginate("projects_list", limit=limit, sort=sort, cursor=cursor)

    def update(self, project_id: str, *, name: str = NOT_GIVEN, description: str = NOT_GIVEN,
               metadata: dict[str, str] = NOT_GIVEN, slug: str = NOT_GIVEN) -> m.Project:
        """Change the fields given; `metadata` replaces the whole map."""
        return self._client.request("projects_partial_update", path={"projectId": project_id},
                                    body=body(name=name, description=description, metadata=metadata, slug=slug))

    def delete(self, project_id: str) -> None:
        """Soft-delete the project: its assets are orphaned, its queued renders cancelled."""
        self._client.request("projects_destroy", path={"projectId": project_id})

    def rotate_webhook_secret(self, project_id: str, *, idempotency_key: str | None = None) -> m.WebhookSecret:
        """A new webhook secret; the previous one keeps signing too until `previous_secret_expires_at`."""
        return self._client.request("projects_webhook_secret_rotate_create", path={"projectId": project_id},
                                    idempotency_key=idempotency_key)
