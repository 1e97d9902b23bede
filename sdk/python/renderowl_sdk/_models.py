"""Models of the Renderowl API, generated from openapi.json by sdk/python/scripts/generate.py.

Do not edit: change the API, commit its openapi.json, and run the generator (CI runs it with --check).
"""

# ruff: noqa: E501
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal, TypedDict

from ._base import Field, Model

API_VERSION = '1.0.0'

AssetStatusEnum = Literal["pending", "processing", "ready", "failed"]

AssetTypeEnum = Literal["video", "image", "audio", "font", "template"]

AutomationRunStatusEnum = Literal["pending", "rendering", "completed", "failed", "skipped"]

AutomationRunTriggerEnum = Literal["webhook", "schedule", "asset_upload", "manual"]

ContentTypeEnum = Literal["application/font-sfnt", "application/json", "audio/aac", "audio/flac", "audio/mp4", "audio/mpeg", "audio/ogg", "audio/wav", "audio/webm", "audio/x-wav", "font/collection", "font/otf", "font/ttf", "font/woff", "font/woff2", "image/gif", "image/jpeg", "image/png", "image/webp", "video/mp4", "video/quicktime", "video/webm", "video/x-matroska"]

DeliveryStatusEnum = Literal["pending", "succeeded", "failed"]

EventsEnum = Literal["render.queued", "render.started", "render.progress", "render.completed", "render.failed", "render.cancelled", "asset.uploaded", "asset.ready", "asset.failed", "automation.run.completed", "automation.run.failed", "webhook.test", "asset.*", "automation.*", "render.*", "webhook.*"]

RenderPriorityEnum = Literal["low", "normal", "high"]

RenderStatusEnum = Literal["pending", "queued", "rendering", "completed", "failed", "cancelled"]

WebhookEndpointStatusEnum = Literal["active", "failing", "disabled"]


@dataclass(kw_only=True, eq=False)
class Asset(Model):
    """An asset as the API returns it (and as its events carry it)."""

    id: str | None = None
    project_id: str | None = None
    type: AssetTypeEnum | None = None
    name: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    status: AssetStatusEnum | None = None
    content_type: str | None = None
    size: int | None = None
    checksum: str | None = None
    metadata: dict[str, Any] | None = None
    error: AssetError | None = None
    orphaned_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('project_id', 'projectId'),
        Field('type', 'type'),
        Field('name', 'name'),
        Field('description', 'description'),
        Field('tags', 'tags'),
        Field('status', 'status'),
        Field('content_type', 'contentType'),
        Field('size', 'size'),
        Field('checksum', 'checksum'),
        Field('metadata', 'metadata'),
        Field('error', 'error', kind='model', model='AssetError'),
        Field('orphaned_at', 'orphanedAt', kind='datetime'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('updated_at', 'updatedAt', kind='datetime'),
    )


class AssetCreateRequest(TypedDict, total=False):
    """Rejects fields it does not declare, so a typo is an error rather than silently ignored. Required: contentType, name, size, type."""

    type: AssetTypeEnum
    name: str
    contentType: ContentTypeEnum
    size: int
    description: str
    tags: list[str]


@dataclass(kw_only=True, eq=False)
class AssetError(Model):
    """AssetError"""

    code: str | None = None
    message: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('code', 'code'),
        Field('message', 'message'),
    )


@dataclass(kw_only=True, eq=False)
class AssetEvent(Model):
    """The events whose `data.object` is a Asset: asset.uploaded, asset.ready, asset.failed."""

    id: str | None = None
    type: Literal["asset.uploaded", "asset.ready", "asset.failed"] | None = None
    created_at: datetime | None = None
    organization_id: str | None = None
    project_id: str | None = None
    data: dict[str, Any] | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('type', 'type'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('organization_id', 'organizationId'),
        Field('project_id', 'projectId'),
        Field('data', 'data'),
    )


@dataclass(kw_only=True, eq=False)
class AssetUploadResponse(Model):
    """AssetUploadResponse"""

    asset: Asset | None = None
    upload: Upload | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('asset', 'asset', kind='model', model='Asset'),
        Field('upload', 'upload', kind='model', model='Upload'),
    )


@dataclass(kw_only=True, eq=False)
class AssetWithDownload(Model):
    """An asset as the API returns it (and as its events carry it)."""

    id: str | None = None
    project_id: str | None = None
    type: AssetTypeEnum | None = None
    name: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    status: AssetStatusEnum | None = None
    content_type: str | None = None
    size: int | None = None
    checksum: str | None = None
    metadata: dict[str, Any] | None = None
    error: AssetError | None = None
    orphaned_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    download_url: str | None = None
    download_url_expires_at: datetime | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('project_id', 'projectId'),
        Field('type', 'type'),
        Field('name', 'name'),
        Field('description', 'description'),
        Field('tags', 'tags'),
        Field('status', 'status'),
        Field('content_type', 'contentType'),
        Field('size', 'size'),
        Field('checksum', 'checksum'),
        Field('metadata', 'metadata'),
        Field('error', 'error', kind='model', model='AssetError'),
        Field('orphaned_at', 'orphanedAt', kind='datetime'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('updated_at', 'updatedAt', kind='datetime'),
        Field('download_url', 'downloadUrl'),
        Field('download_url_expires_at', 'downloadUrlExpiresAt', kind='datetime'),
    )


@dataclass(kw_only=True, eq=False)
class Attempt(Model):
    """Attempt"""

    number: int | None = None
    started_at: datetime | None = None
    duration_ms: int | None = None
    response_status: int | None = None
    response_body: str | None = None
    error: str | None = None
    succeeded: bool | None = None
    manual: bool | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('number', 'number'),
        Field('started_at', 'startedAt', kind='datetime'),
        Field('duration_ms', 'durationMs'),
        Field('response_status', 'responseStatus'),
        Field('response_body', 'responseBody'),
        Field('error', 'error'),
        Field('succeeded', 'succeeded'),
        Field('manual', 'manual'),
    )


@dataclass(kw_only=True, eq=False)
class Automation(Model):
    """Automation"""

    id: str | None = None
    project_id: str | None = None
    name: str | None = None
    template_id: str | None = None
    enabled: bool | None = None
    trigger: dict[str, Any] | None = None
    hook_url: str | None = None
    next_run_at: datetime | None = None
    data_mapping: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    priority: RenderPriorityEnum | None = None
    metadata: Any | None = None
    last_run_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('project_id', 'projectId'),
        Field('name', 'name'),
        Field('template_id', 'templateId'),
        Field('enabled', 'enabled'),
        Field('trigger', 'trigger'),
        Field('hook_url', 'hookUrl'),
        Field('next_run_at', 'nextRunAt', kind='datetime'),
        Field('data_mapping', 'dataMapping'),
        Field('output', 'output'),
        Field('priority', 'priority'),
        Field('metadata', 'metadata'),
        Field('last_run_at', 'lastRunAt', kind='datetime'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('updated_at', 'updatedAt', kind='datetime'),
    )


