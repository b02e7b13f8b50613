"""core calendar endpoints: working-day questions and the years the calendar covers.

Holiday arrangements are public information (the State Council publishes them), so
these read-only endpoints need no login. Answers for a year without a calendar are a
409 with the Chinese message, or — when DC_CALENDAR_ALLOW_ESTIMATE is on — a value
flagged ``estimated``.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from digitalcity.core.calendar import CalendarMissingError, add_workdays_ex, day_info
from digitalcity.core.models import CalendarDayKind, CalendarYear

router = Router(tags=["calendar"])


class CalendarError(Schema):
    detail: str = Field(description="中文说明")
    code: str = Field(description="calendar_missing（该年日历未导入）或 invalid（参数错误）")
    year: int | None = Field(None, description="缺少日历的年份")


class WorkdayOut(Schema):
    date: date
    is_workday: bool
    kind: str = Field(
        description="workday 工作日 · weekend 周末 · holiday 放假 · makeup_workday 调休上班"
    )
    holiday_name: str = Field(description="节日名称；普通工作日和周末为空")
    estimated: bool = Field(description="该年日历未导入、按周末推算时为 true")


class AddWorkdaysOut(Schema):
    start: date
    n: int
    result: date = Field(description="start 之后第 n 个工作日（start 当天不计）")
    estimated: bool
    years_estimated: list[int] = Field(description="按周末推算的年份")


class CalendarYearOut(Schema):
    year: int
    status: str = Field(description="official 正式 · provisional 暂定")
    source: str = Field(description="chinesecalendar · notice 导入通知 · manual 手工维护")
    notice_title: str
    document_number: str
    imported_at: datetime | None
    holidays: int = Field(description="放假天数（含其间周末）")
    makeup_workdays: int = Field(description="调休上班天数")


def _missing(exc: CalendarMissingError) -> Status[CalendarError]:
    return Status(
        409, CalendarError(detail=exc.messages[0], code="calendar_missing", year=exc.year)
    )


@router.get(
    "/workday",
    response={200: WorkdayOut, 409: CalendarError},
    summary="某日是否工作日",
    auth=None,
)
def workday(request: HttpRequest, date: date) -> Status[WorkdayOut] | Status[CalendarError]:
    try:
        result = day_info(date)
    except CalendarMissingError as exc:
        return _missing(exc)
    info = result.value
    return Status(
        200,
        WorkdayOut(
            date=info.date,
            is_workday=info.is_workday,
            kind=info.kind,
            holiday_name=info.holiday_name,
            estimated=result.estimated,
        ),
    )


@router.get(
    "/add-workdays",
    response={200: AddWorkdaysOut, 409: CalendarError, 422: CalendarError},
    summary="start 之后第 n 个工作日",
    auth=None,
)
def add_workdays(
    request: HttpRequest, start: date, n: int
) -> Status[AddWorkdaysOut] | Status[CalendarError]:
    try:
        result = add_workdays_ex(start, n)
    except CalendarMissingError as exc:
        return _missing(exc)
    except ValidationError as exc:
        return Status(422, CalendarError(detail=exc.messages[0], code="invalid", year=None))
    return Status(
        200,
        AddWorkdaysOut(
            start=start,
            n=n,
            result=result.value,
            estimated=result.estimated,
            years_estimated=list(result.years_estimated),
        ),
    )


@router.get("/years", response=list[CalendarYearOut], summary="已有工作日历的年份", auth=None)
def years(request: HttpRequest) -> list[CalendarYearOut]:
    rows = CalendarYear.objects.annotate(
        n_holidays=Count("days", filter=Q(days__kind=CalendarDayKind.HOLIDAY)),
        n_makeup=Count("days", filter=Q(days__kind=CalendarDayKind.MAKEUP_WORKDAY)),
    ).order_by("year")
    return [
        CalendarYearOut(
            year=cy.year,
            status=cy.status,
            source=cy.source,
            notice_title=cy.notice_title,
            document_number=cy.document_number,
            imported_at=cy.imported_at,
            holidays=cy.n_holidays,
            makeup_workdays=cy.n_makeup,
        )
        for cy in rows
    ]
