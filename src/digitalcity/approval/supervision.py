"""Electronic supervision of approval (电子监察): findings by rule, quarterly department
grades and the leaders' statistics. Everything is computed from rows and events (the
catalog, applications, the case engine's events and signals), never from counters.

Rules (level, what the system sees):

* 临近时限 (预警): the engine's prompt on a clock.
* 逾期未受理 / 审查环节超时 / 超过承诺时限 / 超过法定时限 / 证照送达超期 (黄牌, 红牌):
  the engine's yellow and red cards on the acceptance, stage, promised, legal and
  delivery clocks (prompts on them count as 预警).
* 未网上办理 (预警): taken at the window for an item that can be applied for online.
* 多次补正 (黄牌): the second and each later correction notice on one application.
* 不予许可未说明理由 (红牌): cannot happen — the service refuses a refusal without
  reasons and legal basis; shown as a rule with 0.

Grade per department and quarter (docs/approval.md "Grades"):
score = max(0, 100 − 2 × 预警 − 5 × 黄牌 − 10 × 红牌);
优秀 ≥ 95, 良好 ≥ 85, 合格 ≥ 70, else 不合格; a department with no application in the
quarter and no finding gets no grade.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from digitalcity.cases.choices import EventKind, SignalKind
from digitalcity.cases.models import Event, Signal
from digitalcity.core.models import Department

from .choices import SupervisionLevel
from .models import Application, Item
from .workflow import TYPE_CODE

__all__ = [
    "GRADE_FORMULA",
    "Figures",
    "Finding",
    "findings",
    "grade",
    "grades",
    "quarter",
    "statistics",
]

GRADE_FORMULA = gettext_lazy(
    "得分 = 100 − 2×预警数 − 5×黄牌数 − 10×红牌数（不低于 0）；"
    "≥95 优秀，≥85 良好，≥70 合格，其余不合格"
)
_PENALTY = {SupervisionLevel.WARNING: 2, SupervisionLevel.YELLOW: 5, SupervisionLevel.RED: 10}
_CLOCK_RULES = {
    "acceptance": gettext_lazy("逾期未受理"),
    "stage": gettext_lazy("审查环节超时"),
    "preliminary": gettext_lazy("下级初审超时"),
    "promised": gettext_lazy("超过承诺时限"),
    "legal": gettext_lazy("超过法定时限"),
    "delivery": gettext_lazy("证照送达超期"),
}
_SIGNAL_LEVEL = {
    SignalKind.PROMPT: SupervisionLevel.WARNING,
    SignalKind.YELLOW: SupervisionLevel.YELLOW,
    SignalKind.RED: SupervisionLevel.RED,
}
CORRECTIONS = ("ask_correction", "ask_correction_pre")
DECISIONS = ("grant", "refuse", "deemed_renew")


def quarter(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """(first day, first day of the next quarter) of the quarter holding `day`."""
    first_month = (day.month - 1) // 3 * 3 + 1
    start = datetime.date(day.year, first_month, 1)
    end = (
        datetime.date(day.year + 1, 1, 1)
        if first_month == 10
        else datetime.date(day.year, first_month + 3, 1)
    )
    return start, end


def _bounds(
    start: datetime.date, end: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(end, datetime.time.min, tzinfo=tz),
    )


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    case_id: int
    number: str
    department_id: int
    at: datetime.datetime

    @property
    def level_label(self) -> str:
        return str(SupervisionLevel(self.level).label)


def findings(
    start: datetime.date, end: datetime.date, *, department: Department | None = None
) -> list[Finding]:
    """Every finding in [start, end), by rule."""
    lo, hi = _bounds(start, end)
    found: list[Finding] = []
    signals = Signal.objects.filter(case__type_code=TYPE_CODE, at__gte=lo, at__lt=hi).values_list(
        "kind",
        "clock__code",
        "case_id",
        "case__number",
        "department_id",
        "case__department_id",
        "case__approval__item__preliminary_department_id",
        "at",
    )
    for kind, code, case_id, number, dept, lead, county, at in signals:
        if code == "preliminary" and county:
            dept = county  # Art. 43: the preliminary review is the county department's
        found.append(
            Finding(
                rule=str(_CLOCK_RULES.get(code, code)),
                level=_SIGNAL_LEVEL[SignalKind(kind)],
                case_id=case_id,
                number=number,
                department_id=dept or lead,
                at=at,
            )
        )
    offline = Application.objects.filter(
        case__isnull=False,
        case__channel="window",
        item__online=True,
        submitted_at__gte=lo,
        submitted_at__lt=hi,
    ).values_list("case_id", "case__number", "case__department_id", "submitted_at")
    for case_id, number, dept, submitted in offline:
        if submitted is None:
            continue
        found.append(
            Finding(
                str(gettext_lazy("未网上办理")),
                SupervisionLevel.WARNING,
                case_id,
                number,
                dept,
                submitted,
            )
        )
    corrections: dict[int, list[Any]] = defaultdict(list)
    for case_id, number, dept, at in (
        Event.objects.filter(
            case__type_code=TYPE_CODE, kind=EventKind.TRANSITION, transition__in=CORRECTIONS
        )
        .order_by("at", "id")
        .values_list("case_id", "case__number", "case__department_id", "at")
    ):
        corrections[case_id].append((number, dept, at))
    for case_id, rows in corrections.items():
        for number, dept, at in rows[1:]:
            if lo <= at < hi:
                found.append(
                    Finding(
                        str(gettext_lazy("多次补正")),
                        SupervisionLevel.YELLOW,
                        case_id,
                        number,
                        dept,
                        at,
                    )
                )
    if department is not None:
        found = [f for f in found if f.department_id == department.pk]
    return sorted(found, key=lambda f: (f.at, f.case_id))


def grade(score: int) -> str:
    if score >= 95:
        return str(gettext_lazy("优秀"))
    if score >= 85:
        return str(gettext_lazy("良好"))
    if score >= 70:
        return str(gettext_lazy("合格"))
    return str(gettext_lazy("不合格"))


@dataclass
class Grade:
    department: Department
    warnings: int = 0
    yellow: int = 0
    red: int = 0
    applications: int = 0

    @property
    def score(self) -> int:
        return max(0, 100 - 2 * self.warnings - 5 * self.yellow - 10 * self.red)

    @property
    def grade(self) -> str:
        return grade(self.score)


def grades(start: datetime.date, end: datetime.date) -> list[Grade]:
    """Each department's grade for [start, end): departments leading items."""
    lo, hi = _bounds(start, end)
    departments = {
        d.pk: d for d in Department.objects.filter(Q(approval_items__isnull=False)).distinct()
    }
    rows = {pk: Grade(department=d) for pk, d in departments.items()}
    for case_dept in Application.objects.filter(
        submitted_at__gte=lo, submitted_at__lt=hi
    ).values_list("case__department_id", flat=True):
        if case_dept in rows:
            rows[case_dept].applications += 1
    for finding in findings(start, end):
        row = rows.get(finding.department_id)
        if row is None:
            dept = Department.objects.filter(pk=finding.department_id).first()
            if dept is None:
                continue
            row = rows[dept.pk] = Grade(department=dept)
        if finding.level == SupervisionLevel.WARNING:
            row.warnings += 1
        elif finding.level == SupervisionLevel.YELLOW:
            row.yellow += 1
        else:
            row.red += 1
    return sorted(
        (r for r in rows.values() if r.applications or r.warnings or r.yellow or r.red),
        key=lambda r: (-r.score, r.department.code),
    )


