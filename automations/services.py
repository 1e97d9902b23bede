"""Automations' use cases: save one (checked against its template), change, delete, rotate its hook token,
and follow a project's deletion and a template's."""

import secrets

from django.conf import settings
from django.db import connection

from assets.selectors import assets_live
from automations.mapping import mapping_errors, zone
from automations.models import Automation
from automations.schedules import cron_fields, cron_next, schedule_sync_on_commit
from projects.services import project_lock_for_child
from renderowl.errors import Conflict, Invalid, NotFound, Unprocessable
from renders.validation import render_input_resolve

ASSET_TYPES = ("video", "image", "audio", "font", "template")
MAX_TAGS = 20
MIN_SECRET, MAX_SECRET = 16, 256


def hook_url(automation):
    """The full URL a sender POSTs to; None for an automation without a webhook trigger."""
    if automation.trigger_type != Automation.TriggerType.WEBHOOK or not automation.hook_token:
        return None
    return f"{settings.PUBLIC_BASE_URL}/v1/hooks/{automation.id}/{automation.hook_token}"


def next_run_at(automation, *, now):
    """When a schedule trigger next fires (None for other triggers, or while disabled)."""
    if automation.trigger_type != Automation.TriggerType.SCHEDULE or not automation.enabled:
        return None
    return cron_next(cron_fields(automation.trigger["cron"]), automation.trigger["timezone"], now)


def _invalid_trigger(message, field="trigger"):
    return Invalid(message, code="invalid_trigger", field=field)


def _checked_trigger(trigger):
    """(type, the trigger as stored and shown, the hook secret or "") of a trigger in the request body."""
    if not isinstance(trigger, dict) or trigger.get("type") not in Automation.TriggerType.values:
        raise _invalid_trigger(
            f"trigger must be an object whose type is one of {', '.join(Automation.TriggerType.values)}, "
            'e.g. {"type": "webhook"}.',
            field="trigger.type",
        )
    kind = trigger["type"]
    allowed = {"webhook": {"type", "secret"}, "schedule": {"type", "cron", "timezone"},
               "asset_upload": {"type", "asset_types", "tags"}}[kind]
    unknown = sorted(set(trigger) - allowed)
    if unknown:
        camel = {"asset_types": "assetTypes"}.get(unknown[0], unknown[0])
        raise _invalid_trigger(f"A {kind} trigger has no option {camel!r}.", field=f"trigger.{camel}")
    if kind == "webhook":
        secret = trigger.get("secret", "")
        if secret and (not isinstance(secret, str) or not MIN_SECRET <= len(secret) <= MAX_SECRET):
            raise _invalid_trigger(
                f"trigger.secret must be a string of {MIN_SECRET}-{MAX_SECRET} characters (or left out for an unsigned hook).",
                field="trigger.secret",
            )
        return kind, {"type": kind, "signed": bool(secret)}, secret or ""
    if kind == "schedule":
        try:
            cron_fields(trigger.get("cron"))
        except ValueError as exc:
            raise _invalid_trigger(f"trigger.cron {exc}.", field="trigger.cron") from None
        timezone_name = trigger.get("timezone", "UTC")
        try:
            zone(timezone_name)
        except ValueError as exc:
            raise _invalid_trigger(f"trigger.timezone {exc}.", field="trigger.timezone") from None
        return kind, {"type": kind, "cron": " ".join(trigger["cron"].split()), "timezone": timezone_name}, ""
    asset_types, tags = trigger.get("asset_types", []), trigger.get("tags", [])
    if not isinstance(asset_types, list) or any(item not in ASSET_TYPES for item in asset_types):
        raise _invalid_trigger(
            f"trigger.assetTypes must be a list of asset types ({', '.join(ASSET_TYPES)}).", field="trigger.assetTypes"
        )
    if (not isinstance(tags, list) or len(tags) > MAX_TAGS
            or any(not isinstance(tag, str) or not 1 <= len(tag) <= 100 for tag in tags)):
        raise _invalid_trigger(
            f"trigger.tags must be a list of at most {MAX_TAGS} tags of 1-100 characters.", field="trigger.tags"
        )
    return kind, {"type": kind, "asset_types": sorted(set(asset_types)), "tags": sorted(set(tags))}, ""


def _checked_template_and_mapping(*, organization_id, project_id, template_id, data_mapping, output):
    """Check the template (a ready template asset of the project), the output and the mapping against the template.

    The template and output go through the render's own validation, so an automation saves only what
    could render; the template stays share-locked until commit, so a concurrent delete sees the automation.
    """
    try:
        render_input_resolve(
            organization_id=organization_id, project_id=project_id, template_id=template_id, input_props={},
            output=output,
        )
    except Unprocessable as exc:
        if exc.code != "invalid_input_props":  # the props are the mapping's to supply, checked below
            raise
    template = _template_locked(organization_id=organization_id, project_id=project_id, template_id=template_id)
    errors = mapping_errors(
        data_mapping, input_schema=template.metadata["inputSchema"],
        default_props=template.metadata.get("defaultProps", {}),
    )
    if errors:
        raise Unprocessable(
            "; ".join(f"{error.field}: {error.message}" for error in errors[:50]),
            code="invalid_data_mapping",
            errors=[{"field": error.field, "message": error.message} for error in errors[:50]],
        )


