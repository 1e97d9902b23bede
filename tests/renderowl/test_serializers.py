"""The API's ModelSerializer writes exactly what DRF's does, with less work per row."""

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

from django.test import override_settings
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from assets.models import Asset
from assets.serializers import AssetSerializer
from events.models import Event
from projects.models import Project
from projects.serializers import ProjectSerializer
from renderowl.api.renderers import CamelCaseJSONRenderer, camelize
from renderowl.api.serializers import MetadataField
from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from renders.serializers import RenderJobSerializer, RenderJobWithOutputSerializer
from webhooks.models import Attempt, Delivery, WebhookEndpoint
from webhooks.serializers import AttemptSerializer, DeliverySerializer, WebhookEndpointSerializer


def sent(data):
    """The bytes the API sends for `data`."""
    return CamelCaseJSONRenderer().render(data)


def drf_sent(data):
    """The bytes DRF alone would send for `data` (its renderer, after camelCase)."""
    return JSONRenderer().render(camelize(data))


class PlainProjectSerializer(serializers.ModelSerializer):
    """ProjectSerializer as DRF alone would write it."""

    class Meta:
        model = Project
        fields = ProjectSerializer.Meta.fields
        read_only_fields = fields

    metadata = MetadataField(read_only=True)


def test_a_project_is_written_as_drf_writes_it(tenant):
    created = tenant.create_project(name="Fast", metadata={"campaign_id": "x"})
    tenant.client.delete(f"/v1/projects/{tenant.create_project(name='Gone')['id']}")
    with tenant_context(tenant.id):
        projects = list(Project.objects.all())
        projects[0].updated_at = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
        projects[0].description = None  # a null where the model allows none is still written as null
    assert any(project.deleted_at is not None for project in projects)
    assert ProjectSerializer(projects, many=True).data == PlainProjectSerializer(projects, many=True).data
    assert ProjectSerializer({"id": created["id"], "name": "a dict"}).data["name"] == "a dict"


def drf_twin(serializer_class):
    """`serializer_class` as DRF's own ModelSerializer would write it: the same declared fields, methods and Meta."""
    attrs = {name: copy.deepcopy(field) for name, field in serializer_class._declared_fields.items()}
    for name, field in serializer_class._declared_fields.items():
        if isinstance(field, serializers.SerializerMethodField):
            attrs[field.method_name or f"get_{name}"] = getattr(serializer_class, field.method_name or f"get_{name}")
    attrs["Meta"] = serializer_class.Meta
    return type(f"Drf{serializer_class.__name__}", (serializers.ModelSerializer,), attrs)


def written(serializer):
    """What the API sends: the data camelCased as JSON, byte for byte."""
    return json.dumps(camelize(serializer.data), separators=(",", ":"))


AT = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
ON_THE_SECOND = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
ELSEWHERE = datetime(2026, 3, 4, 7, 6, 7, 5, tzinfo=timezone(timedelta(hours=2)))


def render_jobs():
    base = dict(
        id="rnd_1", organization_id=uuid.uuid4(), project_id="prj_1", template_id="ast_1", engine="ffmpeg",
        input_props={"first_name": "Ann", "nested": {"a_b": 1}}, output={"format": "mp4", "width": 320},
        metadata={"campaign_id": "x"}, created_at=AT, updated_at=ON_THE_SECOND,
    )
    return [
        RenderJob(**base),  # pending: blank webhook URL and automation ids are null, no times yet
        RenderJob(
            **{**base, "id": "rnd_2"}, status=RenderJob.Status.COMPLETED, priority=RenderJob.Priority.HIGH,
            progress=1, stage="done", livemode=False, webhook_url="https://example.com/hook", automation_id="aut_1",
            automation_run_id="arn_1", attempts=2, output_size=123, output_duration_ms=1000, queued_at=AT,
            started_at=ELSEWHERE, completed_at=ON_THE_SECOND, output_deleted_at=AT,
        ),
        RenderJob(
            **{**base, "id": "rnd_3"}, status="failed", error={"code": "render_failed", "message": "It broke."},
            progress=0.25,
        ),
    ]


