"""Triggers that keep the tallies (annotate/tally_sql.py), and the counts of existing labels."""

from django.db import migrations


def install_triggers(apps, schema_editor):
    from annotate import tally_sql

    tally_sql.install(schema_editor.connection)


def uninstall_triggers(apps, schema_editor):
    from annotate import tally_sql

    tally_sql.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("annotate", "0010_tallies")]

    operations = [migrations.RunPython(install_triggers, uninstall_triggers)]
