"""The calendar's admin pages, REST endpoints and `digitalcity calendar` command."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from digitalcity.core.calendar import is_workday
from digitalcity.core.calendar_import import seed_from_chinesecalendar
from digitalcity.core.models import AuditEntry, CalendarDay, CalendarSource, CalendarYear
from digitalcity.identity.models import User

from .test_calendar_import import BAD_CSV_ROWS, NOTICE_2026, TITLE_2027

SH = ZoneInfo("Asia/Shanghai")
IMPORT_URL = "/admin/core/calendaryear/import/"
GOOD_CSV = (
    "开始日期,结束日期,类型,节日名称\n2027-01-01,2027-01-03,放假,元旦\n2027-01-09,,上班,元旦\n"
)


@pytest.fixture
def seeded(db):
    seed_from_chinesecalendar(years=[2025, 2026])


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser(username="admin", password="x", kind="admin")
    client.force_login(admin)
    client.user = admin
    return client


# --- Admin ----------------------------------------------------------------


def test_the_import_page_imports_a_csv_and_records_who(admin_client, seeded):
    page = admin_client.get(IMPORT_URL)
    assert page.status_code == 200
    assert "下载 2027 年导入模板" in page.content.decode()  # next year, as of 2026
    response = admin_client.post(
        IMPORT_URL,
        {
            "year": 2027,
            "notice_title": TITLE_2027,
            "document_number": "",
            "status": "official",
            "file": SimpleUploadedFile("2027.csv", GOOD_CSV.encode("gbk")),
        },
    )
    cy = CalendarYear.objects.get(year=2027)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:core_calendaryear_change", args=[cy.pk])
    assert (cy.source, cy.imported_by) == ("notice", admin_client.user)
    assert is_workday(date(2027, 1, 9)) is True


def test_the_import_page_shows_the_per_row_report_and_writes_nothing(admin_client, seeded):
    response = admin_client.post(
        IMPORT_URL,
        {
            "year": 2027,
            "notice_title": TITLE_2027,
            "status": "official",
            "file": SimpleUploadedFile("2027.csv", "\n".join(BAD_CSV_ROWS).encode("gbk")),
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "整个文件未导入" in html
    assert "<td>5</td><td>开始日期</td>" in html
    assert "周六或周日" in html
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_import_page_accepts_the_pasted_notice_text(admin_client):
    response = admin_client.post(
        IMPORT_URL,
        {"year": 2026, "notice_title": "通知", "status": "official", "text": NOTICE_2026},
    )
    assert response.status_code == 302
    assert CalendarDay.objects.filter(date__year=2026).count() == 39


def test_the_import_page_wants_a_file_or_text_but_not_both(admin_client):
    response = admin_client.post(
        IMPORT_URL, {"year": 2027, "notice_title": TITLE_2027, "status": "official"}
    )
    assert "二选一" in response.content.decode()


def test_the_template_download_is_an_xlsx_with_the_header(admin_client):
    response = admin_client.get("/admin/core/calendaryear/import/template/2027/")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.worksheets[0]["A1"].value == "开始日期"


def test_an_outsider_cannot_reach_the_import_page(client, db):
    clerk = User.objects.create_user(username="clerk", password="x", kind="staff", is_staff=True)
    client.force_login(clerk)
    assert client.get(IMPORT_URL).status_code == 403
    client.logout()
    assert client.get(IMPORT_URL).status_code == 302  # to the login page


def test_an_admin_edit_of_a_day_is_audited_and_protects_the_year_from_seeding(admin_client, seeded):
    day = CalendarDay.objects.get(date=date(2026, 10, 1))
    response = admin_client.post(
        reverse("admin:core_calendarday_change", args=[day.pk]),
        {
            "calendar_year": day.calendar_year_id,
            "date": "2026-10-01",
            "kind": "holiday",
            "holiday_name": "国庆节（本市）",
        },
    )
    assert response.status_code == 302
    day.refresh_from_db()
    assert (day.holiday_name, day.source) == ("国庆节（本市）", "manual")
    assert CalendarYear.objects.get(year=2026).source == CalendarSource.MANUAL
    assert AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(CalendarDay), object_id=str(day.pk)
    ).exists()
    assert seed_from_chinesecalendar(years=[2026]).skipped_staff_owned == (2026,)
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).holiday_name == "国庆节（本市）"


def test_a_year_added_in_the_admin_with_its_days_is_staff_owned(admin_client, seeded):
    response = admin_client.post(
        reverse("admin:core_calendaryear_add"),
        {
            "year": 2027,
            "status": "provisional",
            "notice_title": "",
            "document_number": "",
            "days-TOTAL_FORMS": 2,
            "days-INITIAL_FORMS": 0,
            "days-0-date": "2027-01-01",
            "days-0-kind": "holiday",
            "days-0-holiday_name": "元旦",
            "days-1-date": "2027-01-04",  # a Monday cannot be a make-up workday
            "days-1-kind": "makeup_workday",
            "days-1-holiday_name": "元旦",
        },
    )
    assert response.status_code == 200
    assert "本来就是工作日" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()
    response = admin_client.post(
        reverse("admin:core_calendaryear_add"),
        {
            "year": 2027,
            "status": "provisional",
            "days-TOTAL_FORMS": 1,
            "days-INITIAL_FORMS": 0,
            "days-0-date": "2027-01-01",
            "days-0-kind": "holiday",
            "days-0-holiday_name": "元旦",
        },
    )
    assert response.status_code == 302
    cy = CalendarYear.objects.get(year=2027)
    assert (cy.source, cy.status) == ("manual", "provisional")
    assert is_workday(date(2027, 1, 1)) is False
    assert CalendarDay.objects.get(date=date(2027, 1, 1)).source == "manual"


def test_the_day_list_filters_by_year_and_kind(admin_client, seeded):
    url = reverse("admin:core_calendarday_changelist")
    response = admin_client.get(url, {"year": "2026", "kind": "makeup_workday"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 6


def test_the_year_page_lists_its_days_inline(admin_client, seeded):
    cy = CalendarYear.objects.get(year=2026)
    response = admin_client.get(reverse("admin:core_calendaryear_change", args=[cy.pk]))
    assert response.status_code == 200
    assert "2026-02-14" in response.content.decode()


# --- API ------------------------------------------------------------------


def test_the_api_says_whether_a_day_is_a_workday(client, seeded):
    body = client.get("/api/core/calendar/workday", {"date": "2026-02-14"}).json()
    assert body == {
        "date": "2026-02-14",
        "is_workday": True,
        "kind": "makeup_workday",
        "holiday_name": "春节",
        "estimated": False,
    }
    assert client.get("/api/core/calendar/workday", {"date": "2026-10-01"}).json()["kind"] == (
        "holiday"
    )


def test_the_api_adds_workdays_and_explains_a_missing_year(client, seeded, settings):
    ok = client.get("/api/core/calendar/add-workdays", {"start": "2025-09-30", "n": 1})
    assert ok.json()["result"] == "2025-10-09"
    missing = client.get("/api/core/calendar/add-workdays", {"start": "2026-12-31", "n": 1})
    assert missing.status_code == 409
    assert missing.json()["code"] == "calendar_missing"
    assert missing.json()["year"] == 2027
    assert "国务院办公厅" in missing.json()["detail"]
    settings.DC_CALENDAR_ALLOW_ESTIMATE = True
    estimate = client.get("/api/core/calendar/add-workdays", {"start": "2026-12-31", "n": 1})
    assert estimate.json() | {} == {
        "start": "2026-12-31",
        "n": 1,
        "result": "2027-01-01",
        "estimated": True,
        "years_estimated": [2027],
    }
    bad = client.get("/api/core/calendar/add-workdays", {"start": "2026-03-02", "n": -1})
    assert bad.status_code == 422


def test_the_api_lists_the_covered_years(client, seeded):
    body = client.get("/api/core/calendar/years").json()
    assert [(y["year"], y["source"], y["makeup_workdays"]) for y in body] == [
        (2025, "chinesecalendar", 5),
        (2026, "chinesecalendar", 6),
    ]


def test_the_api_schema_documents_the_endpoints(client, db):
    schema = client.get("/api/openapi.json").json()
    assert "/api/core/calendar/add-workdays" in schema["paths"]
    assert "409" in schema["paths"]["/api/core/calendar/add-workdays"]["get"]["responses"]


# --- Command --------------------------------------------------------------


def _call(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("calendar", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_seed_and_show(db):
    assert "新建：2025、2026" in _call("seed", "2025", "2026")
    assert "未变：2025、2026" in _call("seed", "2025", "2026")
    shown = _call("show", "2026")
    assert "2026-02-14 周六 上班 春节" in shown
    assert "全年工作日：248 天" in shown
    with pytest.raises(CommandError, match="2027 年没有工作日历"):
        _call("show", "2027")


def test_import_a_file_and_a_notice_text(seeded, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes("\n".join(BAD_CSV_ROWS).encode("gbk"))
    with pytest.raises(CommandError, match="整个文件未导入"):
        _call("import", str(bad), "--year", "2027", "--notice", TITLE_2027)
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD_CSV.encode("gbk"))
    assert "已导入 2027 年" in _call("import", str(good), "--year", "2027", "--notice", TITLE_2027)
    text = tmp_path / "notice.txt"
    text.write_text(NOTICE_2026, encoding="utf-8")
    out = _call("import", str(text), "--year", "2026", "--notice", "通知", "--provisional")
    assert "全年工作日 248 天" in out
    assert CalendarYear.objects.get(year=2026).status == "provisional"


def test_check_fails_when_the_next_60_days_reach_an_uncovered_year(seeded):
    with time_machine.travel(datetime(2026, 10, 1, 10, tzinfo=SH), tick=False):
        assert "已覆盖至 2026-11-30" in _call("check")
    with time_machine.travel(datetime(2026, 11, 21, 10, tzinfo=SH), tick=False):
        with pytest.raises(CommandError, match="2027 年的工作日历尚未导入") as caught:
            _call("check")
        assert caught.value.returncode == 1
        CalendarYear.objects.create(year=2027, source=CalendarSource.MANUAL)
        assert "已覆盖至 2027-01-20" in _call("check")
