"""The outbox, moved here from `webhooks` with its rows (the table was renamed `events` by webhooks 0002).

The model is created in the migration state only; then the republish schedule is added: events that
were never dispatched become due for the sweep at once, unless the old sweep had given up on them.
"""

import django.utils.timezone
from django.db import migrations, models

import renderowl.ids

OLD_MAX_PUBLISH_ATTEMPTS = 10


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("webhooks", "0002_event_leaves_for_events_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Event",
                    fields=[
                        ("id", models.CharField(default=renderowl.ids.IdFactory("evt"), editable=False, max_length=40,
                                                primary_key=True, serialize=False)),
                        ("organization_id", models.UUIDField()),
                        ("project_id", models.CharField(max_length=40)),
                        ("type", models.CharField(help_text="A type of events.registry (no choices: apps add types).",
                                                  max_length=64)),
                        ("body", models.TextField()),
                        ("target_urls", models.JSONField(blank=True, default=list,
                                                         help_text="Ad-hoc receivers besides endpoints.")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now,
                                                            help_text="The envelope's createdAt, to the microsecond.")),
                        ("published_at", models.DateTimeField(
                            blank=True, null=True,
                            help_text="When subscribers took it (webhook fan-out created its deliveries).")),
                        ("publish_attempts", models.PositiveSmallIntegerField(
                            default=0,
                            help_text="Times the sweep republished it; it gives up after EVENTS_MAX_REPUBLISH_ATTEMPTS.")),
                    ],
                    options={
                        "db_table": "events",
                        "indexes": [
                            models.Index(fields=["organization_id", "created_at", "id"], name="event_org_created"),
                        ],
                    },
                ),
            ],
        ),
        migrations.AddField(
            model_name="event",
            name="next_publish_at",
            field=models.DateTimeField(
                blank=True, null=True,
                help_text="When the sweep may republish it if it is still not dispatched; empty once dispatched or "
                "given up."),
        ),
        migrations.RunSQL(
            "UPDATE events SET next_publish_at = created_at "
            f"WHERE published_at IS NULL AND publish_attempts < {OLD_MAX_PUBLISH_ATTEMPTS}",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(condition=models.Q(("published_at__isnull", True)), fields=["next_publish_at"],
                               name="event_republish_due"),
        ),
    ]