def _template_locked(*, organization_id, project_id, template_id):
    query = assets_live(organization_id=organization_id, project_id=project_id).filter(pk=template_id)
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR SHARE OF assets", params)
    template = query.first()
    if template is None:
        raise NotFound(f"The template {template_id!r} was deleted meanwhile.", code="not_found", field="templateId")
    return template


def automation_create(
    *, organization, project_id, name, template_id, trigger, data_mapping, enabled=True, output=None,
    priority=Automation.Priority.NORMAL, metadata=None,
):
    """Save an automation whose trigger, template, output and mapping all check out; a schedule reaches beat on commit."""
    project = project_lock_for_child(organization_id=organization.id, project_id=project_id)
    kind, shown, secret = _checked_trigger(trigger)
    _checked_template_and_mapping(
        organization_id=organization.id, project_id=project.id, template_id=template_id, data_mapping=data_mapping,
        output=output,
    )
    automation = Automation.objects.create(
        organization=organization, project=project, name=name, template_id=template_id, enabled=enabled,
        trigger_type=kind, trigger=shown, hook_secret=secret,
        hook_token=secrets.token_urlsafe(32) if kind == Automation.TriggerType.WEBHOOK else "",
        data_mapping=data_mapping, output=output, priority=priority, metadata=metadata or {},
    )
    if kind == Automation.TriggerType.SCHEDULE:
        schedule_sync_on_commit(automation_id=automation.id, organization_id=organization.id)
    return automation


def automation_update(*, automation, changes):
    """Partial update, checked as a creation is (the mapping against the template, new or kept)."""
    automation = Automation.objects.select_for_update().get(pk=automation.pk)
    had_schedule = automation.trigger_type == Automation.TriggerType.SCHEDULE
    for field in ("name", "enabled", "priority", "metadata"):
        if field in changes:
            setattr(automation, field, changes[field])
    if "trigger" in changes:
        kind, shown, secret = _checked_trigger(changes["trigger"])
        if kind == Automation.TriggerType.WEBHOOK and automation.trigger_type == kind and "secret" not in changes["trigger"]:
            secret = automation.hook_secret  # a PATCH that does not name the secret keeps it
            shown = {**shown, "signed": bool(secret)}
        if kind != Automation.TriggerType.WEBHOOK:
            automation.hook_token = ""
        elif not automation.hook_token:
            automation.hook_token = secrets.token_urlsafe(32)
        automation.trigger_type, automation.trigger, automation.hook_secret = kind, shown, secret
    if {"template_id", "data_mapping", "output"} & set(changes):
        automation.template_id = changes.get("template_id", automation.template_id)
        automation.data_mapping = changes.get("data_mapping", automation.data_mapping)
        automation.output = changes.get("output", automation.output)
        _checked_template_and_mapping(
            organization_id=automation.organization_id, project_id=automation.project_id,
            template_id=automation.template_id, data_mapping=automation.data_mapping, output=automation.output,
        )
    automation.save()
    if had_schedule or automation.trigger_type == Automation.TriggerType.SCHEDULE:
        schedule_sync_on_commit(automation_id=automation.id, organization_id=automation.organization_id)
    return automation


def automation_delete(*, automation):
    """Delete the automation and its run history (its renders stay); its schedule leaves beat on commit."""
    automation_id, organization_id = automation.id, automation.organization_id
    had_schedule = automation.trigger_type == Automation.TriggerType.SCHEDULE
    automation.delete()
    if had_schedule:
        schedule_sync_on_commit(automation_id=automation_id, organization_id=organization_id)


def automation_rotate_hook_token(*, automation):
    """A new hook token: the old hookUrl answers 404 from now on."""
    if automation.trigger_type != Automation.TriggerType.WEBHOOK:
        raise Conflict(
            f"The automation {automation.id} has a {automation.trigger_type} trigger; only a webhook trigger has a "
            "hook token to rotate.",
            code="not_a_webhook_trigger",
        )
    automation.hook_token = secrets.token_urlsafe(32)
    automation.save(update_fields=["hook_token", "updated_at"])
    return automation


def automations_disable_for_deleted_project(sender, *, project, now, **kwargs):
    """`project_deleted` receiver: disable the project's automations in the deleting transaction (schedules on commit)."""
    automations = list(Automation.objects.select_for_update().filter(project=project, enabled=True))
    for automation in automations:
        automation.enabled = False
        automation.save(update_fields=["enabled", "updated_at"])
        if automation.trigger_type == Automation.TriggerType.SCHEDULE:
            schedule_sync_on_commit(automation_id=automation.id, organization_id=automation.organization_id)


def automations_refuse_deleting_template_in_use(sender, *, asset, **kwargs):
    """`asset_deleting` receiver: the template of an enabled automation cannot be deleted (409 asset_in_use).

    The asset's row lock comes first (automation saves share-lock the template), like renders' receiver.
    """
    list(assets_live(organization_id=asset.organization_id, project_id=asset.project_id)
         .filter(pk=asset.pk).select_for_update(of=("self",)).values_list("pk"))
    automation = (
        Automation.objects.filter(organization_id=asset.organization_id, template_id=asset.id, enabled=True)
        .only("id", "name").first()
    )
    if automation is not None:
        raise Conflict(
            f"The asset {asset.id} is the template of the enabled automation {automation.id} ({automation.name}); "
            f"disable or delete the automation first (PATCH /v1/automations/{automation.id} "
            '{"enabled": false}), or point it at another template.',
            code="asset_in_use",
        )
