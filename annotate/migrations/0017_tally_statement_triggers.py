"""PostgreSQL's tally triggers fire once a statement (annotate/tally_pg.py); SQLite's stay."""

from django.db import migrations


def forward(apps, schema_editor):
    from annotate import tally_pg

    tally_pg.install(schema_editor.connection)


def backward(apps, schema_editor):
    from annotate import tally_pg

    tally_pg.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("annotate", "0016_sentence_duplicate_group")]

    operations = [migrations.RunPython(forward, backward)]
