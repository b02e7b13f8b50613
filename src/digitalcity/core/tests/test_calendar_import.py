"""Seeding from chinesecalendar and importing the State Council notice (file, rows, text)."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import chinese_calendar
import pytest
from chinese_calendar import constants
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from openpyxl import Workbook, load_workbook

from digitalcity.core.calendar import (
    CalendarMissingError,
    add_workdays,
    is_workday,
    workdays_in_year,
)
from digitalcity.core.calendar_import import (
    NoticeImportError,
    import_notice,
    notice_template_xlsx,
    package_years,
    parse_notice_text,
    read_notice_file,
    seed_from_chinesecalendar,
)
from digitalcity.core.models import (
    AuditEntry,
    CalendarDay,
    CalendarDayKind,
    CalendarSource,
    CalendarYear,
    CalendarYearStatus,
)
from digitalcity.identity.models import User

# The 2026 notice as published (its dates agree with chinesecalendar 1.11.0, checked below).
NOTICE_2026 = """国务院办公厅关于2026年部分节假日安排的通知
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将2026年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
三、清明节：4月4日（周六）至6日（周一）放假，共3天。
四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
五、端午节：6月19日（周五）至21日（周日）放假，共3天。
六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作，遇有重大突发事件，要按规定及时报告并妥善处置，确保人民群众祥和平安度过节日假期。
国务院办公厅
2025年11月4日
"""

# The 2025 notice: 元旦 without make-up days, 春节 across months, 国庆节 and 中秋节 together.
NOTICE_2025 = """一、元旦：1月1日（周三）放假1天，不调休。
二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
三、清明节：4月4日（周五）至6日（周日）放假，共3天。
四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
"""

# A made-up 2027 arrangement for the tests (the real notice is not out on 2026-11-21).
ROWS_2027: list[dict[str, Any]] = [
    {"开始日期": "2027-01-01", "结束日期": "2027-01-03", "类型": "放假", "节日名称": "元旦"},
    {"开始日期": "2027-02-06", "结束日期": "2027-02-13", "类型": "放假", "节日名称": "春节"},
    {"开始日期": "2027-02-20", "结束日期": "", "类型": "上班", "节日名称": "春节"},
    {"开始日期": "10月1日", "结束日期": "10月7日", "类型": "放假", "节日名称": "国庆节"},
    {"开始日期": "2027年9月26日", "结束日期": None, "类型": "上班", "节日名称": "国庆节"},
]
TITLE_2027 = "国务院办公厅关于2027年部分节假日安排的通知"

BAD_CSV_ROWS = [
    "开始日期,结束日期,类型,节日名称",
    "2027-01-01,2027-01-03,放假,元旦",
    "2027-02-30,,放假,春节",
    "2027-02-06,2027-02-01,放假,春节",
    "2027-02-15,,上班,春节",
    "2027-01-02,,放假,元旦",
    "2027-05-01,,休假,劳动节",
    "2028-01-01,,放假,元旦",
    "2027-10-01,,放假,",
]
BAD_CSV_ERRORS = {
    (3, "开始日期"),
    (4, "结束日期"),
    (5, "开始日期"),
    (6, "日期"),
    (7, "类型"),
    (8, "开始日期"),
    (9, "节日名称"),
}


@pytest.fixture
def staff(db):
    return User.objects.create_user(username="xinxiban", real_name="王芳", kind="staff")


def _calendar_of(year):
    return {
        d: (kind, name)
        for d, kind, name in CalendarDay.objects.filter(date__year=year).values_list(
            "date", "kind", "holiday_name"
        )
    }


def _xlsx(rows):
    book = Workbook()
    sheet = book.worksheets[0]
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- Seeding --------------------------------------------------------------


def test_seeding_copies_every_year_the_package_covers(db):
    report = seed_from_chinesecalendar()
    assert report.created == tuple(range(2004, 2027)) == tuple(package_years())
    assert CalendarDay.objects.count() == len(constants.holidays) + len(constants.workdays)
    day = CalendarDay.objects.get(date=date(2026, 10, 1))
    assert (day.kind, day.holiday_name, day.source) == ("holiday", "国庆节", "chinesecalendar")
    names = set(CalendarDay.objects.filter(date__year=2026).values_list("holiday_name", flat=True))
    assert names == {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}
    assert CalendarDay.objects.get(date=date(2015, 9, 3)).holiday_name.startswith(
        "中国人民抗日战争"
    )


def test_seeding_twice_changes_nothing(db):
    seed_from_chinesecalendar(years=[2025, 2026])
    before = {y: _calendar_of(y) for y in (2025, 2026)}
    stamps = dict(CalendarYear.objects.values_list("year", "imported_at"))
    report = seed_from_chinesecalendar(years=[2025, 2026])
    assert report.unchanged == (2025, 2026)
    assert (report.created, report.updated) == ((), ())
    assert {y: _calendar_of(y) for y in (2025, 2026)} == before
    assert dict(CalendarYear.objects.values_list("year", "imported_at")) == stamps


def test_seeding_repairs_a_seeded_year_that_drifted(db):
    seed_from_chinesecalendar(years=[2026])
    CalendarDay.objects.filter(date=date(2026, 2, 14)).delete()
    CalendarDay.objects.filter(date=date(2026, 10, 1)).update(holiday_name="错")
    report = seed_from_chinesecalendar(years=[2026])
    assert report.updated == (2026,)
    assert is_workday(date(2026, 2, 14)) is True
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).holiday_name == "国庆节"


def test_seeding_never_overwrites_a_year_staff_imported_or_edited(db, staff):
    seed_from_chinesecalendar(years=[2025, 2026])
    rows = [
        {"开始日期": "2026-10-01", "结束日期": "2026-10-08", "类型": "放假", "节日名称": "国庆节"}
    ]
    import_notice(year=2026, rows=rows, notice_title="本市补充通知", actor=staff)
    y2025 = CalendarYear.objects.get(year=2025)
    y2025.source = CalendarSource.MANUAL
    y2025.save()
    CalendarDay.objects.filter(date=date(2025, 10, 1)).delete()
    report = seed_from_chinesecalendar()
    assert set(report.skipped_staff_owned) == {2025, 2026}
    assert list(CalendarDay.objects.filter(date__year=2026).values_list("date", flat=True)) == [
        date(2026, 10, d) for d in range(1, 9)
    ]
    assert not CalendarDay.objects.filter(date=date(2025, 10, 1)).exists()


def test_seeding_a_year_the_package_lacks_is_refused(db):
    with pytest.raises(ValidationError, match="不含 2027 年"):
        seed_from_chinesecalendar(years=[2027])
    assert not CalendarYear.objects.exists()


# --- Import: rows and files -----------------------------------------------


def test_importing_next_years_notice_makes_the_year_computable(db, staff):
    seed_from_chinesecalendar(years=[2026])
    with pytest.raises(CalendarMissingError):
        add_workdays(date(2026, 12, 31), 1)
    report = import_notice(
        year=2027,
        rows=ROWS_2027,
        notice_title=TITLE_2027,
        document_number="国办发明电〔2026〕1号",
        actor=staff,
    )
    assert (report.holidays, report.makeup_workdays, report.replaced) == (18, 2, 0)
    cy = CalendarYear.objects.get(year=2027)
    assert (cy.source, cy.status, cy.imported_by, cy.document_number) == (
        "notice",
        "official",
        staff,
        "国办发明电〔2026〕1号",
    )
    assert cy.imported_at is not None
    assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert is_workday(date(2027, 2, 20)) is True
    assert is_workday(date(2027, 10, 4)) is False
    assert CalendarDay.objects.get(date=date(2027, 9, 26)).source == "notice"


def test_each_imported_day_is_in_the_audit_log(db, staff):
    import_notice(year=2027, rows=ROWS_2027, notice_title=TITLE_2027, actor=staff)
    entries = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(CalendarDay))
    assert entries.count() == 20


def test_a_bad_gbk_csv_is_refused_whole_with_a_report_per_row(db, staff):
    data = "\r\n".join(BAD_CSV_ROWS).encode("gbk")
    with pytest.raises(NoticeImportError) as caught:
        import_notice(
            year=2027, file=data, filename="2027.csv", notice_title=TITLE_2027, actor=staff
        )
    errors = caught.value.row_errors
    assert {(e.row, e.column) for e in errors} == BAD_CSV_ERRORS
    by_row = {e.row: str(e) for e in errors}
    assert "不是有效日期" in by_row[3]
    assert "结束日期不能早于开始日期" in by_row[4]
    assert "周六或周日" in by_row[5]
    assert "已在第 2 行出现" in by_row[6]
    assert "放假" in by_row[7]
    assert "不在 2027 年内" in by_row[8]
    assert by_row[9].startswith("第 9 行「节日名称」")
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.exists()


def test_a_refused_reimport_leaves_the_previous_import_untouched(db, staff):
    import_notice(year=2027, rows=ROWS_2027, notice_title=TITLE_2027, actor=staff)
    before = _calendar_of(2027)
    data = "\r\n".join(BAD_CSV_ROWS).encode("gbk")
    with pytest.raises(NoticeImportError):
        import_notice(year=2027, file=data, notice_title="更正", actor=staff)
    assert _calendar_of(2027) == before
    assert CalendarYear.objects.get(year=2027).notice_title == TITLE_2027


def test_a_good_utf8_csv_with_the_date_column_alias_imports(db, staff):
    text = (
        "\ufeff日期,结束日期,类型,节日名称\n"
        "2027-01-01,2027-01-03,放假,元旦\n"
        "2027-01-09,,上班,元旦\n"
    )
    report = import_notice(
        year=2027, file=text.encode("utf-8"), notice_title=TITLE_2027, actor=staff
    )
    assert (report.holidays, report.makeup_workdays) == (3, 1)


def test_an_xlsx_is_refused_with_a_report_and_a_corrected_one_imports(db, staff):
    header = ["开始日期", "结束日期", "类型", "节日名称"]
    bad = _xlsx(
        [
            header,
            [datetime(2027, 1, 1), datetime(2027, 1, 3), "放假", "元旦"],  # noqa: DTZ001
            [None, None, None, None],
            ["2027-01-04", None, "上班", "元旦"],  # a Monday
            ["not a date", None, "放假", "春节"],
        ]
    )
    with pytest.raises(NoticeImportError) as caught:
        import_notice(
            year=2027, file=bad, filename="2027.xlsx", notice_title=TITLE_2027, actor=staff
        )
    assert {(e.row, e.column) for e in caught.value.row_errors} == {
        (4, "开始日期"),
        (5, "开始日期"),
    }
    assert not CalendarYear.objects.filter(year=2027).exists()

    good = _xlsx([header, [datetime(2027, 1, 1), datetime(2027, 1, 3), "放假", "元旦"]])  # noqa: DTZ001
    report = import_notice(year=2027, file=good, filename="2027.xlsx", notice_title=TITLE_2027)
    assert report.holidays == 3


def test_a_file_without_the_required_columns_is_refused(db):
    with pytest.raises(NoticeImportError) as caught:
        import_notice(year=2027, file="日期,说明\n2027-01-01,x\n".encode(), notice_title=TITLE_2027)
    assert {(e.row, e.column) for e in caught.value.row_errors} == {(1, "类型"), (1, "节日名称")}


def test_a_notice_title_is_required(db):
    with pytest.raises(NoticeImportError, match="通知标题"):
        import_notice(year=2027, rows=ROWS_2027, notice_title=" ")


def test_reimporting_replaces_the_years_rows(db, staff):
    import_notice(year=2027, rows=ROWS_2027, notice_title=TITLE_2027, actor=staff)
    report = import_notice(
        year=2027,
        rows=ROWS_2027[:1],
        notice_title=TITLE_2027,
        actor=staff,
        status=CalendarYearStatus.PROVISIONAL,
    )
    assert report.replaced == 20
    assert len(_calendar_of(2027)) == 3
    assert CalendarYear.objects.get(year=2027).status == "provisional"


def test_a_late_december_date_already_in_last_years_calendar_stays_there(db):
    seed_from_chinesecalendar(years=[2026])
    y2026 = CalendarYear.objects.get(year=2026)
    CalendarDay.objects.create(
        calendar_year=y2026, date=date(2026, 12, 31), kind="holiday", holiday_name="元旦"
    )
    rows = [
        {"开始日期": "2026-12-31", "结束日期": "2027-01-02", "类型": "放假", "节日名称": "元旦"}
    ]
    report = import_notice(year=2027, rows=rows, notice_title=TITLE_2027)
    assert report.kept_elsewhere == (date(2026, 12, 31),)
    assert CalendarDay.objects.get(date=date(2026, 12, 31)).calendar_year == y2026
    CalendarDay.objects.create(
        calendar_year=y2026, date=date(2026, 12, 26), kind="makeup_workday", holiday_name="元旦"
    )
    clash = [{"开始日期": "2026-12-26", "类型": "放假", "节日名称": "元旦"}]
    with pytest.raises(NoticeImportError, match="已在 2026 年日历中登记"):
        import_notice(year=2027, rows=clash, notice_title=TITLE_2027)


def test_the_template_has_the_columns_and_imports_once_filled(db):
    book = load_workbook(io.BytesIO(notice_template_xlsx(2027)))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == ["开始日期", "结束日期", "类型", "节日名称"]
    assert sheet.max_row == 1
    sheet.append(["2027-10-01", "2027-10-07", "放假", "国庆节"])
    out = io.BytesIO()
    book.save(out)
    assert read_notice_file(out.getvalue())[1][0] == 2
    assert import_notice(year=2027, file=out.getvalue(), notice_title=TITLE_2027).holidays == 7


# --- The notice text ------------------------------------------------------


def test_the_2026_notice_text_gives_exactly_the_package_calendar(db):
    rows = parse_notice_text(NOTICE_2026, year=2026)
    import_notice(year=2026, rows=rows, notice_title="国务院办公厅关于2026年部分节假日安排的通知")
    imported = _calendar_of(2026)
    holidays = {d for d, (k, _) in imported.items() if k == CalendarDayKind.HOLIDAY}
    makeup = {d for d, (k, _) in imported.items() if k == CalendarDayKind.MAKEUP_WORKDAY}
    assert holidays == {d for d in constants.holidays if d.year == 2026}
    assert makeup == {d for d in constants.workdays if d.year == 2026}
    assert imported[date(2026, 2, 28)] == ("makeup_workday", "春节")
    assert imported[date(2026, 9, 20)] == ("makeup_workday", "国庆节")
    assert workdays_in_year(2026) == 248
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert is_workday(day) == chinese_calendar.is_workday(day)
        day = day.fromordinal(day.toordinal() + 1)


def test_the_2025_notice_text_gives_exactly_the_package_calendar(db):
    rows = parse_notice_text(NOTICE_2025, year=2025)
    import_notice(year=2025, rows=rows, notice_title="国务院办公厅关于2025年部分节假日安排的通知")
    imported = _calendar_of(2025)
    assert {d for d, (k, _) in imported.items() if k == "holiday"} == {
        d for d in constants.holidays if d.year == 2025
    }
    assert {d for d, (k, _) in imported.items() if k == "makeup_workday"} == {
        d for d in constants.workdays if d.year == 2025
    }
    assert imported[date(2025, 10, 6)] == ("holiday", "国庆节、中秋节")
    assert workdays_in_year(2025) == 248


def test_the_notice_text_handles_ranges_across_months_and_years():
    text = (
        "一、元旦：2018年12月30日至2019年1月1日放假调休，共3天。2018年12月29日（星期六）上班。\n"
        "二、春节：1月31日至2月6日放假调休，共7天。"
    )
    rows = parse_notice_text(text, year=2019)
    assert [(r["开始日期"], r["结束日期"], r["类型"]) for r in rows] == [
        (date(2018, 12, 30), date(2019, 1, 1), "放假"),
        (date(2018, 12, 29), date(2018, 12, 29), "上班"),
        (date(2019, 1, 31), date(2019, 2, 6), "放假"),
    ]
