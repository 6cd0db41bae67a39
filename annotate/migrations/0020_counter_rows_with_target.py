"""The disagreement count's triggers only UPDATE its row, which each target gets when it is
made (annotate/tally_sql.py): a delete can no longer bring a counter row back."""

from django.db import migrations


def install_triggers(apps, schema_editor):
    from annotate import tally_pg, tally_sql

    tally_sql.install_count(schema_editor.connection)
    # On PostgreSQL, once a statement again (migration 0017), with these rules.
    tally_pg.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("annotate", "0019_target_gold_method")]

    # Backwards leaves these triggers: the upserting ones are not kept, and these are right
    # for the tables as 0013 made them (0013's own reverse drops them with the table).
    operations = [migrations.RunPython(install_triggers, migrations.RunPython.noop)]
