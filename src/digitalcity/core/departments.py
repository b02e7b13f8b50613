"""Departments in Excel: export to .xlsx and whole-or-nothing import from it.

Staff keep the list of bodies in a spreadsheet; the information office loads it here.
One row per department, keyed by 部门代码 (Department.code): a row with a known code
updates that department, a new code creates one. Import checks every row first and
writes nothing unless all rows pass; the error names the row, the column and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from digitalcity.core.ids import parse_uscc
from digitalcity.core.imports import ImportRefused, RowError
from digitalcity.core.models import Department, DepartmentKind, Division

__all__ = [
    "COLUMNS",
    "DepartmentImportError",
    "ImportResult",
    "RowError",
    "export_departments",
    "import_departments",
]


@dataclass(frozen=True)
class Column:
    field: str
    header: Any  # lazy Chinese header text
    width: int
    required: bool = False
    max_length: int | None = None


COLUMNS: tuple[Column, ...] = (
    Column("code", gettext_lazy("部门代码"), 20, required=True, max_length=40),
    Column("name", gettext_lazy("部门名称"), 30, required=True, max_length=100),
    Column("short_name", gettext_lazy("简称"), 14, max_length=30),
    Column("kind", gettext_lazy("部门类型"), 20, required=True),
    Column("division", gettext_lazy("行政区划代码"), 16, required=True),
    Column("parent", gettext_lazy("上级部门代码"), 20),
    Column("uscc", gettext_lazy("统一社会信用代码"), 22),
    Column("phone", gettext_lazy("联系电话"), 16, max_length=30),
    Column("address", gettext_lazy("办公地址"), 36, max_length=200),
    Column("is_active", gettext_lazy("是否启用"), 10),
)
_CODE_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
_YES = {"是", "启用", "1", "true", "yes", "y"}
_NO = {"否", "停用", "0", "false", "no", "n"}
_SHEET_TITLE = gettext_lazy("部门")


class DepartmentImportError(ImportRefused):
    """The file was refused as a whole; `row_errors` lists every problem found."""

    default_code = "department_import"


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)  # department codes
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _cell_text(value: Any) -> str:
    """Excel stores codes typed as numbers as int or float; read them back as digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def export_departments(out: IO[bytes], *, departments: Iterable[Department] | None = None) -> int:
    """Write `departments` (default: all) as an .xlsx workbook to `out`; returns the row count.

    The file is the import format: re-importing it unchanged changes nothing.
    """
    rows: Iterable[Department]
    if departments is None:
        rows = Department.objects.select_related("division", "parent").order_by("code")
    elif isinstance(departments, QuerySet):
        rows = departments.select_related("division", "parent").order_by("code")
    else:
        rows = departments
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # noqa: S101 — a new Workbook always has one sheet
    sheet.title = str(_SHEET_TITLE)
    sheet.append([str(c.header) for c in COLUMNS])
    header_fill = PatternFill("solid", fgColor="DDE6F0")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    count = 0
    for department in rows:
        sheet.append(
            [
                department.code,
                department.name,
                department.short_name,
                department.get_kind_display(),
                department.division.code,
                department.parent.code if department.parent else "",
                department.uscc or "",
                department.phone,
                department.address,
                "是" if department.is_active else "否",
            ]
        )
        count += 1
    # Codes are text: stop Excel from turning 140100 into 1.4E+05 or dropping zeros.
    for row in sheet.iter_rows(min_row=2, max_row=count + 1):
        for cell in row:
            cell.number_format = "@"
    kinds = DataValidation(
        type="list",
        formula1='"' + ",".join(str(label) for label in DepartmentKind.labels) + '"',
        allow_blank=False,
    )
    kinds.error = _("请从列表中选择部门类型")
    sheet.add_data_validation(kinds)
    kinds.add(f"D2:D{max(count + 1, 1000)}")
    workbook.save(out)
    return count


def _parse_kind(text: str) -> str | None:
    for value, label in DepartmentKind.choices:
        if text in (value, str(label)):
            return str(value)
    return None


@dataclass
class _Row:
    number: int
    values: dict[str, str]


