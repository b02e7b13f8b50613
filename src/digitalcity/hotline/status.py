"""How an order's status reads for a citizen or another system (Open311, tracking page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.cases.choices import ClockState
from digitalcity.cases.models import Clock

from .choices import OrderState
from .models import WorkOrder

__all__ = ["OPEN311_CLOSED", "OrderStatus", "order_status"]

#: States an Open311 client sees as "closed"; every other is "open".
OPEN311_CLOSED = frozenset(
    {OrderState.REPLIED, OrderState.ANSWERED, OrderState.MERGED, OrderState.ARCHIVED}
)


@dataclass(frozen=True)
class OrderStatus:
    state: str  # an OrderState value
    state_label: str
    open311_status: str  # "open" | "closed"
    expected_at: datetime | None  # the order clock's due moment while it runs
    notes: str  # our detailed state, one line (Open311 status_notes)
    department: str  # who handles it, "" before dispatch


def _deadline(order: WorkOrder) -> Clock | None:
    clocks = getattr(order.case, "_prefetched_objects_cache", {}).get("clocks")
    if clocks is not None:
        return next((c for c in clocks if c.task_id is None and c.code == "deadline"), None)
    return Clock.objects.filter(case_id=order.case_id, task=None, code="deadline").first()


def order_status(order: WorkOrder) -> OrderStatus:
    """The state, the due moment and a one-line detailed note. One query for the clock
    unless `case__clocks` is prefetched."""
    case = order.case
    state = OrderState(case.state)
    clock = _deadline(order)
    expected = clock.due_at if clock is not None and clock.state == ClockState.RUNNING else None
    department = order.lead_department.name if order.lead_department is not None else ""
    parts = [str(state.label)]
    if department and state in (OrderState.DISPATCHED, OrderState.HANDLING):
        parts.append(_("承办：%(d)s") % {"d": department})
    if expected is not None:
        parts.append(_("办理期限：%(t)s") % {"t": f"{timezone.localtime(expected):%Y-%m-%d %H:%M}"})
    elif clock is not None and clock.state == ClockState.PAUSED:
        parts.append(_("办理时限暂停计时"))
    if state in (OrderState.REPLIED, OrderState.ANSWERED, OrderState.ARCHIVED) and order.reply:
        parts.append(_("答复：%(r)s") % {"r": order.reply[:200]})
    if state == OrderState.MERGED and order.merged_into is not None:
        parts.append(_("已并入工单 %(n)s") % {"n": order.merged_into.case.number})
    if case.round > 1 and state not in OPEN311_CLOSED:
        parts.append(_("第 %(n)d 次办理") % {"n": case.round})
    return OrderStatus(
        state=state.value,
        state_label=str(state.label),
        open311_status="closed" if state in OPEN311_CLOSED else "open",
        expected_at=expected,
        notes="；".join(parts),
        department=department,
    )
