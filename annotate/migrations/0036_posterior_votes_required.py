from django.db import migrations, models


class Migration(migrations.Migration):
    """Every posterior has its count once 0035 filled them: required from here on. A
    migration of its own, so PostgreSQL commits the backfill before the ALTER."""

    dependencies = [
        ("annotate", "0035_posterior_votes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sentenceposterior",
            name="votes",
            field=models.PositiveIntegerField(
                help_text="Stance labels (skips excluded) it was computed from, as SentenceTally.votes counts them."
            ),
        ),
    ]