class AutomationCreateRequest(TypedDict, total=False):
    """An automation as submitted: only its shape here; the services judge trigger, template and mapping. Required: name, templateId, trigger."""

    name: str
    templateId: str
    enabled: bool
    trigger: dict[str, Any]
    dataMapping: dict[str, Any]
    output: dict[str, Any]
    priority: RenderPriorityEnum
    metadata: dict[str, str]


@dataclass(kw_only=True, eq=False)
class AutomationDryRun(Model):
    """AutomationDryRun"""

    input: Any | None = None
    output: dict[str, Any] | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('input', 'input'),
        Field('output', 'output'),
    )


@dataclass(kw_only=True, eq=False)
class AutomationRun(Model):
    """AutomationRun"""

    id: str | None = None
    automation_id: str | None = None
    trigger: AutomationRunTriggerEnum | None = None
    status: AutomationRunStatusEnum | None = None
    payload: Any | None = None
    input: Any | None = None
    render_id: str | None = None
    error: AutomationRunError | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('automation_id', 'automationId'),
        Field('trigger', 'trigger'),
        Field('status', 'status'),
        Field('payload', 'payload'),
        Field('input', 'input'),
        Field('render_id', 'renderId'),
        Field('error', 'error', kind='model', model='AutomationRunError'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('finished_at', 'finishedAt', kind='datetime'),
        Field('updated_at', 'updatedAt', kind='datetime'),
    )


@dataclass(kw_only=True, eq=False)
class AutomationRunError(Model):
    """AutomationRunError"""

    code: str | None = None
    message: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('code', 'code'),
        Field('message', 'message'),
    )


@dataclass(kw_only=True, eq=False)
class AutomationRunEvent(Model):
    """The events whose `data.object` is a AutomationRun: automation.run.completed, automation.run.failed."""

    id: str | None = None
    type: Literal["automation.run.completed", "automation.run.failed"] | None = None
    created_at: datetime | None = None
    organization_id: str | None = None
    project_id: str | None = None
    data: dict[str, Any] | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('type', 'type'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('organization_id', 'organizationId'),
        Field('project_id', 'projectId'),
        Field('data', 'data'),
    )


class AutomationTriggerRequest(TypedDict, total=False):
    """Rejects fields it does not declare, so a typo is an error rather than silently ignored. Required: nothing."""

    payload: Any
    dryRun: bool


@dataclass(kw_only=True, eq=False)
class Delivery(Model):
    """Delivery"""

    id: str | None = None
    endpoint_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    url: str | None = None
    status: DeliveryStatusEnum | None = None
    attempt_count: int | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('endpoint_id', 'endpointId'),
        Field('event_id', 'eventId'),
        Field('event_type', 'eventType'),
        Field('url', 'url'),
        Field('status', 'status'),
        Field('attempt_count', 'attemptCount'),
        Field('next_attempt_at', 'nextAttemptAt', kind='datetime'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('completed_at', 'completedAt', kind='datetime'),
    )


@dataclass(kw_only=True, eq=False)
class DeliveryDetail(Model):
    """DeliveryDetail"""

    id: str | None = None
    endpoint_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    url: str | None = None
    status: DeliveryStatusEnum | None = None
    attempt_count: int | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    attempts: list[Attempt] | None = None
    payload: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('endpoint_id', 'endpointId'),
        Field('event_id', 'eventId'),
        Field('event_type', 'eventType'),
        Field('url', 'url'),
        Field('status', 'status'),
        Field('attempt_count', 'attemptCount'),
        Field('next_attempt_at', 'nextAttemptAt', kind='datetime'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('completed_at', 'completedAt', kind='datetime'),
        Field('attempts', 'attempts', kind='list_model', model='Attempt'),
        Field('payload', 'payload'),
    )


@dataclass(kw_only=True, eq=False)
class FieldError(Model):
    """FieldError"""

    field: str | None = None
    message: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('field', 'field'),
        Field('message', 'message'),
    )


@dataclass(kw_only=True, eq=False)
class HookAccepted(Model):
    """HookAccepted"""

    run_id: str | None = None
    status: AutomationRunStatusEnum | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('run_id', 'runId'),
        Field('status', 'status'),
    )


@dataclass(kw_only=True, eq=False)
class PaginatedAssetList(Model):
    """PaginatedAssetList"""

    data: list[Asset] | None = None
    has_more: bool | None = None
    next_cursor: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('data', 'data', kind='list_model', model='Asset'),
        Field('has_more', 'hasMore'),
        Field('next_cursor', 'nextCursor'),
    )


@dataclass(kw_only=True, eq=False)
class PaginatedAutomationList(Model):
    """PaginatedAutomationList"""

    data: list[Automation] | None = None
    has_more: bool | None = None
    next_cursor: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('data', 'data', kind='list_model', model='Automation'),
        Field('has_more', 'hasMore'),
        Field('next_cursor', 'nextCursor'),
    )


@dataclass(kw_only=True, eq=False)
class PaginatedAutomationRunList(Model):
    """PaginatedAutomationRunList"""

    data: list[AutomationRun] | None = None
    has_more: bool | None = None
    next_cursor: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('data', 'data', kind='list_model', model='AutomationRun'),
        Field('has_more', 'hasMore'),
        Field('next_cursor', 'nextCursor'),
    )


@dataclass(kw_only=True, eq=False)
class PaginatedDeliveryList(Model):
    """PaginatedDeliveryList"""

    data: list[Delivery] | None = None
    has_more: bool | None = None
    next_cursor: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('data', 'data', kind='list_model', model='Delivery'),
        Field('has_more', 'hasMore'),
        Field('next_cursor', 'nextCursor'),
    )


@dataclass(kw_only=True, eq=False)
class PaginatedProjectList(Model):
    """PaginatedProjectList"""

    data: list[Project] | None = None
    has_more: bool | None = None
    next_cursor: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('data', 'data', kind='list_model', model='Project'),
        Field('has_more', 'hasMore'),
        Field('next_cursor', 'nextCursor'),
    )


@dataclass(kw_only=True, eq=False)
class PaginatedRenderJobList(Model):
    """PaginatedRenderJobList"""

    data: list[RenderJob] | None = None
    has_more: bool | None = None
    next_cursor: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('data', 'data', kind='list_model', model='RenderJob'),
        Field('has_more', 'hasMore'),
        Field('next_cursor', 'nextCursor'),
    )


@dataclass(kw_only=True, eq=False)
class PaginatedWebhookEndpointList(Model):
    """PaginatedWebhookEndpointList"""

    data: list[WebhookEndpoint] | None = None
    has_more: bool | None = None
    next_cursor: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('data', 'data', kind='list_model', model='WebhookEndpoint'),
        Field('has_more', 'hasMore'),
        Field('next_cursor', 'nextCursor'),
    )


class PatchedAssetUpdateRequest(TypedDict, total=False):
    """Rejects fields it does not declare, so a typo is an error rather than silently ignored. Required: nothing."""

    name: str
    description: str
    tags: list[str]