def test_a_render_job_is_written_as_drf_writes_it_in_the_api_and_in_events():
    for job in render_jobs():
        for lean in (RenderJobSerializer, RenderJobWithOutputSerializer):
            job.output_url = "https://example.com/out.mp4" if job.status == "completed" else None
            job.output_url_expires_at = AT if job.status == "completed" else None
            assert written(lean(job)) == written(drf_twin(lean)(job))
    pending, completed, _failed = (RenderJobSerializer(job).data for job in render_jobs())
    assert (pending["webhook_url"], pending["automation_id"], pending["automation_run_id"]) == (None, None, None)
    assert completed["started_at"] == "2026-03-04T05:06:07.000005Z"  # converted to UTC, as DRF does
    assert completed["completed_at"] == "2026-03-04T05:06:07Z"
    assert completed["progress"] == 1.0 and type(completed["progress"]) is float


def test_assets_and_webhook_objects_are_written_as_drf_writes_them():
    organization_id = uuid.uuid4()
    asset = Asset(
        id="ast_1", organization_id=organization_id, project_id="prj_1", type=Asset.Type.VIDEO, name="a.mp4",
        tags=["x", "y"], status="failed", content_type="video/mp4", size=10, checksum="", metadata={"width": 2},
        error={"code": "not_a_video", "message": "No."}, created_at=AT, updated_at=ELSEWHERE,
    )
    endpoint = WebhookEndpoint(
        id="whe_1", organization_id=organization_id, url="https://example.com/", events=["render.*"],
        project_ids=["prj_1"], status="failing", consecutive_failures=3, created_at=AT, updated_at=AT,
    )
    event = Event(id="evt_1", type="render.completed", body="{}", organization_id=organization_id, created_at=AT)
    delivery = Delivery(
        id="whd_1", organization_id=organization_id, event=event, endpoint=endpoint, url=endpoint.url,
        status="succeeded", attempt_count=1, created_at=AT, completed_at=ELSEWHERE,
    )
    attempt = Attempt(number=1, started_at=AT, duration_ms=12, response_status=200, response_body="ok")
    for lean, instance in (
        (AssetSerializer, asset),
        (WebhookEndpointSerializer, endpoint),
        (DeliverySerializer, delivery),
        (AttemptSerializer, attempt),
    ):
        assert written(lean(instance)) == written(drf_twin(lean)(instance))


def test_a_changed_time_zone_is_followed_as_drf_follows_it():
    job = render_jobs()[1]
    with override_settings(TIME_ZONE="Europe/Paris"):
        assert written(RenderJobSerializer(job)) == written(drf_twin(RenderJobSerializer)(job))
        assert RenderJobSerializer(job).data["created_at"] == "2026-03-04T06:06:07.890123+01:00"
    assert RenderJobSerializer(job).data["created_at"] == "2026-03-04T05:06:07.890123Z"


def test_rows_of_the_serializers_columns_are_written_as_their_instances(tenant):
    tenant.create_project(name="Row", metadata={"campaign_id": "x"}, description="")
    columns = ProjectSerializer.row_columns()
    with tenant_context(tenant.id):
        rows = list(Project.objects.order_by("id").values(*columns))
        projects = list(Project.objects.order_by("id"))
    assert ProjectSerializer(rows, many=True).data == ProjectSerializer(projects, many=True).data
    # Serializers that need the instance (a method field, a value computed outside the model) take no rows.
    assert AssetSerializer.row_columns() is None
    assert RenderJobWithOutputSerializer.row_columns() is None
    assert RenderJobSerializer.row_columns() is not None


