from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("renders", "0004_output_retention_and_retry"),
    ]

    operations = [
        migrations.AddField(
            model_name="renderjob",
            name="automation_id",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        migrations.AddField(
            model_name="renderjob",
            name="automation_run_id",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
    ]