class PatchedAutomationUpdateRequest(TypedDict, total=False):
    """A partial update: any field of a creation. Required: nothing."""

    name: str
    templateId: str
    enabled: bool
    trigger: dict[str, Any]
    dataMapping: dict[str, Any]
    output: dict[str, Any]
    priority: RenderPriorityEnum
    metadata: dict[str, str]


class PatchedProjectUpdateRequest(TypedDict, total=False):
    """Rejects fields it does not declare, so a typo is an error rather than silently ignored. Required: nothing."""

    name: str
    slug: str
    description: str
    metadata: dict[str, str]


class PatchedWebhookEndpointUpdateRequest(TypedDict, total=False):
    """Rejects fields it does not declare, so a typo is an error rather than silently ignored. Required: nothing."""

    url: str
    description: str
    events: list[EventsEnum]
    projectIds: list[str]
    enabled: bool


@dataclass(kw_only=True, eq=False)
class Problem(Model):
    """RFC 9457 problem details."""

    type: str | None = None
    title: str | None = None
    status: int | None = None
    detail: str | None = None
    code: str | None = None
    errors: list[FieldError] | None = None
    request_id: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('type', 'type'),
        Field('title', 'title'),
        Field('status', 'status'),
        Field('detail', 'detail'),
        Field('code', 'code'),
        Field('errors', 'errors', kind='list_model', model='FieldError'),
        Field('request_id', 'requestId'),
    )


@dataclass(kw_only=True, eq=False)
class Project(Model):
    """A project as the API returns it; never the webhook secret."""

    id: str | None = None
    name: str | None = None
    slug: str | None = None
    description: str | None = None
    metadata: dict[str, str] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('name', 'name'),
        Field('slug', 'slug'),
        Field('description', 'description'),
        Field('metadata', 'metadata'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('updated_at', 'updatedAt', kind='datetime'),
        Field('deleted_at', 'deletedAt', kind='datetime'),
    )


class ProjectCreateRequest(TypedDict, total=False):
    """Rejects fields it does not declare, so a typo is an error rather than silently ignored. Required: name."""

    name: str
    slug: str
    description: str
    metadata: dict[str, str]


@dataclass(kw_only=True, eq=False)
class ProjectWithSecret(Model):
    """The create response: the only time the webhook secret is shown."""

    id: str | None = None
    name: str | None = None
    slug: str | None = None
    description: str | None = None
    metadata: dict[str, str] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    webhook_secret: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('name', 'name'),
        Field('slug', 'slug'),
        Field('description', 'description'),
        Field('metadata', 'metadata'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('updated_at', 'updatedAt', kind='datetime'),
        Field('deleted_at', 'deletedAt', kind='datetime'),
        Field('webhook_secret', 'webhookSecret'),
    )


@dataclass(kw_only=True, eq=False)
class RemoteCallbackAnswer(Model):
    """RemoteCallbackAnswer"""

    recorded: bool | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('recorded', 'recorded'),
    )


class RenderCreateRequest(TypedDict, total=False):
    """A render submission: only its shape here; `render_input_resolve` judges the content. Required: templateId."""

    templateId: str
    inputProps: dict[str, Any]
    output: dict[str, Any]
    priority: RenderPriorityEnum
    webhookUrl: str
    metadata: dict[str, Any]


@dataclass(kw_only=True, eq=False)
class RenderError(Model):
    """RenderError"""

    code: str | None = None
    message: str | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('code', 'code'),
        Field('message', 'message'),
    )


@dataclass(kw_only=True, eq=False)
class RenderJob(Model):
    """A render job as its events carry it: never a signed URL (events are stored and may be read late)."""

    id: str | None = None
    project_id: str | None = None
    template_id: str | None = None
    status: RenderStatusEnum | None = None
    stage: str | None = None
    priority: RenderPriorityEnum | None = None
    engine: str | None = None
    livemode: bool | None = None
    input_props: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    progress: float | None = None
    error: RenderError | None = None
    output_size: int | None = None
    output_duration_ms: int | None = None
    output_deleted_at: datetime | None = None
    webhook_url: str | None = None
    metadata: Any | None = None
    automation_id: str | None = None
    automation_run_id: str | None = None
    attempts: int | None = None
    created_at: datetime | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    updated_at: datetime | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('project_id', 'projectId'),
        Field('template_id', 'templateId'),
        Field('status', 'status'),
        Field('stage', 'stage'),
        Field('priority', 'priority'),
        Field('engine', 'engine'),
        Field('livemode', 'livemode'),
        Field('input_props', 'inputProps'),
        Field('output', 'output'),
        Field('progress', 'progress'),
        Field('error', 'error', kind='model', model='RenderError'),
        Field('output_size', 'outputSize'),
        Field('output_duration_ms', 'outputDurationMs'),
        Field('output_deleted_at', 'outputDeletedAt', kind='datetime'),
        Field('webhook_url', 'webhookUrl'),
        Field('metadata', 'metadata'),
        Field('automation_id', 'automationId'),
        Field('automation_run_id', 'automationRunId'),
        Field('attempts', 'attempts'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('queued_at', 'queuedAt', kind='datetime'),
        Field('started_at', 'startedAt', kind='datetime'),
        Field('completed_at', 'completedAt', kind='datetime'),
        Field('updated_at', 'updatedAt', kind='datetime'),
    )


@dataclass(kw_only=True, eq=False)
class RenderJobEvent(Model):
    """The events whose `data.object` is a RenderJob: render.queued, render.started, render.progress, render.completed, render.failed, render.cancelled."""

    id: str | None = None
    type: Literal["render.queued", "render.started", "render.progress", "render.completed", "render.failed", "render.cancelled"] | None = None
    created_at: datetime | None = None
    organization_id: str | None = None
    project_id: str | None = None
    data: dict[str, Any] | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('type', 'type'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('organization_id', 'organizationId'),
        Field('project_id', 'projectId'),
        Field('data', 'data'),
    )