def _read_rows(source: IO[bytes]) -> list[_Row]:
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not xlsx
        raise ValidationError(
            _("文件无法读取：须为 Excel 2007 及以上格式（.xlsx）。（%(error)s）"),
            code="department_import_file",
            params={"error": exc.__class__.__name__},
        ) from exc
    sheet = workbook.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header = [_cell_text(v) for v in next(lines, ())]
    positions: dict[str, int] = {}
    missing = []
    for column in COLUMNS:
        if str(column.header) in header:
            positions[column.field] = header.index(str(column.header))
        elif column.required:
            missing.append(str(column.header))
    if missing:
        workbook.close()
        raise DepartmentImportError(
            [RowError(1, name, _("缺少此列：表头须与导出文件一致")) for name in missing]
        )
    rows = []
    for number, line in enumerate(lines, start=2):
        values = {f: _cell_text(line[i]) if i < len(line) else "" for f, i in positions.items()}
        if any(values.values()):
            rows.append(_Row(number, values))
    workbook.close()
    return rows


class _Errors:
    def __init__(self) -> None:
        self.items: list[RowError] = []
        self._headers = {c.field: str(c.header) for c in COLUMNS}

    def add(self, row: _Row, field_name: str, message: str) -> None:
        self.items.append(RowError(row.number, self._headers[field_name], message))


def _check_cells(rows: list[_Row], errors: _Errors) -> None:
    """Rules on each row by itself, and duplicates within the file."""
    division_codes = {r.values.get("division", "") for r in rows}
    known_divisions = set(
        Division.objects.filter(code__in=division_codes).values_list("code", flat=True)
    )
    file_codes: dict[str, int] = {}
    file_usccs: dict[str, int] = {}
    for row in rows:
        values = row.values
        for column in COLUMNS:
            value = values.get(column.field, "")
            if column.required and not value:
                errors.add(row, column.field, _("不能为空"))
            elif column.max_length and len(value) > column.max_length:
                errors.add(
                    row,
                    column.field,
                    _("长度不能超过 %(max)d 个字符，实为 %(n)d 个")
                    % {"max": column.max_length, "n": len(value)},
                )
        code = values.get("code", "")
        if code and not _CODE_RE.match(code):
            errors.add(
                row, "code", _("只能包含英文字母、数字、连字符和下划线，实为 %(v)s") % {"v": code}
            )
        elif code in file_codes:
            errors.add(row, "code", _("与第 %(row)d 行重复") % {"row": file_codes[code]})
        elif code:
            file_codes[code] = row.number
        kind = values.get("kind", "")
        if kind and _parse_kind(kind) is None:
            errors.add(
                row,
                "kind",
                _("须为以下之一：%(choices)s，实为 %(v)s")
                % {"choices": "、".join(str(x) for x in DepartmentKind.labels), "v": kind},
            )
        division = values.get("division", "")
        if division and division not in known_divisions:
            errors.add(
                row, "division", _("行政区划代码 %(v)s 不存在：请先导入行政区划") % {"v": division}
            )
        active = values.get("is_active", "").lower()
        if active and active not in _YES | _NO:
            errors.add(
                row, "is_active", _("须为“是”或“否”，实为 %(v)s") % {"v": values["is_active"]}
            )
        uscc = values.get("uscc", "")
        if uscc:
            try:
                values["uscc"] = parse_uscc(uscc).code
            except ValidationError as exc:
                errors.add(row, "uscc", " ".join(exc.messages))
                continue
            if values["uscc"] in file_usccs:
                errors.add(
                    row, "uscc", _("与第 %(row)d 行重复") % {"row": file_usccs[values["uscc"]]}
                )
            file_usccs.setdefault(values["uscc"], row.number)