def as_read(value):
    """A value as a `.values()` row holds it: PostgreSQL sends times in the connection's zone, UTC."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def test_rows_written_straight_to_camel_case_are_what_the_renderer_would_send():
    endpoint = WebhookEndpoint(
        id="whe_1", organization_id=uuid.uuid4(), url="https://example.com/", events=["render.*"],
        project_ids=["prj_1"], created_at=AT, updated_at=ELSEWHERE,
    )
    jobs = render_jobs()
    jobs[0].output = {"format": "mp4", "frame_rate": {"per_second": 30}}  # not the customer's: re-cased
    for serializer_class, instances in ((RenderJobSerializer, jobs), (WebhookEndpointSerializer, [endpoint])):
        rows = [{column: as_read(getattr(instance, column)) for column in serializer_class.row_columns()} for instance in instances]
        straight = serializer_class.camel_case_rows(rows)
        assert sent(straight) == drf_sent(serializer_class(rows, many=True).data)
        assert camelize(straight) is straight  # the renderer sends them as they are
    first = RenderJobSerializer.camel_case_rows([{c: getattr(jobs[0], c) for c in RenderJobSerializer.row_columns()}])[0]
    assert first["inputProps"] == {"first_name": "Ann", "nested": {"a_b": 1}}  # the customer's keys, as sent
    assert first["output"] == {"format": "mp4", "frameRate": {"perSecond": 30}}


def test_a_project_read_as_a_row_is_the_project_the_api_wrote(tenant):
    created = tenant.create_project(name="Row read", metadata={"campaign_id": "x"})
    read = tenant.client.get(f"/v1/projects/{created['id']}")
    assert read.status_code == 200
    assert read.json() == {key: value for key, value in created.items() if key != "webhookSecret"}
    assert read.json()["metadata"] == {"campaign_id": "x"}  # the customer's keys, as sent


def test_project_rows_written_straight_to_camel_case_are_what_drf_would_send():
    """Columns copied as they are (strings, a string map) and written (times, a map with other values) alike."""
    rows = [
        {"id": "prj_1", "name": "A", "slug": "a", "description": "", "metadata": {"campaign_id": "x", "n_1": ""},
         "created_at": AT, "updated_at": ON_THE_SECOND, "deleted_at": None},
        {"id": "prj_2", "name": "B", "slug": "b", "description": "d", "metadata": {"a_b": None, "count": 3},
         "created_at": AT, "updated_at": AT, "deleted_at": AT},
        {"id": "prj_3", "name": "C", "slug": "c", "description": "d", "metadata": {}, "created_at": AT,
         "updated_at": AT, "deleted_at": None},
    ]
    straight = ProjectSerializer.camel_case_rows(copy.deepcopy(rows))
    assert sent(straight) == drf_sent(PlainProjectSerializer(rows, many=True).data)
    assert straight[1]["metadata"] == {"a_b": None, "count": "3"}  # DRF's str() of a stored non-string


def test_the_renderer_sends_the_bytes_drf_s_renderer_sends():
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from django.utils.translation import gettext_lazy

    data = {
        "text": "é ☃ \u2028 \u2029 </script>", "number": 1.5, "big": 2**53, "flag": True, "nothing": None,
        "times": [AT, ON_THE_SECOND, ELSEWHERE, datetime(2026, 1, 5, 12, tzinfo=ZoneInfo("Europe/London")),
                  datetime(2026, 1, 5, 12), AT.date()],
        "id": uuid.UUID("6f1c9b8e-25a4-4a43-9f1e-0b7a7d1f2c3d"), "amount": Decimal("1.25"), "lazy": gettext_lazy("Hi"),
        "nested": {"a_b": [{"c_d": 1}], 7: "int key"},
        "deep": [[[[[]]]]],
    }
    assert sent(data) == drf_sent(data)
    assert sent({"huge": 2**70}) == b'{"huge":1180591620717411303424}'  # beyond orjson: DRF's renderer writes it
    assert sent(None) == b""
    pretty = CamelCaseJSONRenderer().render({"a_b": AT}, "application/json; indent=2")
    assert pretty == JSONRenderer().render({"aB": AT}, "application/json; indent=2")
    assert sent({"nan": float("nan")}) == b'{"nan":null}'  # DRF's would raise: the one difference
