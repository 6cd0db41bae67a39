"""Full-text search over sentences (annotate/search_index.py): SQLite's FTS5 table and its
triggers, or PostgreSQL's generated tsvector column and GIN index, filled from the
sentences there are in one pass; and an index the search's filters read the tallies from."""

from django.db import migrations, models

from annotate import search_index


def forwards(apps, schema_editor):
    search_index.install(schema_editor.connection)


def backwards(apps, schema_editor):
    search_index.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("annotate", "0027_dynamic_overlap")]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
        migrations.AddIndex(
            model_name="sentencetally",
            index=models.Index(
                fields=["target", "sentence", "gold", "agreement", "votes"], name="tally_search"
            ),
        ),
    ]
