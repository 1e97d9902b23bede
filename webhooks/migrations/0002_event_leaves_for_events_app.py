"""The outbox moves to the `events` app, keeping its table's rows and ids (step 1 of 2).

The table is renamed `events`, loses its foreign keys to organizations and projects (events sit below
every domain app and keep plain ids; row-level security still binds them by organization_id), and the
test-only `only_endpoint` column goes: test sends are delivered by webhooks itself now.
"""

from django.db import migrations

FOREIGN_KEYS = ("organization_id", "project_id")

DROP_FOREIGN_KEYS = """
DO $$
DECLARE constraint_name text;
BEGIN
  FOR constraint_name IN
    SELECT con.conname FROM pg_constraint con
    JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
    WHERE con.conrelid = 'webhook_events'::regclass AND con.contype = 'f'
      AND att.attname IN ('organization_id', 'project_id')
  LOOP
    EXECUTE format('ALTER TABLE webhook_events DROP CONSTRAINT %I', constraint_name);
  END LOOP;
END $$;
"""

RESTORE_FOREIGN_KEYS = [
    "ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_organization_id_fk FOREIGN KEY (organization_id) "
    "REFERENCES organizations (id) DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_project_id_fk FOREIGN KEY (project_id) "
    "REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED",
]


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="event", name="event_unpublished"),
        migrations.RemoveField(model_name="event", name="only_endpoint"),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(DROP_FOREIGN_KEYS, reverse_sql=RESTORE_FOREIGN_KEYS)],
        ),
        migrations.AlterModelTable(name="event", table="events"),
        migrations.RunSQL(
            "ALTER POLICY webhook_events_tenant_isolation ON events RENAME TO events_tenant_isolation",
            reverse_sql="ALTER POLICY events_tenant_isolation ON events RENAME TO webhook_events_tenant_isolation",
        ),
    ]
