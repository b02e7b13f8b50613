"""The dispatch catalogue (派单目录): versions, the suggestion for an order, Excel in/out.

Matching an order: in the version in force (the latest with valid_from ≤ now), the row
whose category is the order's category or its nearest ancestor, and whose division is the
order's division or its nearest ancestor (a row without division matches anywhere);
category specificity first, then division specificity. No row: the backstop (兜底) is
the people's government of the order's district (county-level division), else of the city.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.core.imports import ImportRefused, RowError
from digitalcity.core.models import Department, DepartmentKind, Division

from ..models import CatalogueRule, CatalogueVersion, Category, WorkOrder

__all__ = [
    "CatalogueRow",
    "Suggestion",
    "catalogue_export",
    "catalogue_import",
    "catalogue_in_force",
    "catalogue_publish",
    "suggest_dispatch",
]

HEADERS = ("分类代码", "分类名称", "区划代码", "主办部门代码", "协办部门代码")


@dataclass(frozen=True)
class CatalogueRow:
    category: Category
    lead: Department
    division: Division | None = None
    co_handlers: tuple[Department, ...] = ()


@dataclass
class Suggestion:
    lead: Department | None
    co_handlers: list[Department] = field(default_factory=list)
    rule: CatalogueRule | None = None
    backstop: bool = False
    version: CatalogueVersion | None = None


def catalogue_in_force(at: datetime | None = None) -> CatalogueVersion | None:
    moment = at or timezone.now()
    return (
        CatalogueVersion.objects.filter(valid_from__lte=moment)
        .order_by("-valid_from", "-number")
        .first()
    )


def catalogue_publish(
    *,
    rows: Sequence[CatalogueRow],
    actor: Any,
    valid_from: datetime | None = None,
    note: str = "",
) -> CatalogueVersion:
    """Make a new version from `rows` (the whole catalogue, not a diff)."""
    if not rows:
        raise ValidationError({"rows": _("派单目录至少须有一行")})
    seen: set[tuple[int, int | None]] = set()
    for row in rows:
        key = (row.category.pk, row.division.pk if row.division else None)
        if key in seen:
            raise ValidationError(
                {"rows": _("分类 %(c)s 在同一区划下重复") % {"c": row.category.code}}
            )
        seen.add(key)
    with transaction.atomic():
        # Serialize publishers: the number is the next after the highest.
        last = CatalogueVersion.objects.select_for_update().aggregate(n=Max("number"))["n"] or 0
        version = CatalogueVersion.objects.create(
            number=last + 1,
            valid_from=valid_from or timezone.now(),
            note=(note or "")[:200],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        created = CatalogueRule.objects.bulk_create(
            [
                CatalogueRule(
                    version=version, category=row.category, division=row.division, lead=row.lead
                )
                for row in rows
            ]
        )
        through = CatalogueRule.co_handlers.through
        through.objects.bulk_create(
            [
                through(cataloguerule_id=rule.pk, department_id=dept.pk)
                for rule, row in zip(created, rows, strict=True)
                for dept in row.co_handlers
                if dept.pk != row.lead.pk
            ]
        )
    return version


def _division_chain(division: Division | None) -> list[int | None]:
    chain: list[int | None] = []
    current = division
    while current is not None:
        chain.append(current.pk)
        current = current.parent
    chain.append(None)
    return chain


def backstop_department(division: Division | None) -> Department | None:
    """兜底: the government of the order's county-level division, else the city's."""
    codes: list[str] = []
    if division is not None:
        code = division.code
        codes = [code[:6]] if len(code) > 6 else [code]
        codes.append(code[:4] + "00")
    for code in codes:
        found = Department.objects.filter(
            kind=DepartmentKind.GOVERNMENT, division__code=code, is_active=True
        ).first()
        if found is not None:
            return found
    return (
        Department.objects.filter(kind=DepartmentKind.GOVERNMENT, is_active=True)
        .order_by("division__code")
        .first()
    )


def suggest_dispatch(order: WorkOrder, *, at: datetime | None = None) -> Suggestion:
    version = catalogue_in_force(at)
    if version is not None:
        categories = order.category.ancestor_codes()
        divisions = _division_chain(order.division)
        rules = list(
            CatalogueRule.objects.filter(version=version, category__code__in=categories)
            .select_related("category", "lead")
            .prefetch_related("co_handlers")
        )
        best: tuple[int, int] | None = None
        chosen: CatalogueRule | None = None
        for rule in rules:
            if rule.division_id not in divisions:
                continue
            rank = (categories.index(rule.category.code), divisions.index(rule.division_id))
            if best is None or rank < best:
                best, chosen = rank, rule
        if chosen is not None and chosen.lead.is_active:
            return Suggestion(
                lead=chosen.lead,
                co_handlers=[d for d in chosen.co_handlers.all() if d.is_active],
                rule=chosen,
                version=version,
            )
    return Suggestion(lead=backstop_department(order.division), backstop=True, version=version)


# --- Excel ------------------------------------------------------------------------


def catalogue_export(out: IO[bytes], version: CatalogueVersion | None = None) -> int:
    """Write `version` (default: in force) as .xlsx with HEADERS; returns the row count."""
    from openpyxl import Workbook

    version = version or catalogue_in_force()
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has one sheet
    sheet.title = _("派单目录")
    sheet.append(list(HEADERS))
    count = 0
    if version is not None:
        rules = (
            CatalogueRule.objects.filter(version=version)
            .select_related("category", "division", "lead")
            .prefetch_related("co_handlers")
        )
        for rule in rules:
            sheet.append(
                [
                    rule.category.code,
                    rule.category.name,
                    rule.division.code if rule.division else "",
                    rule.lead.code,
                    ",".join(sorted(d.code for d in rule.co_handlers.all())),
                ]
            )
            count += 1
    for column, width in zip("ABCDE", (12, 16, 14, 22, 40), strict=True):
        sheet.column_dimensions[column].width = width
    book.save(out)
    return count


def _read_table(data: bytes) -> list[tuple[Any, ...]]:
    """The rows of an .xlsx (a zip: starts with "PK") or of a CSV in UTF-8 or GB18030/GBK
    (what Excel on a Chinese Windows saves)."""
    if data[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise ImportRefused(
                [RowError(0, _("文件"), _("不是有效的 Excel (.xlsx) 文件"))]
            ) from exc
        return list(book.worksheets[0].iter_rows(values_only=True))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [tuple(row) for row in csv.reader(io.StringIO(text))]
    raise ImportRefused(
        [RowError(0, _("文件"), _("既不是 Excel (.xlsx) 文件，也不是 UTF-8 或 GBK 编码的 CSV"))]
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def catalogue_import(
    source: IO[bytes], *, actor: Any, note: str = "", valid_from: datetime | None = None
) -> CatalogueVersion:
    """Read an .xlsx (or a CSV in UTF-8 or GBK) in the export's shape and publish it as a
    new version — all rows or none: every problem is listed with its row (ImportRefused,
    core.imports)."""
    rows = _read_table(source.read())
    errors: list[RowError] = []
    if not rows or tuple(_cell(c) for c in rows[0][: len(HEADERS)]) != HEADERS:
        raise ImportRefused(
            [RowError(1, _("表头"), _("表头应为：%(h)s") % {"h": "、".join(HEADERS)})]
        )
    categories = {c.code: c for c in Category.objects.filter(is_active=True)}
    departments = {d.code: d for d in Department.objects.filter(is_active=True)}
    codes = {_cell(r[2]) for r in rows[1:] if len(r) > 2 and _cell(r[2])}
    divisions = {d.code: d for d in Division.objects.filter(code__in=codes)}
    parsed: list[CatalogueRow] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(rows[1:], start=2):
        cells = [_cell(c) for c in (*raw, "", "", "", "", "")[:5]]
        if not any(cells):
            continue
        category_code, _name, division_code, lead_code, co_codes = cells
        row_errors = len(errors)
        category = categories.get(category_code)
        if category is None:
            errors.append(
                RowError(number, HEADERS[0], _("分类代码“%(c)s”不存在") % {"c": category_code})
            )
        division = None
        if division_code:
            division = divisions.get(division_code)
            if division is None:
                errors.append(
                    RowError(number, HEADERS[2], _("区划代码“%(c)s”不存在") % {"c": division_code})
                )
        lead = departments.get(lead_code)
        if lead is None:
            errors.append(
                RowError(number, HEADERS[3], _("部门代码“%(c)s”不存在或已停用") % {"c": lead_code})
            )
        co: list[Department] = []
        for code in filter(None, (c.strip() for c in co_codes.replace("，", ",").split(","))):
            dept = departments.get(code)
            if dept is None:
                errors.append(
                    RowError(number, HEADERS[4], _("部门代码“%(c)s”不存在或已停用") % {"c": code})
                )
            else:
                co.append(dept)
        key = (category_code, division_code)
        if key in seen:
            errors.append(
                RowError(number, HEADERS[0], _("与第 %(r)d 行的分类和区划重复") % {"r": seen[key]})
            )
        seen.setdefault(key, number)
        if len(errors) == row_errors and category is not None and lead is not None:
            parsed.append(CatalogueRow(category, lead, division, tuple(co)))
    if not parsed and not errors:
        errors.append(RowError(0, _("文件"), _("没有数据行")))
    if errors:
        raise ImportRefused(errors)
    return catalogue_publish(rows=parsed, actor=actor, valid_from=valid_from, note=note)


def rows_of(version: CatalogueVersion) -> Iterable[CatalogueRow]:
    for rule in version.rules.select_related("category", "division", "lead").prefetch_related(
        "co_handlers"
    ):
        yield CatalogueRow(rule.category, rule.lead, rule.division, tuple(rule.co_handlers.all()))
