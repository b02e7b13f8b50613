"""The Chinese full-text index (core.fulltext, ADR 0014).

Not a model: on SQLite an FTS5 virtual table (plus its rowid map), on PostgreSQL a table
with a tsvector and a GIN index. `ensure_schema` creates whichever fits the connection.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from digitalcity.core.fulltext import ensure_schema

    ensure_schema(schema_editor.connection)


def backwards(apps, schema_editor):
    from digitalcity.core.fulltext import drop_schema

    drop_schema(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
