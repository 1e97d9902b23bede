"""The outbox moves to the `events` app (step 2 of 2): deliveries point at events.Event, same table, same ids."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0001_initial"),
        ("webhooks", "0002_event_leaves_for_events_app"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="event",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="events.event"),
        ),
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Event")]),
    ]