@dataclass(kw_only=True, eq=False)
class RenderJobWithOutput(Model):
    """A render job as the API returns it: `outputUrl` is signed afresh on each read once completed."""

    id: str | None = None
    project_id: str | None = None
    template_id: str | None = None
    status: RenderStatusEnum | None = None
    stage: str | None = None
    priority: RenderPriorityEnum | None = None
    engine: str | None = None
    livemode: bool | None = None
    input_props: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    progress: float | None = None
    error: RenderError | None = None
    output_size: int | None = None
    output_duration_ms: int | None = None
    output_deleted_at: datetime | None = None
    webhook_url: str | None = None
    metadata: Any | None = None
    automation_id: str | None = None
    automation_run_id: str | None = None
    attempts: int | None = None
    created_at: datetime | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    updated_at: datetime | None = None
    output_url: str | None = None
    output_url_expires_at: datetime | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('project_id', 'projectId'),
        Field('template_id', 'templateId'),
        Field('status', 'status'),
        Field('stage', 'stage'),
        Field('priority', 'priority'),
        Field('engine', 'engine'),
        Field('livemode', 'livemode'),
        Field('input_props', 'inputProps'),
        Field('output', 'output'),
        Field('progress', 'progress'),
        Field('error', 'error', kind='model', model='RenderError'),
        Field('output_size', 'outputSize'),
        Field('output_duration_ms', 'outputDurationMs'),
        Field('output_deleted_at', 'outputDeletedAt', kind='datetime'),
        Field('webhook_url', 'webhookUrl'),
        Field('metadata', 'metadata'),
        Field('automation_id', 'automationId'),
        Field('automation_run_id', 'automationRunId'),
        Field('attempts', 'attempts'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('queued_at', 'queuedAt', kind='datetime'),
        Field('started_at', 'startedAt', kind='datetime'),
        Field('completed_at', 'completedAt', kind='datetime'),
        Field('updated_at', 'updatedAt', kind='datetime'),
        Field('output_url', 'outputUrl'),
        Field('output_url_expires_at', 'outputUrlExpiresAt', kind='datetime'),
    )


@dataclass(kw_only=True, eq=False)
class Upload(Model):
    """Upload"""

    url: str | None = None
    method: str | None = None
    headers: dict[str, str] | None = None
    expires_at: datetime | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('url', 'url'),
        Field('method', 'method'),
        Field('headers', 'headers'),
        Field('expires_at', 'expiresAt', kind='datetime'),
    )


@dataclass(kw_only=True, eq=False)
class WebhookEndpoint(Model):
    """WebhookEndpoint"""

    id: str | None = None
    url: str | None = None
    description: str | None = None
    events: list[EventsEnum] | None = None
    project_ids: list[str] | None = None
    enabled: bool | None = None
    status: WebhookEndpointStatusEnum | None = None
    consecutive_failures: int | None = None
    disabled_reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('url', 'url'),
        Field('description', 'description'),
        Field('events', 'events'),
        Field('project_ids', 'projectIds'),
        Field('enabled', 'enabled'),
        Field('status', 'status'),
        Field('consecutive_failures', 'consecutiveFailures'),
        Field('disabled_reason', 'disabledReason'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('updated_at', 'updatedAt', kind='datetime'),
    )


class WebhookEndpointCreateRequest(TypedDict, total=False):
    """Rejects fields it does not declare, so a typo is an error rather than silently ignored. Required: url."""

    url: str
    description: str
    events: list[EventsEnum]
    projectIds: list[str]
    enabled: bool


@dataclass(kw_only=True, eq=False)
class WebhookEndpointEvent(Model):
    """The events whose `data.object` is a WebhookEndpoint: webhook.test."""

    id: str | None = None
    type: Literal["webhook.test"] | None = None
    created_at: datetime | None = None
    organization_id: str | None = None
    project_id: str | None = None
    data: dict[str, Any] | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('id', 'id'),
        Field('type', 'type'),
        Field('created_at', 'createdAt', kind='datetime'),
        Field('organization_id', 'organizationId'),
        Field('project_id', 'projectId'),
        Field('data', 'data'),
    )


@dataclass(kw_only=True, eq=False)
class WebhookSecret(Model):
    """A newly issued webhook secret, shown only in this response."""

    webhook_secret: str | None = None
    previous_secret_expires_at: datetime | None = None

    _fields: ClassVar[tuple[Field, ...]] = (
        Field('webhook_secret', 'webhookSecret'),
        Field('previous_secret_expires_at', 'previousSecretExpiresAt', kind='datetime'),
    )


class WebhookTestRequest(TypedDict, total=False):
    """Rejects fields it does not declare, so a typo is an error rather than silently ignored. Required: nothing."""

    projectId: str


# The body of a webhook delivery: `data.object` is the resource as it was when the event was recorded (its GET fields, never a signed URL). Deduplicate by `id`.
WebhookEvent = RenderJobEvent | AssetEvent | AutomationRunEvent | WebhookEndpointEvent


__all__ = ['Asset',
 'AssetCreateRequest',
 'AssetError',
 'AssetEvent',
 'AssetStatusEnum',
 'AssetTypeEnum',
 'AssetUploadResponse',
 'AssetWithDownload',
 'Attempt',
 'Automation',
 'AutomationCreateRequest',
 'AutomationDryRun',
 'AutomationRun',
 'AutomationRunError',
 'AutomationRunEvent',
 'AutomationRunStatusEnum',
 'AutomationRunTriggerEnum',
 'AutomationTriggerRequest',
 'ContentTypeEnum',
 'Delivery',
 'DeliveryDetail',
 'DeliveryStatusEnum',
 'EventsEnum',
 'FieldError',
 'HookAccepted',
 'PaginatedAssetList',
 'PaginatedAutomationList',
 'PaginatedAutomationRunList',
 'PaginatedDeliveryList',
 'PaginatedProjectList',
 'PaginatedRenderJobList',
 'PaginatedWebhookEndpointList',
 'PatchedAssetUpdateRequest',
 'PatchedAutomationUpdateRequest',
 'PatchedProjectUpdateRequest',
 'PatchedWebhookEndpointUpdateRequest',
 'Problem',
 'Project',
 'ProjectCreateRequest',
 'ProjectWithSecret',
 'RemoteCallbackAnswer',
 'RenderCreateRequest',
 'RenderError',
 'RenderJob',
 'RenderJobEvent',
 'RenderJobWithOutput',
 'RenderPriorityEnum',
 'RenderStatusEnum',
 'Upload',
 'WebhookEndpoint',
 'WebhookEndpointCreateRequest',
 'WebhookEndpointEvent',
 'WebhookEndpointStatusEnum',
 'WebhookEvent',
 'WebhookSecret',
 'WebhookTestRequest',
 'API_VERSION',
 'OPERATIONS',
 'REQUEST_SCHEMAS']


