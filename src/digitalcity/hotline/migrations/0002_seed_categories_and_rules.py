"""Seed the local category tree and Beijing's default deadline rules (docs/hotline.md)."""

from typing import Any

from django.db import migrations

RULES = (
    # request_type, urgency, amount, unit, sign_hours, note
    ("", "critical", 2, "calendar_hours", 1, "涉及人身财产安全：2 小时内反馈"),
    ("", "urgent", 24, "calendar_hours", 1, "水电气热等紧急诉求：24 小时内反馈"),
    ("complaint", "normal", 15, "workdays", 2, "复杂诉求（投诉）：15 个工作日"),
    ("report", "normal", 15, "workdays", 2, "复杂诉求（举报）：15 个工作日"),
    ("", "", 7, "workdays", 2, "一般诉求：7 个工作日"),
)


def seed(apps: Any, schema_editor: Any) -> None:
    from digitalcity.hotline.categories import seed_categories

    seed_categories(apps.get_model("hotline", "Category"))
    rule = apps.get_model("hotline", "DeadlineRule")
    for request_type, urgency, amount, unit, sign_hours, note in RULES:
        if not rule.objects.filter(request_type=request_type, urgency=urgency).exists():
            rule.objects.create(
                request_type=request_type,
                urgency=urgency,
                amount=amount,
                unit=unit,
                sign_hours=sign_hours,
                note=note,
            )


class Migration(migrations.Migration):
    dependencies = [("hotline", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
