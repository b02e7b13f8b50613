"""`digitalcity calendar seed|import|show|check`: keep the working-day calendar current.

``check`` is for monitoring: it exits non-zero when today + 60 days falls in a year with
no calendar, so operations hear about it while there is still time to import the notice.
"""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digitalcity.core.calendar import missing_years, workdays_in_year
from digitalcity.core.calendar_import import (
    NoticeImportError,
    import_notice,
    parse_notice_text,
    seed_from_chinesecalendar,
)
from digitalcity.core.context import acting_as
from digitalcity.core.models import CalendarDay, CalendarDayKind, CalendarYear, CalendarYearStatus

#: How far ahead `check` looks; deadlines of a few weeks must never hit a missing year.
CHECK_HORIZON_DAYS = 60


class Command(BaseCommand):
    help = "工作日历：seed 从 chinesecalendar 初始化；import 导入节假日通知；show 查看；check 检查"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        seed = sub.add_parser(
            "seed", help="从 chinesecalendar 软件包初始化（不覆盖人工导入或修改的年份）"
        )
        seed.add_argument(
            "years", nargs="*", type=int, help="只初始化这些年份（默认：软件包覆盖的全部年份）"
        )
        imp = sub.add_parser(
            "import", help="从 .xlsx/.csv 模板或通知正文（.txt）导入某年的节假日安排"
        )
        imp.add_argument(
            "file", type=Path, help="按模板填写的 .xlsx/.csv（UTF-8 或 GBK），或通知正文 .txt"
        )
        imp.add_argument("--year", type=int, required=True, help="通知所安排的年份，如 2027")
        imp.add_argument("--notice", required=True, help="通知标题")
        imp.add_argument("--number", default="", help="文号，如 国办发明电〔2026〕7号")
        imp.add_argument(
            "--provisional", action="store_true", help="标记为暂定（通知尚未正式发布或未核对）"
        )
        show = sub.add_parser("show", help="列出某年的放假和调休上班日及全年工作日数")
        show.add_argument("year", type=int)
        sub.add_parser(
            "check", help=f"今天起 {CHECK_HORIZON_DAYS} 天内的年份缺少日历时以非零状态退出"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        with acting_as(label=f"cli:calendar {action}"):
            getattr(self, f"do_{action}")(options)

    def do_seed(self, options: dict[str, Any]) -> None:
        try:
            report = seed_from_chinesecalendar(years=options["years"] or None)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for label, years in (
            (_("新建"), report.created),
            (_("更新"), report.updated),
            (_("未变"), report.unchanged),
            (_("跳过（人工导入或修改过）"), report.skipped_staff_owned),
        ):
            if years:
                self.stdout.write(
                    _("%(label)s：%(years)s") % {"label": label, "years": _years(years)}
                )

    def do_import(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("无法读取文件 %(path)s：%(error)s") % {"path": path, "error": exc.strerror}
            ) from exc
        common: dict[str, Any] = {
            "year": options["year"],
            "notice_title": options["notice"],
            "document_number": options["number"],
            "status": CalendarYearStatus.PROVISIONAL
            if options["provisional"]
            else CalendarYearStatus.OFFICIAL,
        }
        try:
            if path.suffix.lower() == ".txt":
                text = _decode(data)
                report = import_notice(rows=parse_notice_text(text, year=options["year"]), **common)
            else:
                report = import_notice(file=data, filename=path.name, **common)
        except NoticeImportError as exc:
            for error in exc.row_errors:
                self.stderr.write(str(error))
            raise CommandError(
                _("有 %(n)d 处错误，整个文件未导入") % {"n": len(exc.row_errors)}
            ) from exc
        self.stdout.write(
            _(
                "已导入 %(y)s 年：放假 %(h)d 天，调休上班 %(w)d 天（替换原有 %(r)d 条）；"
                "全年工作日 %(n)d 天"
            )
            % {
                "y": report.year,
                "h": report.holidays,
                "w": report.makeup_workdays,
                "r": report.replaced,
                "n": workdays_in_year(report.year),
            }
        )

    def do_show(self, options: dict[str, Any]) -> None:
        year = options["year"]
        cy = CalendarYear.objects.filter(year=year).first()
        if cy is None:
            raise CommandError(
                _("%(y)s 年没有工作日历：请导入国务院办公厅关于 %(y)s 年部分节假日安排的通知")
                % {"y": year}
            )
        self.stdout.write(
            (
                _("%(y)s 年  %(status)s  来源：%(source)s  %(number)s %(title)s")
                % {
                    "y": year,
                    "status": cy.get_status_display(),
                    "source": cy.get_source_display(),
                    "number": cy.document_number,
                    "title": cy.notice_title,
                }
            ).rstrip()
        )
        for day in CalendarDay.objects.filter(calendar_year=cy).order_by("date"):
            mark = _("放假") if day.kind == CalendarDayKind.HOLIDAY else _("上班")
            self.stdout.write(
                f"{day.date:%Y-%m-%d} {_WEEKDAYS[day.date.weekday()]} {mark} {day.holiday_name}"
            )
        self.stdout.write(_("全年工作日：%(n)d 天") % {"n": workdays_in_year(year)})

    def do_check(self, options: dict[str, Any]) -> None:
        today = timezone.localdate()
        horizon = today + timedelta(days=CHECK_HORIZON_DAYS)
        missing = missing_years(range(today.year, horizon.year + 1))
        if missing:
            raise CommandError(
                _(
                    "%(years)s 年的工作日历尚未导入（%(horizon)s 在 %(days)d 天内）："
                    "请导入国务院办公厅关于 %(first)s 年部分节假日安排的通知"
                    "（digitalcity calendar import 或 "
                    "系统管理 › 基础平台 › 工作日历年度 › 导入节假日通知）"
                )
                % {
                    "years": _years(missing),
                    "horizon": f"{horizon:%Y-%m-%d}",
                    "days": CHECK_HORIZON_DAYS,
                    "first": missing[0],
                }
            )
        self.stdout.write(_("工作日历正常：已覆盖至 %(d)s") % {"d": f"{horizon:%Y-%m-%d}"})


_WEEKDAYS = (
    gettext_lazy("周一"),
    gettext_lazy("周二"),
    gettext_lazy("周三"),
    gettext_lazy("周四"),
    gettext_lazy("周五"),
    gettext_lazy("周六"),
    gettext_lazy("周日"),
)


def _years(years: tuple[int, ...] | list[int]) -> str:
    return "、".join(str(y) for y in years)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")
