"""Writing the working-day calendar: seeding from chinesecalendar, importing a notice.

Each year's holidays are set by the State Council General Office's notice
(国务院办公厅关于 YYYY 年部分节假日安排的通知), usually published in November. The
`chinesecalendar` package copies it weeks later in a new release; until then staff import
the notice from a spreadsheet (`import_notice`) or paste its text (`parse_notice_text`).

Ownership: a year whose `CalendarYear.source` is a notice import or a manual edit belongs
to staff; `seed_from_chinesecalendar` never touches it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.core.context import with_reason
from digitalcity.core.imports import ImportRefused, RowError
from digitalcity.core.models import (
    CalendarDay,
    CalendarDayKind,
    CalendarSource,
    CalendarYear,
    CalendarYearStatus,
    notice_may_declare,
)

__all__ = [
    "HOLIDAY_NAMES",
    "TEMPLATE_COLUMNS",
    "ImportReport",
    "NoticeImportError",
    "RowError",
    "SeedReport",
    "import_notice",
    "mark_year_edited",
    "notice_template_xlsx",
    "package_years",
    "parse_notice_text",
    "read_notice_file",
    "seed_from_chinesecalendar",
]

#: chinesecalendar's English holiday names → the names the notices use.
HOLIDAY_NAMES: dict[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
}

#: The import template's columns, in order. "日期" is accepted for "开始日期".
TEMPLATE_COLUMNS = ("开始日期", "结束日期", "类型", "节日名称")
_COLUMN_ALIASES = {
    "开始日期": "start",
    "日期": "start",
    "结束日期": "end",
    "类型": "kind",
    "节日名称": "name",
    "节日": "name",
}
_KIND_WORDS = {
    "放假": CalendarDayKind.HOLIDAY,
    "休息": CalendarDayKind.HOLIDAY,
    "休": CalendarDayKind.HOLIDAY,
    "上班": CalendarDayKind.MAKEUP_WORKDAY,
    "调休上班": CalendarDayKind.MAKEUP_WORKDAY,
    "班": CalendarDayKind.MAKEUP_WORKDAY,
}
_MAX_SPAN_DAYS = 31
_HOLIDAY_NAME_MAX = 50


# --- Seeding --------------------------------------------------------------


@dataclass(frozen=True)
class SeedReport:
    created: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    unchanged: tuple[int, ...] = ()
    skipped_staff_owned: tuple[int, ...] = ()


def package_years() -> list[int]:
    """The years the installed chinesecalendar release covers."""
    from chinese_calendar import constants

    return sorted({d.year for d in constants.holidays})


def _package_days() -> dict[date, tuple[str, str]]:
    from chinese_calendar import constants

    def name_of(english: str) -> str:
        if english in HOLIDAY_NAMES:
            return HOLIDAY_NAMES[english]
        return str(constants.Holiday(english).chinese)

    days = {d: (CalendarDayKind.HOLIDAY.value, name_of(n)) for d, n in constants.holidays.items()}
    days.update(
        {
            d: (CalendarDayKind.MAKEUP_WORKDAY.value, name_of(n))
            for d, n in constants.workdays.items()
        }
    )
    return days


def seed_from_chinesecalendar(*, years: Iterable[int] | None = None) -> SeedReport:
    """Copy the package's holidays and make-up workdays into the calendar rows.

    Idempotent: a year already seeded is brought to the package's data (a newer release
    may correct it) and left alone if equal. Years owned by staff (source notice or
    manual) are never touched. A date already declared by another year's row (a December
    date in a staff-imported notice for the next year) is left to that row.
    """
    covered = package_years()
    wanted = sorted(set(covered if years is None else years))
    outside = [y for y in wanted if y not in covered]
    if outside:
        raise ValidationError(
            _("chinesecalendar 不含 %(years)s 年的数据：它只覆盖 %(first)s–%(last)s 年")
            % {"years": "、".join(map(str, outside)), "first": covered[0], "last": covered[-1]},
            code="calendar_not_in_package",
        )
    by_year: dict[int, dict[date, tuple[str, str]]] = {y: {} for y in wanted}
    for d, value in _package_days().items():
        if d.year in by_year:
            by_year[d.year][d] = value

    created: list[int] = []
    updated: list[int] = []
    unchanged: list[int] = []
    skipped: list[int] = []
    with transaction.atomic(), with_reason(_("从 chinesecalendar 软件包初始化工作日历")):
        existing = {cy.year: cy for cy in CalendarYear.objects.filter(year__in=wanted)}
        current: dict[int, dict[date, tuple[str, str]]] = {}
        for year, d, kind, name in CalendarDay.objects.filter(
            calendar_year__year__in=wanted
        ).values_list("calendar_year__year", "date", "kind", "holiday_name"):
            current.setdefault(year, {})[d] = (kind, name)
        elsewhere = set(
            CalendarDay.objects.filter(date__year__in=wanted)
            .exclude(calendar_year__year__in=wanted)
            .values_list("date", flat=True)
        )
        now = timezone.now()
        for year in wanted:
            cy = existing.get(year)
            if cy is not None and cy.source != CalendarSource.CHINESECALENDAR:
                skipped.append(year)
                continue
            target = {d: v for d, v in by_year[year].items() if d not in elsewhere}
            have = current.get(year, {})
            if cy is not None and have == target:
                unchanged.append(year)
                continue
            if cy is None:
                cy = CalendarYear.objects.create(
                    year=year,
                    status=CalendarYearStatus.OFFICIAL,
                    source=CalendarSource.CHINESECALENDAR,
                    notice_title=_("chinesecalendar 软件包数据"),
                    imported_at=now,
                )
                created.append(year)
            else:
                cy.imported_at = now
                cy.save(update_fields=["imported_at", "updated_at"])
                stale = [d for d, v in have.items() if target.get(d) != v]
                CalendarDay.objects.filter(calendar_year=cy, date__in=stale).delete()
                updated.append(year)
            # Set-based insert (DESIGN "bulk loads"): the year row above is the audited record.
            CalendarDay.objects.bulk_create(
                CalendarDay(
                    calendar_year=cy,
                    date=d,
                    kind=kind,
                    holiday_name=name,
                    source=CalendarSource.CHINESECALENDAR,
                )
                for d, (kind, name) in sorted(target.items())
                if have.get(d) != (kind, name)
            )
    return SeedReport(tuple(created), tuple(updated), tuple(unchanged), tuple(skipped))


def mark_year_edited(*, calendar_year: CalendarYear) -> None:
    """Record that staff changed a year by hand, so seeding leaves it alone from now on."""
    if calendar_year.source != CalendarSource.MANUAL:
        calendar_year.source = CalendarSource.MANUAL
        calendar_year.save(update_fields=["source", "updated_at"])


# --- Import of a notice ---------------------------------------------------


class NoticeImportError(ImportRefused):
    """The notice import was refused as a whole; ``row_errors`` lists every problem found."""

    default_code = "calendar_import"


@dataclass(frozen=True)
class ImportReport:
    year: int
    holidays: int
    makeup_workdays: int
    replaced: int
    kept_elsewhere: tuple[date, ...] = ()


@dataclass(frozen=True)
class _Span:
    row: int
    start: date
    end: date
    kind: CalendarDayKind
    name: str


def read_notice_file(data: bytes, *, filename: str = "") -> list[tuple[int, dict[str, Any]]]:
    """The rows of an .xlsx or .csv (UTF-8 or GBK) import file as (row number, {column: value}).

    The first row is the header. Blank rows are skipped but keep their numbers.
    """
    if data[:2] == b"PK":
        return _read_xlsx(data)
    if filename.lower().endswith((".xls", ".xlsx")):
        raise NoticeImportError(
            [RowError(1, _("文件"), _("无法读取为 Excel（.xlsx）文件；旧版 .xls 请另存为 .xlsx"))]
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes every byte sequence
        raise NoticeImportError([RowError(1, _("文件"), _("无法识别的文本编码"))])
    table = list(csv.reader(io.StringIO(text)))
    return _rows_from_table(table)


def _read_xlsx(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise NoticeImportError(
            [RowError(1, _("文件"), _("无法读取 Excel 文件：%(error)s") % {"error": exc})]
        ) from exc
    try:
        sheet = book.worksheets[0]
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    return _rows_from_table(table)


def _rows_from_table(table: list[list[Any]]) -> list[tuple[int, dict[str, Any]]]:
    if not table:
        return []
    header = [str(h).strip() if h is not None else "" for h in table[0]]
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, cells in enumerate(table[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        rows.append((number, {h: c for h, c in zip(header, cells, strict=False) if h}))
    rows.insert(0, (1, {h: h for h in header if h}))
    return rows


_DATE_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})$"),
    re.compile(r"^(?:(?P<y>\d{4})年)?(?P<m>\d{1,2})月(?P<d>\d{1,2})日?$"),
)


def _parse_date(value: Any, year: int) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = re.sub(r"[（(].*?[)）]", "", str(value)).strip().replace(" ", "")
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            y = int(match.group("y")) if match.group("y") else year
            try:
                return date(y, int(match.group("m")), int(match.group("d")))
            except ValueError:
                return None
    return None


def _blank(value: Any) -> bool:
    return value is None or str(value).strip() == ""


def _validate_rows(
    year: int, rows: list[tuple[int, dict[str, Any]]]
) -> tuple[list[_Span], list[RowError]]:
    errors: list[RowError] = []
    if not rows:
        return [], [RowError(1, _("文件"), _("文件为空：第 1 行应为表头"))]
    header_row = rows[0][1]
    columns: dict[str, str] = {}
    for header in header_row:
        key = _COLUMN_ALIASES.get(header)
        if key and key not in columns:
            columns[key] = header
    for key, label in (("start", "开始日期"), ("kind", "类型"), ("name", "节日名称")):
        if key not in columns:
            errors.append(
                RowError(
                    1,
                    label,
                    _("缺少此列（表头应为：%(cols)s）") % {"cols": "、".join(TEMPLATE_COLUMNS)},
                )
            )
    if errors:
        return [], errors
    if len(rows) == 1:
        return [], [RowError(2, _("文件"), _("没有数据行：至少应有一行放假安排"))]

    spans: list[_Span] = []
    for number, cells in rows[1:]:
        start_label = columns["start"]
        raw_start = cells.get(start_label)
        start = _parse_date(raw_start, year) if not _blank(raw_start) else None
        if _blank(raw_start):
            errors.append(RowError(number, start_label, _("必填")))
        elif start is None:
            errors.append(
                RowError(
                    number,
                    start_label,
                    _("“%(v)s”不是有效日期，应写作 %(y)s-01-01 或 1月1日")
                    % {
                        "v": raw_start,
                        "y": year,
                    },
                )
            )
        end_label = columns.get("end", "结束日期")
        raw_end = cells.get(end_label)
        end = start if _blank(raw_end) else _parse_date(raw_end, year)
        if not _blank(raw_end) and end is None:
            errors.append(RowError(number, end_label, _("“%(v)s”不是有效日期") % {"v": raw_end}))
        raw_kind = "" if _blank(cells.get(columns["kind"])) else str(cells[columns["kind"]]).strip()
        kind = _KIND_WORDS.get(raw_kind)
        if kind is None:
            errors.append(
                RowError(
                    number, columns["kind"], _("应为“放假”或“上班”，收到“%(v)s”") % {"v": raw_kind}
                )
            )
        raw_name = cells.get(columns["name"])
        name = "" if _blank(raw_name) else str(raw_name).strip()
        if kind == CalendarDayKind.HOLIDAY and not name:
            errors.append(RowError(number, columns["name"], _("放假行必须填写节日名称")))
        if len(name) > _HOLIDAY_NAME_MAX:
            errors.append(
                RowError(
                    number, columns["name"], _("不能超过 %(n)s 个字") % {"n": _HOLIDAY_NAME_MAX}
                )
            )
        if start is None or end is None or kind is None:
            continue
        row_errors = _check_span(year, number, start, end, kind, start_label, end_label)
        errors.extend(row_errors)
        if not row_errors:
            spans.append(_Span(number, start, end, kind, name))
    errors.extend(_check_duplicates(spans))
    return spans, errors


def _check_span(
    year: int,
    number: int,
    start: date,
    end: date,
    kind: CalendarDayKind,
    start_label: str,
    end_label: str,
) -> list[RowError]:
    errors: list[RowError] = []
    for label, d in ((start_label, start), (end_label, end)):
        if label == end_label and d == start:
            continue  # a blank end date is the start date: report the start only
        if not notice_may_declare(year, d):
            errors.append(
                RowError(
                    number,
                    label,
                    _("%(d)s 不在 %(y)s 年内（只允许该年或上一年 12 月的日期）")
                    % {
                        "d": f"{d:%Y-%m-%d}",
                        "y": year,
                    },
                )
            )
    if errors:
        return errors
    if end < start:
        return [RowError(number, end_label, _("结束日期不能早于开始日期"))]
    if (end - start).days >= _MAX_SPAN_DAYS:
        return [
            RowError(
                number, end_label, _("一行的日期范围不能超过 %(n)s 天") % {"n": _MAX_SPAN_DAYS}
            )
        ]
    if kind == CalendarDayKind.MAKEUP_WORKDAY:
        weekdays = [d for d in _days(start, end) if d.weekday() < 5]
        if weekdays:
            return [
                RowError(
                    number,
                    start_label,
                    _("调休上班日必须是周六或周日，%(d)s 是周一至周五")
                    % {
                        "d": f"{weekdays[0]:%Y-%m-%d}",
                    },
                )
            ]
    return errors


def _check_duplicates(spans: list[_Span]) -> list[RowError]:
    seen: dict[date, int] = {}
    errors: list[RowError] = []
    for span in spans:
        for d in _days(span.start, span.end):
            if d in seen:
                errors.append(
                    RowError(
                        span.row,
                        _("日期"),
                        _("%(d)s 已在第 %(r)s 行出现")
                        % {
                            "d": f"{d:%Y-%m-%d}",
                            "r": seen[d],
                        },
                    )
                )
            else:
                seen[d] = span.row
    return errors


def _days(start: date, end: date) -> Iterable[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def import_notice(
    *,
    year: int,
    rows: Iterable[Mapping[str, Any]] | None = None,
    file: bytes | None = None,
    filename: str = "",
    notice_title: str,
    document_number: str = "",
    actor: Any = None,
    status: CalendarYearStatus = CalendarYearStatus.OFFICIAL,
) -> ImportReport:
    """Replace ``year``'s calendar with the notice's holidays and make-up workdays.

    Give either ``rows`` (mappings keyed by the template's column names) or ``file``
    (bytes of an .xlsx or a UTF-8/GBK .csv with the template's header). Whole or nothing:
    any bad row raises `NoticeImportError` listing every row error and nothing is
    written. On success the year is marked source "notice" (seeding will not overwrite
    it), with the notice's title and document number, the time, and ``actor``.
    """
    if (rows is None) == (file is None):
        raise ValueError("import_notice: give exactly one of rows= or file=")
    problems: list[RowError] = []
    if not 2000 <= year <= 2100:
        problems.append(
            RowError(0, _("年份"), _("应在 2000 到 2100 之间，收到 %(y)s") % {"y": year})
        )
    if not notice_title.strip():
        problems.append(
            RowError(
                0,
                _("通知标题"),
                _("必填，如：国务院办公厅关于%(y)s年部分节假日安排的通知") % {"y": year},
            )
        )
    if problems:
        raise NoticeImportError(problems)
    if file is not None:
        table = read_notice_file(file, filename=filename)
    else:
        given = [dict(r) for r in rows or ()]
        header = {k: k for r in given for k in r}
        table = [(1, header), *((n, r) for n, r in enumerate(given, start=2))]
    spans, errors = _validate_rows(year, table)
    if errors:
        raise NoticeImportError(errors)

    wanted = {d: (s.kind, s.name) for s in spans for d in _days(s.start, s.end)}
    with transaction.atomic(), with_reason(_("导入节假日通知：%(t)s") % {"t": notice_title}):
        # Late-December dates declared by an earlier import of another year stay with it
        # when they agree; a disagreement is an error, not a silent overwrite.
        others = {
            d: (kind, y)
            for d, kind, y in CalendarDay.objects.filter(date__in=list(wanted))
            .exclude(calendar_year__year=year)
            .values_list("date", "kind", "calendar_year__year")
        }
        clashes = [
            RowError(
                next(s.row for s in spans if s.start <= d <= s.end),
                _("日期"),
                _("%(d)s 已在 %(y)s 年日历中登记为“%(k)s”，与本通知不一致，请先修改 %(y)s 年日历")
                % {
                    "d": f"{d:%Y-%m-%d}",
                    "y": y,
                    "k": CalendarDayKind(kind).label,
                },
            )
            for d, (kind, y) in sorted(others.items())
            if kind != wanted[d][0]
        ]
        if clashes:
            raise NoticeImportError(clashes)
        cy = CalendarYear.objects.select_for_update().filter(year=year).first()
        if cy is None:
            cy = CalendarYear(year=year)
        cy.status = status
        cy.source = CalendarSource.NOTICE
        cy.notice_title = notice_title.strip()
        cy.document_number = document_number.strip()
        cy.imported_at = timezone.now()
        cy.imported_by = actor if getattr(actor, "pk", None) else None
        cy.save()
        replaced = 0
        for old in cy.days.all():
            old.delete()  # one by one so each removed row is in the audit log
            replaced += 1
        for d, (kind, name) in sorted(wanted.items()):
            if d in others:
                continue
            CalendarDay.objects.create(
                calendar_year=cy, date=d, kind=kind, holiday_name=name, source=CalendarSource.NOTICE
            )
    kinds = [k for d, (k, _n) in wanted.items() if d not in others]
    return ImportReport(
        year=year,
        holidays=kinds.count(CalendarDayKind.HOLIDAY),
        makeup_workdays=kinds.count(CalendarDayKind.MAKEUP_WORKDAY),
        replaced=replaced,
        kept_elsewhere=tuple(sorted(others)),
    )


def notice_template_xlsx(year: int) -> bytes:
    """A blank import template for ``year``: the header row, and a sheet of instructions."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = f"{year}年节假日"
    sheet.append(list(TEMPLATE_COLUMNS))
    for column in "ABCD":
        sheet.column_dimensions[column].width = 16
    notes = book.create_sheet("填写说明")
    for line in (
        ("按国务院办公厅通知逐条填写第一张表，每行一段连续日期；第一行表头不要修改。",),
        (
            "开始日期/结束日期",
            f"如 {year}-01-01，或 1月1日（年份取导入时选择的年份）；单日可不填结束日期",
        ),
        ("类型", "放假（含调休休息日与其间的周末）或 上班（调休上班的周六、周日）"),
        ("节日名称", "放假行必填，如 元旦、春节、清明节、劳动节、端午节、中秋节、国庆节"),
        ("示例", f"{year}-10-01", f"{year}-10-07", "放假", "国庆节"),
        ("示例", f"{year}-09-26", "", "上班", "国庆节"),
    ):
        notes.append(list(line))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- The notice's own text ------------------------------------------------

# A section header, at a line start or after "。": "一、元旦：", "七、国庆节、中秋节：".
# Bodies hold Chinese numerals too (农历腊月二十八、周日), so a body runs to the next
# header, not to the next numeral.
_SECTION = re.compile(
    r"(?:^|(?<=。))\s*[一二三四五六七八九十]+、\s*(?P<name>[^：:，。\s]{1,15})\s*[：:]",
    re.MULTILINE,
)
_MD = r"(?:(?P<{p}y>\d{{4}})年)?(?P<{p}m>\d{{1,2}})月(?P<{p}d>\d{{1,2}})日"
_RANGE = re.compile(
    _MD.format(p="a")
    + r"(?:（[^）]*）)?"
    + r"(?:至(?:(?P<by>\d{4})年)?(?:(?P<bm>\d{1,2})月)?(?P<bd>\d{1,2})日(?:（[^）]*）)?)?"
    + r"(?P<what>放假|上班)?"
)


def parse_notice_text(text: str, *, year: int) -> list[dict[str, Any]]:
    """Rows for `import_notice` from the plain text of the State Council notice.

    Reads sections like "一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）
    上班。": each date or range followed by 放假 is a holiday span; each list of dates
    followed by 上班 is make-up workdays. Weekends inside a holiday span count as holiday
    days. Staff check the rows (the admin shows them) before importing.
    """
    rows: list[dict[str, Any]] = []
    headers = list(_SECTION.finditer(text))
    for i, section in enumerate(headers):
        name = section.group("name").strip()
        body = text[section.end() : headers[i + 1].start() if i + 1 < len(headers) else len(text)]
        pending: list[tuple[date, date]] = []
        for m in _RANGE.finditer(body):
            y = int(m.group("ay") or year)
            start = date(y, int(m.group("am")), int(m.group("ad")))
            end = start
            if m.group("bd"):
                end = date(
                    int(m.group("by") or y), int(m.group("bm") or start.month), int(m.group("bd"))
                )
            pending.append((start, end))
            if m.group("what"):
                kind = "放假" if m.group("what") == "放假" else "上班"
                for s, e in pending:
                    rows.append({"开始日期": s, "结束日期": e, "类型": kind, "节日名称": name})
                pending = []
    return rows
