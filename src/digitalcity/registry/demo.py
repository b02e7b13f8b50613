"""The demo city's registry sources and the default golden-record rules (issue 5).

`seed_registry(...)` is idempotent (rows looked up by code / entity+field; existing ones
are left as staff edited them). The demo city has no education bureau: the education
source is kept by the 人社局 (which runs vocational education there), as the brief asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from digitalcity.core.models import Department

from .choices import Entity
from .models import FieldRule, Source

__all__ = ["DEFAULT_RULES", "DEMO_SOURCES", "seed_demo_people", "seed_registry"]


@dataclass(frozen=True)
class SourceSpec:
    code: str
    name: str
    department: str  # core.Department code (web/demo.py)
    entity: str
    key_field: str
    mapping: dict[str, str]


_P, _O = Entity.PERSON, Entity.ORGANIZATION
DEMO_SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        "police",
        "公安户籍人口",
        "police",
        _P,
        "id_number",
        {
            "公民身份号码": "id_number",
            "姓名": "name",
            "性别": "sex",
            "出生日期": "birth_date",
            "户籍地址": "registered_address",
            "户籍地区划代码": "division",
            "婚姻状况": "marital_status",
            "户籍状态": "status",
            "死亡日期": "death_date",
        },
    ),
    SourceSpec(
        "civil-affairs",
        "民政婚姻登记",
        "civil-affairs",
        _P,
        "id_number",
        {"身份证号": "id_number", "姓名": "name", "婚姻状况": "marital_status"},
    ),
    SourceSpec(
        "education",
        "教育学籍学历（人社局代管）",
        "hrss",
        _P,
        "id_number",
        {"证件号码": "id_number", "姓名": "name", "出生日期": "birth_date", "学历": "education"},
    ),
    SourceSpec(
        "hrss",
        "人社社会保险参保",
        "hrss",
        _P,
        "id_number",
        {
            "社会保障号码": "id_number",
            "姓名": "name",
            "性别": "sex",
            "出生日期": "birth_date",
            "参保状态": "insurance_status",
            "联系电话": "phone",
        },
    ),
    SourceSpec(
        "health",
        "卫健出生死亡登记",
        "health",
        _P,
        "id_number",
        {
            "身份证号码": "id_number",
            "姓名": "name",
            "性别": "sex",
            "出生日期": "birth_date",
            "死亡日期": "death_date",
        },
    ),
    SourceSpec(
        "samr",
        "市场主体登记",
        "samr",
        _O,
        "uscc",
        {
            "统一社会信用代码": "uscc",
            "组织机构代码": "org_code",
            "企业名称": "name",
            "法定代表人": "legal_representative",
            "住所": "registered_address",
            "登记机关区划": "division",
            "登记状态": "status",
            "成立日期": "established_on",
        },
    ),
    SourceSpec(
        "tax",
        "税务登记",
        "tax",
        _O,
        "uscc",
        {
            "纳税人识别号": "uscc",
            "组织机构代码": "org_code",
            "纳税人名称": "name",
            "法定代表人": "legal_representative",
            "纳税状态": "tax_status",
        },
    ),
)

# entity, field, source codes (authoritative first, then the fallback order)
DEFAULT_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (_P, "name", ("police", "hrss", "health", "civil-affairs", "education")),
    (_P, "sex", ("police", "hrss", "health")),
    (_P, "birth_date", ("police", "health", "hrss", "education")),
    (_P, "registered_address", ("police",)),
    (_P, "division", ("police",)),
    (_P, "marital_status", ("civil-affairs", "police")),
    (_P, "education", ("education",)),
    (_P, "insurance_status", ("hrss",)),
    (_P, "death_date", ("health", "police")),
    (_P, "status", ("police",)),
    (_O, "name", ("samr", "tax")),
    (_O, "org_code", ("samr", "tax")),
    (_O, "legal_representative", ("samr", "tax")),
    (_O, "registered_address", ("samr",)),
    (_O, "division", ("samr",)),
    (_O, "status", ("samr",)),
    (_O, "established_on", ("samr",)),
    (_O, "tax_status", ("tax",)),
)


def seed_registry() -> tuple[int, int]:
    """Create the demo sources whose departments exist, and the default rules.

    Returns (sources created, rules created). Departments missing from the database
    (a city without the demo) are skipped, and so are rules without any source.
    """
    departments = {d.code: d for d in Department.objects.all()}
    created_sources = created_rules = 0
    with transaction.atomic():
        for spec in DEMO_SOURCES:
            department = departments.get(spec.department)
            if department is None:
                continue
            _source, created = Source.objects.get_or_create(
                code=spec.code,
                defaults={
                    "name": spec.name,
                    "department": department,
                    "entity": spec.entity,
                    "key_field": spec.key_field,
                    "mapping": spec.mapping,
                },
            )
            created_sources += created
        known = set(Source.objects.values_list("code", flat=True))
        for entity, field, codes in DEFAULT_RULES:
            present = [c for c in codes if c in known]
            if not present:
                continue
            _rule, created = FieldRule.objects.get_or_create(
                entity=entity, field=field, defaults={"sources": present}
            )
            created_rules += created
    return created_sources, created_rules


def seed_demo_people() -> int:
    """Load the demo city's citizens into the population database through the real import
    path: one police household-register batch built from the demo accounts.

    Idempotent: the same rows give the same batch content, which the import recognises and
    leaves alone. Returns the number of rows delivered (0 without the police source).
    """
    from digitalcity.core.context import acting_as
    from digitalcity.core.ids import parse_citizen_id
    from digitalcity.identity.models import AccountKind, User

    from .imports import import_rows

    source = Source.objects.filter(code="police").first()
    if source is None:
        return 0
    rows = []
    citizens = User.objects.filter(kind=AccountKind.CITIZEN, id_number__isnull=False)
    for user in citizens.order_by("username").only("real_name", "id_number"):
        if not user.id_number:
            continue
        parsed = parse_citizen_id(user.id_number)
        rows.append(
            {
                "公民身份号码": parsed.number,
                "姓名": user.real_name,
                "性别": parsed.sex_label,
                "出生日期": parsed.birth_date.isoformat(),
                "户籍地址": f"示范市幸福路{int(parsed.number[14:17])}号",
                "户籍地区划代码": parsed.division_code,
                "婚姻状况": "",
                "户籍状态": "",
                "死亡日期": "",
            }
        )
    if rows:
        with acting_as(label="cli:demo"):
            import_rows(source=source, rows=rows)
    return len(rows)