# The request bodies' schemas, $refs inlined: requests are validated against them before sending.
REQUEST_SCHEMAS: dict[str, Any] = {'AssetCreateRequest': {'type': 'object',
                        'properties': {'type': {'enum': ['video', 'image', 'audio', 'font', 'template'],
                                                'type': 'string'},
                                       'name': {'type': 'string',
                                                'minLength': 1,
                                                'maxLength': 255,
                                                'pattern': '[^ \\t\\n\\r\\u000b\\u000c]'},
                                       'contentType': {'allOf': [{'enum': ['application/font-sfnt',
                                                                           'application/json',
                                                                           'audio/aac',
                                                                           'audio/flac',
                                                                           'audio/mp4',
                                                                           'audio/mpeg',
                                                                           'audio/ogg',
                                                                           'audio/wav',
                                                                           'audio/webm',
                                                                           'audio/x-wav',
                                                                           'font/collection',
                                                                           'font/otf',
                                                                           'font/ttf',
                                                                           'font/woff',
                                                                           'font/woff2',
                                                                           'image/gif',
                                                                           'image/jpeg',
                                                                           'image/png',
                                                                           'image/webp',
                                                                           'video/mp4',
                                                                           'video/quicktime',
                                                                           'video/webm',
                                                                           'video/x-matroska'],
                                                                  'type': 'string'}]},
                                       'size': {'type': 'integer', 'maximum': 5368709120, 'minimum': 1},
                                       'description': {'type': 'string', 'maxLength': 2000},
                                       'tags': {'type': 'array',
                                                'items': {'type': 'string',
                                                          'minLength': 1,
                                                          'maxLength': 50,
                                                          'pattern': '[^ \\t\\n\\r\\u000b\\u000c]'},
                                                'maxItems': 20}},
                        'required': ['contentType', 'name', 'size', 'type'],
                        'additionalProperties': False},
 'AutomationCreateRequest': {'type': 'object',
                             'properties': {'name': {'type': 'string',
                                                     'minLength': 1,
                                                     'maxLength': 200,
                                                     'pattern': '[^ \\t\\n\\r\\u000b\\u000c]'},
                                            'templateId': {'type': 'string', 'minLength': 1, 'maxLength': 40},
                                            'enabled': {'type': 'boolean'},
                                            'trigger': {'type': 'object',
                                                        'required': ['type'],
                                                        'properties': {'type': {'type': 'string',
                                                                                'enum': ['webhook',
                                                                                         'schedule',
                                                                                         'asset_upload']},
                                                                       'secret': {'type': 'string',
                                                                                  'minLength': 16,
                                                                                  'maxLength': 256,
                                                                                  'writeOnly': True},
                                                                       'signed': {'type': 'boolean',
                                                                                  'readOnly': True},
                                                                       'cron': {'type': 'string'},
                                                                       'timezone': {'type': 'string'},
                                                                       'assetTypes': {'type': 'array',
                                                                                      'items': {'type': 'string',
                                                                                                'enum': ['video',
                                                                                                         'image',
                                                                                                         'audio',
                                                                                                         'font',
                                                                                                         'template']}},
                                                                       'tags': {'type': 'array',
                                                                                'items': {'type': 'string'},
                                                                                'maxItems': 20}}},
                                            'dataMapping': {'type': 'object',
                                                            'additionalProperties': {'type': 'object',
                                                                                     'properties': {'value': {},
                                                                                                    'path': {'type': 'string',
                                                                                                             'maxLength': 500},
                                                                                                    'transform': {'type': 'string',
                                                                                                                  'enum': ['uppercase',
                                                                                                                           'lowercase',
                                                                                                                           'trim',
                                                                                                                           'number',
                                                                                                                           'formatDate']},
                                                                                                    'format': {'type': 'string'},
                                                                                                    'timezone': {'type': 'string'},
                                                                                                    'default': {}}}},
                                            'output': {'type': ['object', 'null'],
                                                       'properties': {'format': {'type': 'string',
                                                                                 'enum': ['mp4',
                                                                                          'webm',
                                                                                          'gif',
                                                                                          'png',
                                                                                          'jpg']},
                                                                      'width': {'type': 'integer',
                                                                                'minimum': 1},
                                                                      'height': {'type': 'integer',
                                                                                 'minimum': 1},
                                                                      'fps': {'type': 'number',
                                                                              'exclusiveMinimum': 0},
                                                                      'quality': {'type': 'string',
                                                                                  'enum': ['draft',
                                                                                           'standard',
                                                                                           'high']},
                                                                      'frame': {'type': 'integer',
                                                                                'minimum': 0}},
                                                       'additionalProperties': False},
                                            'priority': {'allOf': [{'enum': ['low', 'normal', 'high'],
                                                                    'type': 'string'}]},
                                            'metadata': {'type': 'object',
                                                         'maxProperties': 50,
                                                         'propertyNames': {'minLength': 1, 'maxLength': 40},
                                                         'additionalProperties': {'type': 'string',
                                                                                  'maxLength': 500}}},
                             'required': ['name', 'templateId', 'trigger'],
                             'additionalProperties': False},
 'AutomationTriggerRequest': {'type': 'object',
                              'properties': {'payload': {}, 'dryRun': {'type': 'boolean'}},
                              'additionalProperties': False},
 'PatchedAssetUpdateRequest': {'type': 'object',
                               'properties': {'name': {'type': 'string',
                                                       'minLength': 1,
                                                       'maxLength': 255,
                                                       'pattern': '[^ \\t\\n\\r\\u000b\\u000c]'},
                                              'description': {'type': 'string', 'maxLength': 2000},
                                              'tags': {'type': 'array',
                                                       'items': {'type': 'string',
                                                                 'minLength': 1,
                                                                 'maxLength': 50,
                                                                 'pattern': '[^ \\t\\n\\r\\u000b\\u000c]'},
                                                       'maxItems': 20}},
                               'additionalProperties': False},
 'PatchedAutomationUpdateRequest': {'type': 'object',
                                    'properties': {'name': {'type': 'string',
                                                            'minLength': 1,
                                                            'maxLength': 200,
                                                            'pattern': '[^ \\t\\n\\r\\u000b\\u000c]'},
                                                   'templateId': {'type': 'string',
                                                                  'minLength': 1,
                                                                  'maxLength': 40},
                                                   'enabled': {'type': 'boolean'},
                                                   'trigger': {'type': 'object',
                                                               'required': ['type'],
                                                               'properties': {'type': {'type': 'string',
                                                                                       'enum': ['webhook',
                                                                                                'schedule',
                                                                                                'asset_upload']},
                                                                              'secret': {'type': 'string',
                                                                                         'minLength': 16,
                                                                                         'maxLength': 256,
                                                                                         'writeOnly': True},
                                                                              'signed': {'type': 'boolean',
                                                                                         'readOnly': True},
                                                                              'cron': {'type': 'string'},
                                                                              'timezone': {'type': 'string'},
                                                                              'assetTypes': {'type': 'array',
                                                                                             'items': {'type': 'string',
                                                                                                       'enum': ['video',
                                                                                                                'image',
                                                                                                                'audio',
                                                                                                                'font',
                                                                                                                'template']}},
                                                                              'tags': {'type': 'array',
                                                                                       'items': {'type': 'string'},
                                                                                       'maxItems': 20}}},
                                                   'dataMapping': {'type': 'object',
                                                                   'additionalProperties': {'type': 'object',
                                                                                            'properties': {'value': {},
                                                                                                           'path': {'type': 'string',
                                                                                                                    'maxLength': 500},
                                                                                                           'transform': {'type': 'string',
                                                                                                                         'enum': ['uppercase',
                                                                                                                                  'lowercase',
                                                                                                                                  'trim',
                                                                                                                                  'number',
                                                                                                                                  'formatDate']},
                                                                                                           'format': {'type': 'string'},
                                                                                                           'timezone': {'type': 'string'},
                                                                                                           'default': {}}}},
                                                   'output': {'type': ['object', 'null'],
                                                              'properties': {'format': {'type': 'string',
                                                                                        'enum': ['mp4',
                                                                                                 'webm',
                                                                                                 'gif',
                                                                                                 'png',
                                                                                                 'jpg']},
                                                                             'width': {'type': 'integer',
                                                                                       'minimum': 1},
                                                                             'height': {'type': 'integer',
                                                                                        'minimum': 1},
                                                                             'fps': {'type': 'number',
                                                                                     'exclusiveMinimum': 0},
                                                                             'quality': {'type': 'string',
                                                                                         'enum': ['draft',
                                                                                                  'standard',
                                                                                                  'high']},
                                                                             'frame': {'type': 'integer',
                                                                                       'minimum': 0}},
                                                              'additionalProperties': False},
                                                   'priority': {'allOf': [{'enum': ['low', 'normal', 'high'],
                                                                           'type': 'string'}]},
                                                   'metadata': {'type': 'object',
                                                                'maxProperties': 50,
                                                                'propertyNames': {'minLength': 1,
                                                                                  'maxLength': 40},
                                                                'additionalProperties': {'type': 'string',
                                                                                         'maxLength': 500}}},
                                    'additionalProperties': False},
 'PatchedProjectUpdateRequest': {'type': 'object',
                                 'properties': {'name': {'type': 'string',
                                                         'minLength': 1,
                                                         'maxLength': 200,
                                                         'pattern': '[^ \\t\\n\\r\\u000b\\u000c]'},
                                                'slug': {'type': 'string', 'minLength': 1, 'maxLength': 63},
                                                'description': {'type': 'string', 'maxLength': 2000},
                                                'metadata': {'type': 'object',
                                                             'maxProperties': 50,
                                                             'propertyNames': {'minLength': 1,
                                                                               'maxLength': 40},
                                                             'additionalProperties': {'type': 'string',
                                                                                      'maxLength': 500}}},
                                 'additionalProperties': False},
 'PatchedWebhookEndpointUpdateRequest': {'type': 'object',
                                         'properties': {'url': {'type': 'string',
                                                                'minLength': 1,
                                                                'maxLength': 2048,
                                                                'pattern': '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+[^\\s]*$'},
                                                        'description': {'type': 'string', 'maxLength': 500},
                                                        'events': {'type': 'array',
                                                                   'items': {'enum': ['render.queued',
                                                                                      'render.started',
                                                                                      'render.progress',
                                                                                      'render.completed',
                                                                                      'render.failed',
                                                                                      'render.cancelled',
                                                                                      'asset.uploaded',
                                                                                      'asset.ready',
                                                                                      'asset.failed',
                                                                                      'automation.run.completed',
                                                                                      'automation.run.failed',
                                                                                      'webhook.test',
                                                                                      'asset.*',
                                                                                      'automation.*',
                                                                                      'render.*',
                                                                                      'webhook.*'],
                                                                             'type': 'string'},
                                                                   'maxItems': 50},
                                                        'projectIds': {'type': 'array',
                                                                       'items': {'type': 'string',
                                                                                 'minLength': 1,
                                                                                 'maxLength': 40},
                                                                       'maxItems': 100},
                                                        'enabled': {'type': 'boolean'}},
                                         'additionalProperties': False},
 'ProjectCreateRequest': {'type': 'object',
                          'properties': {'name': {'type': 'string',
                                                  'minLength': 1,
                                                  'maxLength': 200,
                                                  'pattern': '[^ \\t\\n\\r\\u000b\\u000c]'},
                                         'slug': {'type': 'string',
                                                  'minLength': 1,
                                                  'maxLength': 63,
                                                  'pattern': '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'},
                                         'description': {'type': 'string', 'maxLength': 2000},
                                         'metadata': {'type': 'object',
                                                      'maxProperties': 50,
                                                      'propertyNames': {'minLength': 1, 'maxLength': 40},
                                                      'additionalProperties': {'type': 'string',
                                                                               'maxLength': 500}}},
                          'required': ['name'],
                          'additionalProperties': False},
 'RenderCreateRequest': {'type': 'object',
                         'properties': {'templateId': {'type': 'string', 'minLength': 1, 'maxLength': 40},
                                        'inputProps': {'type': 'object', 'additionalProperties': True},
                                        'output': {'type': ['object', 'null'],
                                                   'properties': {'format': {'type': 'string',
                                                                             'enum': ['mp4',
                                                                                      'webm',
                                                                                      'gif',
                                                                                      'png',
                                                                                      'jpg']},
                                                                  'width': {'type': 'integer', 'minimum': 1},
                                                                  'height': {'type': 'integer', 'minimum': 1},
                                                                  'fps': {'type': 'number',
                                                                          'exclusiveMinimum': 0},
                                                                  'quality': {'type': 'string',
                                                                              'enum': ['draft',
                                                                                       'standard',
                                                                                       'high']},
                                                                  'frame': {'type': 'integer', 'minimum': 0}},
                                                   'additionalProperties': False},
                                        'priority': {'allOf': [{'enum': ['low', 'normal', 'high'],
                                                                'type': 'string'}]},
                                        'webhookUrl': {'type': 'string', 'maxLength': 2048},
                                        'metadata': {'type': 'object', 'additionalProperties': {}}},
                         'required': ['templateId'],
                         'additionalProperties': False},
 'WebhookEndpointCreateRequest': {'type': 'object',
                                  'properties': {'url': {'type': 'string',
                                                         'minLength': 1,
                                                         'maxLength': 2048,
                                                         'pattern': '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+[^\\s]*$'},
                                                 'description': {'type': 'string', 'maxLength': 500},
                                                 'events': {'type': 'array',
                                                            'items': {'enum': ['render.queued',
                                                                               'render.started',
                                                                               'render.progress',
                                                                               'render.completed',
                                                                               'render.failed',
                                                                               'render.cancelled',
                                                                               'asset.uploaded',
                                                                               'asset.ready',
                                                                               'asset.failed',
                                                                               'automation.run.completed',
                                                                               'automation.run.failed',
                                                                               'webhook.test',
                                                                               'asset.*',
                                                                               'automation.*',
                                                                               'render.*',
                                                                               'webhook.*'],
                                                                      'type': 'string'},
                                                            'maxItems': 50},
                                                 'projectIds': {'type': 'array',
                                                                'items': {'type': 'string',
                                                                          'minLength': 1,
                                                                          'maxLength': 40},
                                                                'maxItems': 100},
                                                 'enabled': {'type': 'boolean'}},
                                  'required': ['url'],
                                  'additionalProperties': False},
 'WebhookTestRequest': {'type': 'object',
                        'properties': {'projectId': {'type': 'string', 'minLength': 1, 'maxLength': 40}},
                        'additionalProperties': False}}


