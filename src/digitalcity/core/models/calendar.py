"""The working-day calendar (工作日历): statutory holidays and make-up workdays per year.

A year is *covered* only if it has a `CalendarYear` row; dates in other years have no
calendar (the functions in `digitalcity.core.calendar` raise or flag an estimate).
Within a covered year a date is a working day if it is a make-up workday (调休上班), or
a Monday–Friday that is not a holiday row. Rows are edited by staff in the admin and are
audit-logged; the `chinesecalendar` package only seeds them.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import AuditedMixin, TimestampedMixin

__all__ = [
    "CalendarDay",
    "CalendarDayKind",
    "CalendarSource",
    "CalendarYear",
    "CalendarYearStatus",
    "notice_may_declare",
]


class CalendarYearStatus(models.TextChoices):
    OFFICIAL = "official", _("正式（已按国务院办公厅通知核对）")
    PROVISIONAL = "provisional", _("暂定（通知尚未发布或未核对）")


class CalendarSource(models.TextChoices):
    CHINESECALENDAR = "chinesecalendar", _("chinesecalendar 软件包")
    NOTICE = "notice", _("导入国务院办公厅通知")
    MANUAL = "manual", _("手工维护")


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("放假（法定节假日/调休休息日）")
    MAKEUP_WORKDAY = "makeup_workday", _("调休上班")


class CalendarYear(AuditedMixin, TimestampedMixin, models.Model):
    """One year's holiday arrangement, as published by the State Council's General Office.

    `source` says who last wrote the year's rows: seeding from the package never
    overwrites a year whose source is a notice import or a manual edit.
    """

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=CalendarYearStatus.choices,
        default=CalendarYearStatus.OFFICIAL,
    )
    source = models.CharField(
        _("数据来源"),
        max_length=16,
        choices=CalendarSource.choices,
        default=CalendarSource.MANUAL,
    )
    notice_title = models.CharField(
        _("通知标题"),
        max_length=200,
        blank=True,
        help_text=_("如：国务院办公厅关于2027年部分节假日安排的通知"),
    )
    document_number = models.CharField(
        _("文号"), max_length=64, blank=True, help_text=_("如：国办发明电〔2026〕7号")
    )
    imported_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("工作日历年度")
        verbose_name_plural = _("工作日历年度")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 年工作日历"


class CalendarDay(AuditedMixin, TimestampedMixin, models.Model):
    """A date that departs from the weekly rule: a holiday, or a weekend made a workday.

    `calendar_year` is the year whose notice declared the date. That is the date's own
    year, or the year after for late-December dates (the notice for 2019 set
    2018-12-29 上班 and 2018-12-30/31 放假).
    """

    calendar_year = models.ForeignKey(
        CalendarYear,
        verbose_name=_("所属年度"),
        on_delete=models.CASCADE,
        related_name="days",
    )
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=CalendarDayKind.choices)
    holiday_name = models.CharField(_("节日名称"), max_length=50, blank=True)
    source = models.CharField(
        _("数据来源"),
        max_length=16,
        choices=CalendarSource.choices,
        default=CalendarSource.MANUAL,
    )

    class Meta:
        verbose_name = _("节假日/调休日")
        verbose_name_plural = _("节假日/调休日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.holiday_name}".strip()

    def clean(self) -> None:
        errors: dict[str, str] = {}
        try:
            year: int | None = self.calendar_year.year
        except ObjectDoesNotExist:  # an inline row of a year not saved yet
            year = None
        if self.date and year is not None and not notice_may_declare(year, self.date):
            errors["date"] = str(
                _("日期 %(date)s 不属于 %(year)s 年：只能是该年内或上一年 12 月的日期")
                % {"date": f"{self.date:%Y-%m-%d}", "year": year}
            )
        if self.date and self.kind == CalendarDayKind.MAKEUP_WORKDAY and self.date.weekday() < 5:
            errors["kind"] = str(
                _("%(date)s 是周一至周五，本来就是工作日，不能设为调休上班")
                % {"date": f"{self.date:%Y-%m-%d}"}
            )
        if self.kind == CalendarDayKind.HOLIDAY and not self.holiday_name.strip():
            errors["holiday_name"] = str(_("放假日必须填写节日名称"))
        if errors:
            raise ValidationError(errors)


def notice_may_declare(year: int, day: date) -> bool:
    """Whether the notice for `year` may declare `day` (its own year or the December before)."""
    return day.year == year or (day.year == year - 1 and day.month == 12)
