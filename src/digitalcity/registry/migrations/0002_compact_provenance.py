# Compact provenance: the rows of PersonFieldValue / OrganizationFieldValue (one per
# golden field) move into the current version's `provenance` JSON; a partial index finds
# a person's keyless (linked) records.

from typing import Any

from django.db import migrations, models


def move_provenance(apps: Any, schema_editor: Any) -> None:
    for value_name, version_name, fk in (
        ("PersonFieldValue", "PersonVersion", "person_id"),
        ("OrganizationFieldValue", "OrganizationVersion", "organization_id"),
    ):
        values = apps.get_model("registry", value_name)
        versions = apps.get_model("registry", version_name)
        origin: dict[int, dict[str, list[Any]]] = {}
        for subject, field, source, batch, record, at in values.objects.values_list(
            fk, "field", "source_id", "batch_id", "source_record_id", "updated_at"
        ).iterator(chunk_size=10000):
            origin.setdefault(subject, {})[field] = [source, batch, record, at.isoformat()]
        current = versions.objects.filter(valid_to__isnull=True)
        for version in current.iterator(chunk_size=10000):
            version.provenance = origin.get(getattr(version, fk), {})
            version.save(update_fields=["provenance"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="organizationversion",
            name="provenance",
            field=models.JSONField(default=dict, verbose_name="字段来源"),
        ),
        migrations.AddField(
            model_name="personversion",
            name="provenance",
            field=models.JSONField(default=dict, verbose_name="字段来源"),
        ),
        migrations.AddIndex(
            model_name="sourcerecord",
            index=models.Index(
                condition=models.Q(("key_valid", False)),
                fields=["person"],
                name="registry_rec_unkeyed",
            ),
        ),
        migrations.RunPython(move_provenance, migrations.RunPython.noop),
        migrations.DeleteModel(
            name="OrganizationFieldValue",
        ),
        migrations.DeleteModel(
            name="PersonFieldValue",
        ),
    ]