def _check_references(rows: list[_Row], errors: _Errors) -> None:
    """Parents and USCCs against the database and the rest of the file."""
    file_parent = {r.values["code"]: r.values.get("parent", "") for r in rows}
    parents = {**dict(Department.objects.values_list("code", "parent__code")), **file_parent}
    for row in rows:
        code, parent = row.values["code"], row.values.get("parent", "")
        if not parent:
            continue
        if parent == code:
            errors.add(row, "parent", _("上级部门不能是本部门"))
            continue
        if parent not in parents:
            errors.add(
                row, "parent", _("上级部门代码 %(v)s 既不在文件中，也不在系统中") % {"v": parent}
            )
            continue
        seen = {code}
        walk: str | None = parent
        while walk:
            if walk in seen:
                errors.add(row, "parent", _("上级部门关系形成循环（经过 %(v)s）") % {"v": walk})
                break
            seen.add(walk)
            walk = parents.get(walk) or None
    usccs = {r.values["uscc"]: r for r in rows if r.values.get("uscc")}
    taken = Department.objects.filter(uscc__in=list(usccs)).values_list("code", "uscc")
    for other_code, other_uscc in taken:
        row = usccs[str(other_uscc)]
        # A department that is itself in the file gives up its old code there.
        if other_code != row.values["code"] and other_code not in file_parent:
            errors.add(row, "uscc", _("已被系统中的部门 %(code)s 使用") % {"code": other_code})


def _is_active(text: str) -> bool:
    return text.lower() not in _NO


def import_departments(source: IO[bytes]) -> ImportResult:
    """Create or update departments from an .xlsx file in the export format.

    Whole or nothing: every row is checked first (required cells, lengths, code shape,
    kind, division exists, parent exists in the file or the system and forms no cycle,
    USCC valid per GB 32100-2015 and not used twice); on any error
    `DepartmentImportError` lists them all and nothing is written. Rows are matched by
    部门代码; blank rows are skipped. Saves go through the model, so the audit log
    records each change under the current actor.
    """
    rows = _read_rows(source)
    if not rows:
        raise DepartmentImportError([RowError(2, str(COLUMNS[0].header), _("文件中没有数据行"))])
    errors = _Errors()
    _check_cells(rows, errors)
    if not errors.items:
        _check_references(rows, errors)
    if errors.items:
        raise DepartmentImportError(errors.items)
    with transaction.atomic():
        return _write(rows)


_TRACKED = ("name", "short_name", "kind", "division_id", "parent_id", "uscc", "phone", "address")


def _snapshot(department: Department) -> tuple[Any, ...]:
    return (*(getattr(department, f) for f in _TRACKED), department.is_active)


def _write(rows: list[_Row]) -> ImportResult:
    result = ImportResult()
    codes = [r.values["code"] for r in rows]
    existing = {d.code: d for d in Department.objects.select_for_update().filter(code__in=codes)}
    before = {code: _snapshot(d) for code, d in existing.items()}
    divisions = {
        d.code: d for d in Division.objects.filter(code__in={r.values["division"] for r in rows})
    }
    # A USCC may move from one department of the file to another; free the old holders
    # first so the unique constraint never sees it twice mid-import.
    new_uscc = {r.values["code"]: r.values.get("uscc") or None for r in rows}
    for code, department in existing.items():
        if department.uscc and department.uscc != new_uscc[code]:
            department.uscc = None
            department.save(update_fields=["uscc", "updated_at"])
    # Create every new department before setting parents: a row may name a parent
    # further down the file.
    departments: dict[str, Department] = {}
    for row in rows:
        values = row.values
        department = existing.get(values["code"]) or Department(code=values["code"])
        department.name = values["name"]
        department.short_name = values.get("short_name", "")
        department.kind = _parse_kind(values["kind"]) or DepartmentKind.OTHER
        department.division = divisions[values["division"]]
        department.uscc = new_uscc[values["code"]]
        department.phone = values.get("phone", "")
        department.address = values.get("address", "")
        department.is_active = _is_active(values.get("is_active", ""))
        if department.pk is None:
            department.save()
        departments[values["code"]] = department
    parent_codes = {r.values["parent"] for r in rows if r.values.get("parent")}
    others = {
        d.code: d for d in Department.objects.filter(code__in=parent_codes - set(departments))
    }
    for row in rows:
        code = row.values["code"]
        department = departments[code]
        parent_code = row.values.get("parent", "")
        department.parent = departments.get(parent_code) or others.get(parent_code)
        if code not in before:
            if department.parent is not None:
                department.save(update_fields=["parent", "updated_at"])
            result.created.append(code)
        elif _snapshot(department) != before[code]:
            department.save()
            result.updated.append(code)
        else:
            result.unchanged.append(code)
    return result
