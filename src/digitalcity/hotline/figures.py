"""The hotline's figures, computed from the engine's events and the hotline's rows.

Definitions (docs/hotline.md "Figures"), for a period [start, end):

* 响应率 (response rate): of the SIGN tasks created in the period (not cancelled; one
  still waiting counts only once its limit has passed), the share signed within their
  signing limit — the task completed and its `sign` clock stopped not overdue (the
  `clock_stopped` event's `overdue`).
* 解决率 (resolution rate): of the orders whose call-back was recorded in the period
  (the latest call-back of each order), the share the citizen said was solved.
* 满意率 (satisfaction rate): of the same call-backs, the share 满意 or 基本满意.
* 按时办结率 (on-time rate): of the orders replied in the period, the share whose
  order clock (`deadline`) stopped not overdue.
* 退单率 / 延期率: of the orders dispatched in the period, the share with a task returned /
  with an extension approved.

Per department: SIGN tasks by the task's department; orders by their lead department.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.cases.choices import ACTIVE_TASK_STATES, EventKind, TaskState
from digitalcity.cases.models import Clock, Event, Task
from digitalcity.core.models import Department, Division

from .choices import ExtensionState, RequestType
from .models import Callback, Category, ExtensionRequest, SmsMessage, WorkOrder
from .workflow import ORDER_TYPE_CODE

__all__ = ["Figures", "Rate", "compute", "export_xlsx"]

GB_REPLY_SECONDS = 180  # GB/T 33358: an SMS is answered within 3 minutes


@dataclass
class Rate:
    hits: int = 0
    total: int = 0

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    @property
    def percent(self) -> str:
        return "—" if self.value is None else f"{self.value:.1%}"


@dataclass
class DepartmentRow:
    department: Department
    orders: int = 0
    response: Rate = field(default_factory=Rate)
    resolution: Rate = field(default_factory=Rate)
    satisfaction: Rate = field(default_factory=Rate)
    on_time: Rate = field(default_factory=Rate)
    returns: Rate = field(default_factory=Rate)
    extensions: Rate = field(default_factory=Rate)


@dataclass
class Figures:
    start: datetime
    end: datetime
    total: DepartmentRow
    departments: list[DepartmentRow]
    by_type: list[tuple[str, int]]
    by_category: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    hot_categories: list[tuple[str, int, int]]  # name, this week, last week
    hot_places: list[tuple[str, int, int]]
    points: list[dict[str, Any]]
    sms: dict[str, Any]


def _rows(departments: dict[int, DepartmentRow], dept_id: int | None) -> DepartmentRow | None:
    if dept_id is None:
        return None
    if dept_id not in departments:
        departments[dept_id] = DepartmentRow(Department(pk=dept_id))
    return departments[dept_id]


def _add(total: DepartmentRow, row: DepartmentRow | None, name: str, hit: bool) -> None:
    for target in (total, row):
        if target is None:
            continue
        rate: Rate = getattr(target, name)
        rate.total += 1
        rate.hits += int(hit)


def _response(
    start: datetime, end: datetime, total: DepartmentRow, rows: dict[int, DepartmentRow]
) -> None:
    tasks = list(
        Task.objects.filter(
            case__type_code=ORDER_TYPE_CODE,
            spec="sign",
            created_at__gte=start,
            created_at__lt=end,
        )
        .exclude(state=TaskState.CANCELLED)
        .values_list("pk", "department_id", "state")
    )
    stops: dict[int, bool] = {}
    for task_id, data in (
        Event.objects.filter(kind=EventKind.CLOCK_STOPPED, task_id__in=[t[0] for t in tasks])
        .order_by("at", "id")
        .values_list("task_id", "data")
    ):
        stops[task_id] = bool(data.get("overdue"))  # the last stop wins (after a reassignment)
    # A task still waiting to be signed counts once its limit has passed (a miss); before
    # that it is not yet judged.
    now = timezone.now()
    waiting = {t[0] for t in tasks if t[2] in ACTIVE_TASK_STATES}
    overdue = set(
        Clock.objects.filter(task_id__in=waiting, code="sign", due_at__lte=now).values_list(
            "task_id", flat=True
        )
    )
    for task_id, dept_id, state in tasks:
        if task_id in waiting and task_id not in overdue:
            continue
        hit = state == TaskState.COMPLETED and stops.get(task_id) is False
        _add(total, _rows(rows, dept_id), "response", hit)


def _callbacks(
    start: datetime, end: datetime, total: DepartmentRow, rows: dict[int, DepartmentRow]
) -> None:
    latest: dict[int, Callback] = {}
    for callback in Callback.objects.filter(at__gte=start, at__lt=end).order_by("at", "id"):
        latest[callback.order_id] = callback
    for callback in latest.values():
        row = _rows(rows, callback.department_id)
        _add(total, row, "resolution", callback.solved)
        _add(total, row, "satisfaction", callback.value in ("satisfied", "basically"))


def _on_time(
    start: datetime, end: datetime, total: DepartmentRow, rows: dict[int, DepartmentRow]
) -> None:
    replied = dict(
        WorkOrder.objects.filter(
            replied_at__gte=start, replied_at__lt=end, lead_department__isnull=False
        ).values_list("case_id", "lead_department_id")
    )
    overdue: dict[int, bool] = {}
    for case_id, data in (
        Event.objects.filter(
            kind=EventKind.CLOCK_STOPPED, task__isnull=True, case_id__in=list(replied)
        )
        .order_by("at", "id")
        .values_list("case_id", "data")
    ):
        if data.get("clock") == "deadline":
            overdue[case_id] = bool(data.get("overdue"))
    for case_id, dept_id in replied.items():
        if case_id in overdue:
            _add(total, _rows(rows, dept_id), "on_time", not overdue[case_id])


def _returns(
    start: datetime, end: datetime, total: DepartmentRow, rows: dict[int, DepartmentRow]
) -> None:
    dispatched = set(
        Event.objects.filter(
            case__type_code=ORDER_TYPE_CODE,
            kind=EventKind.TRANSITION,
            transition="dispatch",
            at__gte=start,
            at__lt=end,
        ).values_list("case_id", flat=True)
    )
    returned = set(
        Event.objects.filter(case_id__in=dispatched, kind=EventKind.TASK_RETURNED).values_list(
            "case_id", flat=True
        )
    )
    orders = dict(WorkOrder.objects.filter(case_id__in=dispatched).values_list("case_id", "pk"))
    extended = set(
        ExtensionRequest.objects.filter(
            order_id__in=orders.values(), state=ExtensionState.APPROVED
        ).values_list("order_id", flat=True)
    )
    leads = dict(
        WorkOrder.objects.filter(case_id__in=dispatched).values_list(
            "case_id", "lead_department_id"
        )
    )
    for case_id in dispatched:
        row = _rows(rows, leads.get(case_id))
        _add(total, row, "returns", case_id in returned)
        _add(total, row, "extensions", orders.get(case_id) in extended)


def _rising(
    current: Counter[Any], previous: Counter[Any], names: dict[Any, str]
) -> list[tuple[str, int, int]]:
    rising = [
        (names.get(key, str(key)), count, previous.get(key, 0))
        for key, count in current.items()
        if count > previous.get(key, 0)
    ]
    rising.sort(key=lambda r: (r[1] - r[2], r[1]), reverse=True)
    return rising[:10]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[index]


def _sms(start: datetime, end: datetime) -> dict[str, Any]:
    rows = SmsMessage.objects.filter(received_at__gte=start, received_at__lt=end).select_related(
        "reply"
    )
    latencies: list[float] = []
    count = 0
    for message in rows:
        count += 1
        if message.reply is not None and message.reply.sent_at is not None:
            latencies.append((message.reply.sent_at - message.received_at).total_seconds())
    if not latencies:
        return {"count": count, "answered": 0}
    return {
        "count": count,
        "answered": len(latencies),
        "median": statistics.median(latencies),
        "p95": _percentile(latencies, 0.95),
        "max": max(latencies),
        "within": Rate(sum(1 for v in latencies if v <= GB_REPLY_SECONDS), len(latencies)),
    }


def compute(start: datetime, end: datetime, *, department: Department | None = None) -> Figures:
    """The figures of [start, end); with `department`, only its row is kept."""
    rows: dict[int, DepartmentRow] = {}
    total = DepartmentRow(Department(name=_("全市")))
    orders = WorkOrder.objects.filter(created_at__gte=start, created_at__lt=end)
    for dept_id in orders.exclude(lead_department=None).values_list(
        "lead_department_id", flat=True
    ):
        row = _rows(rows, dept_id)
        assert row is not None  # noqa: S101 - dept_id is set
        row.orders += 1
    total.orders = orders.count()
    _response(start, end, total, rows)
    _callbacks(start, end, total, rows)
    _on_time(start, end, total, rows)
    _returns(start, end, total, rows)
    names = {d.pk: d for d in Department.objects.filter(pk__in=list(rows))}
    for dept_id, row in rows.items():
        if dept_id in names:
            row.department = names[dept_id]
    departments = sorted(rows.values(), key=lambda r: (-r.orders, r.department.name))
    if department is not None:
        departments = [r for r in departments if r.department.pk == department.pk]
    types = dict(RequestType.choices)
    by_type = Counter(orders.values_list("request_type", flat=True))
    top = dict(Category.objects.filter(parent=None).values_list("code", "name"))
    by_category = Counter(code[:2] for code in orders.values_list("category__code", flat=True))
    channels = Counter(orders.values_list("channel", flat=True))
    from digitalcity.cases.choices import CaseChannel

    week = timedelta(days=7)
    this_week = WorkOrder.objects.filter(created_at__gte=end - week, created_at__lt=end)
    last_week = WorkOrder.objects.filter(created_at__gte=end - 2 * week, created_at__lt=end - week)
    mid_names = dict(Category.objects.filter(code__regex=r"^\d{4}$").values_list("code", "name"))
    cat_now = Counter(c[:4] for c in this_week.values_list("category__code", flat=True))
    cat_before = Counter(c[:4] for c in last_week.values_list("category__code", flat=True))
    place_now = Counter(this_week.exclude(division=None).values_list("division_id", flat=True))
    place_before = Counter(last_week.exclude(division=None).values_list("division_id", flat=True))
    place_names = dict(
        Division.objects.filter(pk__in=list(place_now) + list(place_before)).values_list(
            "pk", "name"
        )
    )
    points = [
        {
            "lat": lat,
            "lon": lon,
            "number": number,
            "category": name,
        }
        for lat, lon, number, name in orders.filter(~Q(lat=None), ~Q(lon=None)).values_list(
            "lat", "lon", "case__number", "category__name"
        )[:2000]
    ]
    return Figures(
        start=start,
        end=end,
        total=total,
        departments=departments,
        by_type=[(str(types.get(k, k)), v) for k, v in by_type.most_common()],
        by_category=[(top.get(k, k), v) for k, v in by_category.most_common()],
        by_channel=[
            (str(dict(CaseChannel.choices).get(k, k)), v) for k, v in channels.most_common()
        ],
        hot_categories=_rising(cat_now, cat_before, mid_names),
        hot_places=_rising(place_now, place_before, place_names),
        points=points,
        sms=_sms(start, end),
    )


def export_xlsx(figures: Figures) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has one sheet
    sheet.title = _("部门指标")
    sheet.append(
        [
            _("部门"),
            _("工单量"),
            _("响应率"),
            _("解决率"),
            _("满意率"),
            _("按时办结率"),
            _("退单率"),
            _("延期率"),
        ]
    )
    for row in [figures.total, *figures.departments]:
        sheet.append(
            [
                row.department.name,
                row.orders,
                *(
                    rate.value
                    for rate in (
                        row.response,
                        row.resolution,
                        row.satisfaction,
                        row.on_time,
                        row.returns,
                        row.extensions,
                    )
                ),
            ]
        )
    for cells in sheet.iter_rows(min_row=2, min_col=3, max_col=8):
        for cell in cells:
            cell.number_format = "0.0%"
    sheet.column_dimensions["A"].width = 34
    types = book.create_sheet(_("诉求类型"))
    types.append([_("类型"), _("数量")])
    for name, count in figures.by_type:
        types.append([name, count])
    cats = book.create_sheet(_("诉求分类"))
    cats.append([_("分类"), _("数量")])
    for name, count in figures.by_category:
        cats.append([name, count])
    hot = book.create_sheet(_("热点"))
    hot.append([_("热点分类/地区"), _("本周"), _("上周")])
    for name, now, before in figures.hot_categories + figures.hot_places:
        hot.append([name, now, before])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
