from django.db import migrations, models

# The scheduler must see every organization's waiting and rendering jobs to choose fairly, so the
# application role gets exactly one way to do it: this function, owned by the owner role (which
# row-level security does not bind). It serialises pickers with a transaction-level advisory lock (so
# two renderers cannot both take an organization's last free slot), and returns the chosen job row
# locked for the caller's transaction, which claims it before commit releases the lock. The order is
# documented in renders/scheduling.py and docs/ARCHITECTURE.md ("Render scheduling").
CREATE_PICK_NEXT = """
CREATE FUNCTION public.render_pick_next(per_organization integer)
RETURNS TABLE (job_id text, organization_id text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7305157001);
    RETURN QUERY
    WITH rendering AS (
        SELECT r.organization_id, count(*) AS jobs
        FROM public.render_jobs r WHERE r.status = 'rendering' GROUP BY r.organization_id
    ), open AS (
        SELECT w.organization_id, coalesce(rendering.jobs, 0) AS rendering,
               (SELECT max(s.started_at) FROM public.render_jobs s
                WHERE s.organization_id = w.organization_id) AS last_started_at
        FROM (SELECT DISTINCT q.organization_id FROM public.render_jobs q WHERE q.status = 'queued') w
        LEFT JOIN rendering ON rendering.organization_id = w.organization_id
        WHERE coalesce(rendering.jobs, 0) < per_organization
    )
    SELECT j.id::text, j.organization_id::text
    FROM public.render_jobs j JOIN open ON open.organization_id = j.organization_id
    WHERE j.status = 'queued'
    ORDER BY CASE j.priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END,
             open.rendering, open.last_started_at NULLS FIRST, j.queued_at, j.id
    LIMIT 1
    FOR UPDATE OF j SKIP LOCKED;
END
$$
"""


class Migration(migrations.Migration):

    dependencies = [
        ("organizations", "0002_api_keys_row_level_security"),
        ("projects", "0001_initial"),
        ("renders", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="renderjob",
            index=models.Index(condition=models.Q(("status", "queued")), fields=["organization", "queued_at"],
                               name="render_waiting"),
        ),
        migrations.AddIndex(
            model_name="renderjob",
            index=models.Index(fields=["organization", "started_at"], name="render_org_started"),
        ),
        migrations.RunSQL(
            sql=[CREATE_PICK_NEXT, "REVOKE ALL ON FUNCTION public.render_pick_next(integer) FROM PUBLIC"],
            reverse_sql=["DROP FUNCTION IF EXISTS public.render_pick_next(integer)"],
        ),
    ]