@dataclass
class Figures:
    """One row of the leaders' statistics (rates as fractions 0–1, None when undefined)."""

    key: str
    label: str
    items: int = 0
    online_items: int = 0
    zero_visit_items: int = 0
    one_visit_items: int = 0
    compression_sum: Decimal = Decimal(0)
    decided: int = 0
    fully_online: int = 0
    on_the_spot: int = 0
    on_time: int = 0
    early: int = 0
    _seen: set[int] = field(default_factory=set, repr=False)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return None if not whole else part / whole

    @property
    def online_rate(self) -> float | None:
        return self._rate(self.online_items, self.items)

    @property
    def zero_visit_rate(self) -> float | None:
        return self._rate(self.zero_visit_items, self.items)

    @property
    def one_visit_rate(self) -> float | None:
        return self._rate(self.one_visit_items, self.items)

    @property
    def compression(self) -> float | None:
        return None if not self.items else float(self.compression_sum) / self.items

    @property
    def fully_online_rate(self) -> float | None:
        return self._rate(self.fully_online, self.decided)

    @property
    def on_the_spot_rate(self) -> float | None:
        return self._rate(self.on_the_spot, self.decided)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.on_time, self.decided)

    @property
    def early_rate(self) -> float | None:
        return self._rate(self.early, self.decided)


