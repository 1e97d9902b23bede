import django.db.models.deletion
from django.db import migrations, models

import renderowl.ids
from renderowl.database import EnableRowLevelSecurity

# The hook (POST /v1/hooks/{automationId}/{token}) must find its automation before the organization is
# known, so the application role gets exactly one way in: this function, owned by the owner role, that
# answers the organization of the automation whose id and token both match (in a live project), and nothing else.
CREATE_HOOK_LOOKUP = """
CREATE FUNCTION public.automation_hook_lookup(automation_id text, token text)
RETURNS TABLE (organization_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.organization_id FROM public.automations a
    JOIN public.projects p ON p.id = a.project_id AND p.deleted_at IS NULL
    WHERE a.id = automation_id AND a.trigger_type = 'webhook' AND a.hook_token <> '' AND a.hook_token = token
$$
"""


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("organizations", "0002_api_keys_row_level_security"),
        ("projects", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Automation",
            fields=[
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("id", models.CharField(default=renderowl.ids.IdFactory("aut"), editable=False, max_length=40, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200)),
                ("template_id", models.CharField(help_text="The template asset (no FK, like a render's).", max_length=40)),
                ("enabled", models.BooleanField(default=True)),
                ("trigger_type", models.CharField(choices=[("webhook", "Webhook"), ("schedule", "Schedule"), ("asset_upload", "Asset Upload")], max_length=16)),
                ("trigger", models.JSONField(default=dict, help_text="The trigger as the API shows it (never the hook's secret).")),
                ("hook_token", models.CharField(blank=True, default="", help_text="Webhook triggers: in hookUrl.", max_length=64)),
                ("hook_secret", models.CharField(blank=True, default="", help_text="Webhook triggers: the HMAC key a signed hook needs.", max_length=256)),
                ("data_mapping", models.JSONField(blank=True, default=dict)),
                ("output", models.JSONField(blank=True, help_text="The renders' output spec; the template's when empty.", null=True)),
                ("priority", models.CharField(choices=[("low", "Low"), ("normal", "Normal"), ("high", "High")], default="normal", max_length=8)),
                ("metadata", models.JSONField(blank=True, default=dict)),
                ("last_run_at", models.DateTimeField(blank=True, null=True)),
                ("organization", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="organizations.organization")),
                ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="projects.project")),
            ],
            options={
                "db_table": "automations",
                "indexes": [
                    models.Index(fields=["organization", "project", "created_at", "id"], name="automation_project_created"),
                    models.Index(condition=models.Q(("enabled", True)), fields=["organization", "project", "trigger_type"], name="automation_enabled_trigger"),
                    models.Index(condition=models.Q(("enabled", True)), fields=["organization", "template_id"], name="automation_enabled_template"),
                ],
            },
        ),
        migrations.CreateModel(
            name="AutomationRun",
            fields=[
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("id", models.CharField(default=renderowl.ids.IdFactory("arn"), editable=False, max_length=40, primary_key=True, serialize=False)),
                ("trigger", models.CharField(choices=[("webhook", "Webhook"), ("schedule", "Schedule"), ("asset_upload", "Asset Upload"), ("manual", "Manual")], max_length=16)),
                ("status", models.CharField(choices=[("pending", "Pending"), ("rendering", "Rendering"), ("completed", "Completed"), ("failed", "Failed"), ("skipped", "Skipped")], default="pending", max_length=16)),
                ("payload", models.JSONField(blank=True, null=True)),
                ("input", models.JSONField(blank=True, help_text="The props the mapping made of the payload.", null=True)),
                ("render_id", models.CharField(blank=True, default="", max_length=40)),
                ("error", models.JSONField(blank=True, help_text="{code, message} when the run failed or was skipped.", null=True)),
                ("dedupe_key", models.CharField(blank=True, default="", help_text="One run per trigger event: the hook's Idempotency-Key, the schedule's tick, the asset event.", max_length=300)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("automation", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="runs", to="automations.automation")),
                ("organization", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="organizations.organization")),
            ],
            options={
                "db_table": "automation_runs",
                "indexes": [
                    models.Index(fields=["organization", "automation", "created_at", "id"], name="automation_run_created"),
                    models.Index(condition=models.Q(("render_id", ""), _negated=True), fields=["organization", "render_id"], name="automation_run_render"),
                ],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("dedupe_key", ""), _negated=True), fields=("automation", "dedupe_key"), name="automation_run_once_per_trigger_event"),
                ],
            },
        ),
        EnableRowLevelSecurity("automations"),
        EnableRowLevelSecurity("automation_runs"),
        migrations.RunSQL(
            sql=[CREATE_HOOK_LOOKUP, "REVOKE ALL ON FUNCTION public.automation_hook_lookup(text, text) FROM PUBLIC"],
            reverse_sql=["DROP FUNCTION IF EXISTS public.automation_hook_lookup(text, text)"],
        ),
    ]
