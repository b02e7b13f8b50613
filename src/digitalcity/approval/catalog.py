"""Excel import and export of the item catalog (事项清单), whole or nothing (core.imports).

One row per item; materials in one cell as ``代码|名称|必需|可共享`` entries separated by
newlines or ``；``; the form fields as the JSON of `formspec`. An import validates every
row first and writes nothing if any is wrong; the refusal lists each problem by row and
column and can be downloaded as an Excel report.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from digitalcity.core.imports import ImportRefused, RowError
from digitalcity.core.models import Department

from .choices import ApplicantKind, ItemKind, ResultKind, Visits
from .formspec import validate_levels, validate_spec
from .models import Item, ItemMaterial

__all__ = ["COLUMNS", "export_catalog", "import_catalog"]

COLUMNS = [
    "事项编码",
    "事项名称",
    "设定依据",
    "牵头部门代码",
    "协办部门代码",
    "申请人类型",
    "办件类型",
    "法定时限",
    "承诺时限",
    "审查时限",
    "办理结果",
    "结果名称",
    "有效期（年）",
    "证号前缀",
    "收费",
    "到现场次数",
    "网上可办",
    "办理层级",
    "申请材料",
    "申请表字段",
    # Art. 43: the lower-level department's preliminary review; optional (a file without
    # this column leaves the items' preliminary departments as they are).
    "初审部门代码",
]
_YES = {"是": True, "否": False}
_SPLIT = re.compile(r"[,，、;；\s]+")


def _label_map(choices: Any) -> dict[str, str]:
    return {str(label): value for value, label in choices.choices}


def export_catalog(items: Any = None) -> bytes:
    """The catalog as .xlsx in the import's format (re-importable unchanged)."""
    items = items if items is not None else Item.objects.all()
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has one sheet
    sheet.title = _("事项清单")
    sheet.append(COLUMNS)
    for item in items.select_related("lead_department", "preliminary_department").prefetch_related(
        "co_departments", "materials"
    ):
        materials = "\n".join(
            f"{m.code}|{m.name}|{'必需' if m.required else '可选'}|{'可共享' if m.shared else ''}"
            for m in item.materials.all()
        )
        sheet.append(
            [
                item.code,
                item.name,
                item.legal_basis,
                item.lead_department.code,
                "、".join(d.code for d in item.co_departments.all()),
                str(ApplicantKind(item.applicant_kind).label),
                str(ItemKind(item.kind).label),
                item.legal_days,
                item.promised_days,
                item.review_days,
                str(ResultKind(item.result_kind).label),
                item.result_name,
                item.validity_years,
                item.licence_prefix,
                item.fee,
                item.visits,
                "是" if item.online else "否",
                ",".join(item.division_levels),
                materials,
                json.dumps(item.form_spec, ensure_ascii=False),
                item.preliminary_department.code if item.preliminary_department else "",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _int(value: Any, column: str, row: int, errors: list[RowError], minimum: int = 0) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.append(RowError(row, column, _("须为整数，实际为“%(v)s”") % {"v": value}))
        return None
    if number < minimum:
        errors.append(RowError(row, column, _("不能小于 %(m)d") % {"m": minimum}))
        return None
    return number


def _materials(text: str, row: int, errors: list[RowError]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for line in re.split(r"[\n；;]+", text or ""):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or not re.fullmatch(r"[a-z0-9_-]{1,40}", parts[0]) or not parts[1]:
            errors.append(
                RowError(row, "申请材料", _("“%(l)s”须为“代码|名称|必需|可共享”") % {"l": line})
            )
            continue
        found.append(
            {
                "code": parts[0],
                "name": parts[1],
                "required": (parts[2] if len(parts) > 2 else "必需") != "可选",
                "shared": len(parts) > 3 and parts[3] == "可共享",
            }
        )
    codes = [m["code"] for m in found]
    if len(codes) != len(set(codes)):
        errors.append(RowError(row, "申请材料", _("材料代码重复")))
    return found


def _row(
    values: dict[str, Any], row: int, departments: dict[str, Department]
) -> tuple[dict[str, Any], list[RowError]]:
    errors: list[RowError] = []

    def text(column: str, required: bool = True) -> str:
        value = values.get(column)
        value = "" if value is None else str(value).strip()
        if required and not value:
            errors.append(RowError(row, column, _("不能为空")))
        return value

    def choice(column: str, choices: Any) -> str:
        value = text(column)
        mapping = _label_map(choices)
        if value and value not in mapping:
            errors.append(
                RowError(
                    row,
                    column,
                    _("“%(v)s”无效，可选：%(all)s") % {"v": value, "all": "、".join(mapping)},
                )
            )
        return mapping.get(value, "")

    data: dict[str, Any] = {
        "code": text("事项编码"),
        "name": text("事项名称"),
        "legal_basis": text("设定依据"),
        "applicant_kind": choice("申请人类型", ApplicantKind),
        "kind": choice("办件类型", ItemKind),
        "result_kind": choice("办理结果", ResultKind),
        "result_name": text("结果名称"),
        "licence_prefix": text("证号前缀", required=False) or "XK",
        "fee": text("收费", required=False),
    }
    lead = text("牵头部门代码")
    if lead and lead not in departments:
        errors.append(RowError(row, "牵头部门代码", _("部门“%(c)s”不存在") % {"c": lead}))
    data["lead_department"] = departments.get(lead)
    co_codes = [c for c in _SPLIT.split(text("协办部门代码", required=False)) if c]
    for code in co_codes:
        if code not in departments:
            errors.append(RowError(row, "协办部门代码", _("部门“%(c)s”不存在") % {"c": code}))
    data["co"] = [departments[c] for c in co_codes if c in departments]
    if "初审部门代码" in values:
        county = text("初审部门代码", required=False)
        if county and county not in departments:
            errors.append(RowError(row, "初审部门代码", _("部门“%(c)s”不存在") % {"c": county}))
        elif county and county == lead:
            errors.append(RowError(row, "初审部门代码", _("下级初审部门不能是牵头部门本身")))
        data["preliminary_department"] = departments.get(county) if county else None
    data["legal_days"] = _int(values.get("法定时限"), "法定时限", row, errors, 1)
    data["promised_days"] = _int(values.get("承诺时限"), "承诺时限", row, errors, 1)
    data["review_days"] = _int(values.get("审查时限"), "审查时限", row, errors, 1) or 5
    if data["legal_days"] is None:
        errors.append(RowError(row, "法定时限", _("不能为空")))
    if data["promised_days"] is None:
        errors.append(RowError(row, "承诺时限", _("不能为空")))
    elif data["legal_days"] and data["promised_days"] > data["legal_days"]:
        errors.append(RowError(row, "承诺时限", _("不能超过法定时限")))
    data["validity_years"] = _int(values.get("有效期（年）"), "有效期（年）", row, errors, 1)
    visits = _int(values.get("到现场次数"), "到现场次数", row, errors, 0)
    if visits is not None and visits not in Visits.values:
        errors.append(RowError(row, "到现场次数", _("须为 0、1 或 2（多次）")))
    data["visits"] = visits or 0
    online = text("网上可办", required=False) or "是"
    if online not in _YES:
        errors.append(RowError(row, "网上可办", _("须为“是”或“否”")))
    data["online"] = _YES.get(online, True)
    levels = [v for v in _SPLIT.split(text("办理层级", required=False) or "city") if v]
    try:
        validate_levels(levels)
    except ValidationError as exc:
        errors.extend(RowError(row, "办理层级", m) for m in exc.messages)
    data["division_levels"] = levels
    spec_text = text("申请表字段", required=False) or "[]"
    try:
        spec = json.loads(spec_text)
        validate_spec(spec)
    except json.JSONDecodeError as exc:
        errors.append(RowError(row, "申请表字段", _("不是有效的 JSON：%(e)s") % {"e": exc.msg}))
        spec = []
    except ValidationError as exc:
        errors.extend(RowError(row, "申请表字段", m) for m in exc.messages)
        spec = []
    data["form_spec"] = spec
    data["materials"] = _materials(text("申请材料", required=False), row, errors)
    if data["licence_prefix"] and not re.fullmatch(r"[A-Z]{2,6}", data["licence_prefix"]):
        errors.append(RowError(row, "证号前缀", _("须为 2 至 6 位大写字母")))
    if data["code"] and not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", data["code"]):
        errors.append(RowError(row, "事项编码", _("只能含字母、数字、. _ -，最多 40 位")))
    return data, errors


def import_catalog(content: bytes) -> int:
    """Create or update items from an .xlsx; returns how many. Raises ImportRefused
    (every row's errors) and writes nothing if any row is wrong."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise ImportRefused([RowError(0, _("文件"), _("不是可读取的 .xlsx 文件"))]) from exc
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        raise ImportRefused([RowError(0, _("文件"), _("文件为空"))])
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    missing = [c for c in COLUMNS[:12] if c not in header]
    if missing:
        raise ImportRefused([RowError(1, c, _("缺少此列")) for c in missing])
    departments = {d.code: d for d in Department.objects.filter(is_active=True)}
    parsed: list[dict[str, Any]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, values in enumerate(rows[1:], start=2):
        if all(v in (None, "") for v in values):
            continue
        data, row_errors = _row(dict(zip(header, values, strict=False)), number, departments)
        if data["code"] in seen:
            row_errors.append(
                RowError(number, "事项编码", _("与第 %(r)d 行重复") % {"r": seen[data["code"]]})
            )
        seen[data["code"]] = number
        errors.extend(row_errors)
        parsed.append(data)
    if errors:
        raise ImportRefused(errors)
    with transaction.atomic():
        for data in parsed:
            materials, co = data.pop("materials"), data.pop("co")
            item, _created = Item.objects.update_or_create(code=data.pop("code"), defaults=data)
            item.co_departments.set(co)
            keep = []
            for order, material in enumerate(materials, start=1):
                row, _c = ItemMaterial.objects.update_or_create(
                    item=item, code=material["code"], defaults={**material, "order": order}
                )
                keep.append(row.pk)
            # Materials dropped from the sheet go, unless an application still holds them.
            for stale in item.materials.exclude(pk__in=keep):
                from .models import ApplicationMaterial

                if not ApplicationMaterial.objects.filter(material=stale).exists():
                    stale.delete()
    return len(parsed)