def _catalog(rows: dict[str, Figures], key_of: Any, items: Iterable[Item]) -> None:
    for item in items:
        key, label = key_of(item)
        row = rows.setdefault(key, Figures(key=key, label=label))
        row.items += 1
        row.online_items += item.online
        row.zero_visit_items += item.visits == 0
        row.one_visit_items += item.visits <= 1
        row.compression_sum += Decimal(item.legal_days - item.promised_days) / item.legal_days


def statistics(
    start: datetime.date, end: datetime.date, *, by: str = "department"
) -> list[Figures]:
    """The leaders' figures per department (`by="department"`) or division.

    Catalog shares (网上可办率, 零跑动, 最多跑一次, 平均压缩比) over active items; the rest
    over applications decided in [start, end):
    * 全程网办: applied online and no step of it recorded at a window;
    * 即办: decided on the day it was accepted;
    * 按时办结: the legal clock stopped not overdue; 提前办结: the promised clock stopped
      with time left (used < its limit).
    """
    lo, hi = _bounds(start, end)
    items = Item.objects.filter(is_active=True).select_related(
        "lead_department", "lead_department__division"
    )
    rows: dict[str, Figures] = {}

    def dept_key(item: Item) -> tuple[str, str]:
        d = item.lead_department
        return d.code, d.short_name or d.name

    def division_key(item: Item) -> tuple[str, str]:
        div = item.lead_department.division
        return (div.code, div.name) if div else ("", str(gettext_lazy("未设区划")))

    _catalog(rows, dept_key if by == "department" else division_key, items)

    decisions = list(
        Event.objects.filter(
            case__type_code=TYPE_CODE,
            kind=EventKind.TRANSITION,
            transition__in=DECISIONS,
            at__gte=lo,
            at__lt=hi,
        ).values_list(
            "case_id",
            "at",
            "case__channel",
            "case__department__code",
            "case__department__short_name",
            "case__department__name",
            "case__department__division__code",
            "case__department__division__name",
        )
    )
    case_ids = [d[0] for d in decisions]
    accepted: dict[int, datetime.datetime] = {}
    window_steps: set[int] = set()
    stopped: dict[tuple[int, str], dict[str, Any]] = {}
    for case_id, kind, transition, at, data in Event.objects.filter(
        case_id__in=case_ids
    ).values_list("case_id", "kind", "transition", "at", "data"):
        if kind == EventKind.TRANSITION and transition in ("accept", "deemed_accept"):
            accepted.setdefault(case_id, at)
        if (data or {}).get("channel") == "window" and kind == EventKind.TRANSITION:
            window_steps.add(case_id)
        if kind == EventKind.CLOCK_STOPPED and (data or {}).get("clock") in ("legal", "promised"):
            stopped[(case_id, data["clock"])] = data
    for case_id, at, channel, code, short, name, div_code, div_name in decisions:
        key, label = (
            (code, short or name)
            if by == "department"
            else (div_code or "", div_name or str(gettext_lazy("未设区划")))
        )
        row = rows.setdefault(key, Figures(key=key, label=label))
        row.decided += 1
        if channel == "online" and case_id not in window_steps:
            row.fully_online += 1
        accepted_at = accepted.get(case_id)
        if accepted_at is not None and timezone.localdate(accepted_at) == timezone.localdate(at):
            row.on_the_spot += 1
        legal = stopped.get((case_id, "legal"))
        if legal is not None and not legal.get("overdue"):
            row.on_time += 1
        promised = stopped.get((case_id, "promised"))
        if promised is not None and Decimal(promised["used"]) < Decimal(promised["total"]):
            row.early += 1
    return sorted(rows.values(), key=lambda r: r.key)


def totals(rows: list[Figures]) -> Figures:
    total = Figures(key="", label=str(gettext_lazy("合计")))
    for row in rows:
        for name in (
            "items",
            "online_items",
            "zero_visit_items",
            "one_visit_items",
            "decided",
            "fully_online",
            "on_the_spot",
            "on_time",
            "early",
        ):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.compression_sum += row.compression_sum
    return total