# Every operation an API key can call, by operationId: what the resources send and decode.
OPERATIONS: dict[str, Any] = {'assets_destroy': {'method': 'DELETE',
                    'path': '/v1/assets/{assetId}',
                    'path_params': {'assetId': {'type': 'string', 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                    'query': {},
                    'headers': [],
                    'body': None,
                    'responses': {'204': None}},
 'assets_partial_update': {'method': 'PATCH',
                           'path': '/v1/assets/{assetId}',
                           'path_params': {'assetId': {'type': 'string', 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                           'query': {},
                           'headers': [],
                           'body': 'PatchedAssetUpdateRequest',
                           'responses': {'200': 'Asset'}},
 'assets_retrieve': {'method': 'GET',
                     'path': '/v1/assets/{assetId}',
                     'path_params': {'assetId': {'type': 'string', 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                     'query': {'include': {'type': 'string', 'enum': ['downloadUrl']}},
                     'headers': [],
                     'body': None,
                     'responses': {'200': 'AssetWithDownload'}},
 'assets_upload_complete_create': {'method': 'POST',
                                   'path': '/v1/assets/{assetId}/upload-complete',
                                   'path_params': {'assetId': {'type': 'string',
                                                               'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                                   'query': {},
                                   'headers': ['Idempotency-Key'],
                                   'body': None,
                                   'responses': {'200': 'Asset'}},
 'assets_upload_url_create': {'method': 'POST',
                              'path': '/v1/assets/{assetId}/upload-url',
                              'path_params': {'assetId': {'type': 'string',
                                                          'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                              'query': {},
                              'headers': ['Idempotency-Key'],
                              'body': None,
                              'responses': {'200': 'AssetUploadResponse'}},
 'automation_runs_retrieve': {'method': 'GET',
                              'path': '/v1/automation-runs/{automationRunId}',
                              'path_params': {'automationRunId': {'type': 'string',
                                                                  'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                              'query': {},
                              'headers': [],
                              'body': None,
                              'responses': {'200': 'AutomationRun'}},
 'automations_destroy': {'method': 'DELETE',
                         'path': '/v1/automations/{automationId}',
                         'path_params': {'automationId': {'type': 'string',
                                                          'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                         'query': {},
                         'headers': [],
                         'body': None,
                         'responses': {'204': None}},
 'automations_hook_token_rotate_create': {'method': 'POST',
                                          'path': '/v1/automations/{automationId}/hook-token/rotate',
                                          'path_params': {'automationId': {'type': 'string',
                                                                           'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                                          'query': {},
                                          'headers': ['Idempotency-Key'],
                                          'body': None,
                                          'responses': {'200': 'Automation'}},
 'automations_partial_update': {'method': 'PATCH',
                                'path': '/v1/automations/{automationId}',
                                'path_params': {'automationId': {'type': 'string',
                                                                 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                                'query': {},
                                'headers': [],
                                'body': 'PatchedAutomationUpdateRequest',
                                'responses': {'200': 'Automation'}},
 'automations_retrieve': {'method': 'GET',
                          'path': '/v1/automations/{automationId}',
                          'path_params': {'automationId': {'type': 'string',
                                                           'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                          'query': {},
                          'headers': [],
                          'body': None,
                          'responses': {'200': 'Automation'}},
 'automations_runs_list': {'method': 'GET',
                           'path': '/v1/automations/{automationId}/runs',
                           'path_params': {'automationId': {'type': 'string',
                                                            'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                           'query': {'cursor': {'type': 'string'},
                                     'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100},
                                     'sort': {'type': 'string', 'enum': ['createdAt', '-createdAt']},
                                     'status': {'type': 'string',
                                                'enum': ['completed',
                                                         'failed',
                                                         'pending',
                                                         'rendering',
                                                         'skipped']}},
                           'headers': [],
                           'body': None,
                           'responses': {'200': 'PaginatedAutomationRunList'}},
 'automations_trigger_create': {'method': 'POST',
                                'path': '/v1/automations/{automationId}/trigger',
                                'path_params': {'automationId': {'type': 'string',
                                                                 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                                'query': {},
                                'headers': ['Idempotency-Key'],
                                'body': 'AutomationTriggerRequest',
                                'responses': {'202': 'AutomationRun', '200': 'AutomationDryRun'}},
 'projects_assets_create': {'method': 'POST',
                            'path': '/v1/projects/{projectId}/assets',
                            'path_params': {'projectId': {'type': 'string',
                                                          'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                            'query': {},
                            'headers': ['Idempotency-Key'],
                            'body': 'AssetCreateRequest',
                            'responses': {'201': 'AssetUploadResponse'}},
 'projects_assets_list': {'method': 'GET',
                          'path': '/v1/projects/{projectId}/assets',
                          'path_params': {'projectId': {'type': 'string', 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                          'query': {'cursor': {'type': 'string'},
                                    'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100},
                                    'sort': {'type': 'string',
                                             'enum': ['createdAt', '-createdAt', 'name', '-name']},
                                    'status': {'type': 'string',
                                               'enum': ['failed', 'pending', 'processing', 'ready']},
                                    'tag': {'type': 'string'},
                                    'type': {'type': 'string',
                                             'enum': ['audio', 'font', 'image', 'template', 'video']}},
                          'headers': [],
                          'body': None,
                          'responses': {'200': 'PaginatedAssetList'}},
 'projects_automations_create': {'method': 'POST',
                                 'path': '/v1/projects/{projectId}/automations',
                                 'path_params': {'projectId': {'type': 'string',
                                                               'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                                 'query': {},
                                 'headers': ['Idempotency-Key'],
                                 'body': 'AutomationCreateRequest',
                                 'responses': {'201': 'Automation'}},
 'projects_automations_list': {'method': 'GET',
                               'path': '/v1/projects/{projectId}/automations',
                               'path_params': {'projectId': {'type': 'string',
                                                             'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                               'query': {'cursor': {'type': 'string'},
                                         'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100},
                                         'sort': {'type': 'string', 'enum': ['createdAt', '-createdAt']}},
                               'headers': [],
                               'body': None,
                               'responses': {'200': 'PaginatedAutomationList'}},
 'projects_create': {'method': 'POST',
                     'path': '/v1/projects',
                     'path_params': {},
                     'query': {},
                     'headers': ['Idempotency-Key'],
                     'body': 'ProjectCreateRequest',
                     'responses': {'201': 'ProjectWithSecret'}},
 'projects_destroy': {'method': 'DELETE',
                      'path': '/v1/projects/{projectId}',
                      'path_params': {'projectId': {'type': 'string', 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                      'query': {},
                      'headers': [],
                      'body': None,
                      'responses': {'204': None}},
 'projects_list': {'method': 'GET',
                   'path': '/v1/projects',
                   'path_params': {},
                   'query': {'cursor': {'type': 'string'},
                             'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100},
                             'sort': {'type': 'string',
                                      'enum': ['createdAt',
                                               '-createdAt',
                                               'updatedAt',
                                               '-updatedAt',
                                               'name',
                                               '-name']}},
                   'headers': [],
                   'body': None,
                   'responses': {'200': 'PaginatedProjectList'}},
 'projects_partial_update': {'method': 'PATCH',
                             'path': '/v1/projects/{projectId}',
                             'path_params': {'projectId': {'type': 'string',
                                                           'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                             'query': {},
                             'headers': [],
                             'body': 'PatchedProjectUpdateRequest',
                             'responses': {'200': 'Project'}},
 'projects_renders_create': {'method': 'POST',
                             'path': '/v1/projects/{projectId}/renders',
                             'path_params': {'projectId': {'type': 'string',
                                                           'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                             'query': {'dryRun': {'type': 'boolean'}},
                             'headers': ['Idempotency-Key'],
                             'body': 'RenderCreateRequest',
                             'responses': {'201': 'RenderJob', '200': 'RenderJob'}},
 'projects_renders_list': {'method': 'GET',
                           'path': '/v1/projects/{projectId}/renders',
                           'path_params': {'projectId': {'type': 'string',
                                                         'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                           'query': {'cursor': {'type': 'string'},
                                     'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100},
                                     'sort': {'type': 'string', 'enum': ['createdAt', '-createdAt']},
                                     'status': {'type': 'string',
                                                'enum': ['cancelled',
                                                         'completed',
                                                         'failed',
                                                         'pending',
                                                         'queued',
                                                         'rendering']},
                                     'templateId': {'type': 'string'}},
                           'headers': [],
                           'body': None,
                           'responses': {'200': 'PaginatedRenderJobList'}},
 'projects_retrieve': {'method': 'GET',
                       'path': '/v1/projects/{projectId}',
                       'path_params': {'projectId': {'type': 'string', 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                       'query': {},
                       'headers': [],
                       'body': None,
                       'responses': {'200': 'Project'}},
 'projects_webhook_secret_rotate_create': {'method': 'POST',
                                           'path': '/v1/projects/{projectId}/webhook-secret/rotate',
                                           'path_params': {'projectId': {'type': 'string',
                                                                         'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                                           'query': {},
                                           'headers': ['Idempotency-Key'],
                                           'body': None,
                                           'responses': {'200': 'WebhookSecret'}},
 'renders_destroy': {'method': 'DELETE',
                     'path': '/v1/renders/{renderId}',
                     'path_params': {'renderId': {'type': 'string', 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                     'query': {},
                     'headers': [],
                     'body': None,
                     'responses': {'200': 'RenderJobWithOutput'}},
 'renders_events_retrieve': {'method': 'GET',
                             'path': '/v1/renders/{renderId}/events',
                             'path_params': {'renderId': {'type': 'string',
                                                          'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                             'query': {},
                             'headers': ['Last-Event-ID'],
                             'body': None,
                             'responses': {'200': None, '204': None}},
 'renders_retrieve': {'method': 'GET',
                      'path': '/v1/renders/{renderId}',
                      'path_params': {'renderId': {'type': 'string', 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                      'query': {},
                      'headers': [],
                      'body': None,
                      'responses': {'200': 'RenderJobWithOutput'}},
 'webhooks_create': {'method': 'POST',
                     'path': '/v1/webhooks',
                     'path_params': {},
                     'query': {},
                     'headers': ['Idempotency-Key'],
                     'body': 'WebhookEndpointCreateRequest',
                     'responses': {'201': 'WebhookEndpoint'}},
 'webhooks_deliveries_list': {'method': 'GET',
                              'path': '/v1/webhooks/{webhookId}/deliveries',
                              'path_params': {'webhookId': {'type': 'string',
                                                            'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                              'query': {'cursor': {'type': 'string'},
                                        'eventType': {'type': 'string',
                                                      'enum': ['asset.failed',
                                                               'asset.ready',
                                                               'asset.uploaded',
                                                               'automation.run.completed',
                                                               'automation.run.failed',
                                                               'render.cancelled',
                                                               'render.completed',
                                                               'render.failed',
                                                               'render.progress',
                                                               'render.queued',
                                                               'render.started',
                                                               'webhook.test']},
                                        'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100},
                                        'sort': {'type': 'string', 'enum': ['createdAt', '-createdAt']},
                                        'status': {'type': 'string',
                                                   'enum': ['failed', 'pending', 'succeeded']}},
                              'headers': [],
                              'body': None,
                              'responses': {'200': 'PaginatedDeliveryList'}},
 'webhooks_deliveries_retrieve': {'method': 'GET',
                                  'path': '/v1/webhooks/{webhookId}/deliveries/{deliveryId}',
                                  'path_params': {'webhookId': {'type': 'string',
                                                                'pattern': '^[A-Za-z0-9_]{1,64}$'},
                                                  'deliveryId': {'type': 'string',
                                                                 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                                  'query': {},
                                  'headers': [],
                                  'body': None,
                                  'responses': {'200': 'DeliveryDetail'}},
 'webhooks_deliveries_retry_create': {'method': 'POST',
                                      'path': '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry',
                                      'path_params': {'webhookId': {'type': 'string',
                                                                    'pattern': '^[A-Za-z0-9_]{1,64}$'},
                                                      'deliveryId': {'type': 'string',
                                                                     'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                                      'query': {},
                                      'headers': ['Idempotency-Key'],
                                      'body': None,
                                      'responses': {'202': 'DeliveryDetail'}},
 'webhooks_destroy': {'method': 'DELETE',
                      'path': '/v1/webhooks/{webhookId}',
                      'path_params': {'webhookId': {'type': 'string', 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                      'query': {},
                      'headers': [],
                      'body': None,
                      'responses': {'204': None}},
 'webhooks_list': {'method': 'GET',
                   'path': '/v1/webhooks',
                   'path_params': {},
                   'query': {'cursor': {'type': 'string'},
                             'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100},
                             'sort': {'type': 'string', 'enum': ['createdAt', '-createdAt']}},
                   'headers': [],
                   'body': None,
                   'responses': {'200': 'PaginatedWebhookEndpointList'}},
 'webhooks_partial_update': {'method': 'PATCH',
                             'path': '/v1/webhooks/{webhookId}',
                             'path_params': {'webhookId': {'type': 'string',
                                                           'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                             'query': {},
                             'headers': [],
                             'body': 'PatchedWebhookEndpointUpdateRequest',
                             'responses': {'200': 'WebhookEndpoint'}},
 'webhooks_retrieve': {'method': 'GET',
                       'path': '/v1/webhooks/{webhookId}',
                       'path_params': {'webhookId': {'type': 'string', 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                       'query': {},
                       'headers': [],
                       'body': None,
                       'responses': {'200': 'WebhookEndpoint'}},
 'webhooks_test_create': {'method': 'POST',
                          'path': '/v1/webhooks/{webhookId}/test',
                          'path_params': {'webhookId': {'type': 'string', 'pattern': '^[A-Za-z0-9_]{1,64}$'}},
                          'query': {},
                          'headers': ['Idempotency-Key'],
                          'body': 'WebhookTestRequest',
                          'responses': {'202': 'DeliveryDetail'}}}
