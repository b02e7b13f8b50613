"""Reads for the hotline's pages and API: scope, lists, the caller's history, masking,
merge candidates."""

from __future__ import annotations

import difflib
import math
from datetime import timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from digitalcity.cases.choices import ACTIVE_TASK_STATES
from digitalcity.cases.models import CaseDepartment, Clock, Rating, Task
from digitalcity.core.models import Membership
from digitalcity.identity.masking import mask_name, mask_phone
from digitalcity.identity.models import AccountKind
from digitalcity.identity.permissions import is_supervisor

from .choices import ExtensionState, OrderState
from .conf import center_code
from .models import ExtensionRequest, Reminder, WorkOrder

__all__ = [
    "caller_history",
    "display_name",
    "display_phone",
    "get_order_for_user",
    "is_center_staff",
    "merge_candidates",
    "orders_for_user",
    "reminders_of",
]

MERGE_WINDOW_DAYS = 7
MERGE_SIMILARITY = 0.45
MERGE_DISTANCE_M = 300


def _signed_in(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def _department_ids(user: Any) -> list[int]:
    cached = getattr(user, "_hotline_departments", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(
                user=user, is_active=True, department__is_active=True
            ).values_list("department_id", flat=True)
        )
        user._hotline_departments = cached
    return cached


def is_center_staff(user: Any) -> bool:
    """A member of the 12345 center (agents, dispatchers, its head) or an administrator."""
    if not _signed_in(user):
        return False
    if user.is_superuser or user.kind == AccountKind.ADMIN:
        return True
    cached = getattr(user, "_hotline_center", None)
    if cached is None:
        cached = Membership.objects.filter(
            user=user, is_active=True, department__code=center_code(), department__is_active=True
        ).exists()
        user._hotline_center = cached
    return bool(cached)


def orders_for_user(user: Any) -> QuerySet[WorkOrder]:
    """Center staff and supervisors: every order; a department's staff: orders their
    department is involved in; a citizen: their own."""
    qs = WorkOrder.objects.select_related("case", "category", "lead_department", "division")
    if not _signed_in(user):
        return qs.none()
    if is_center_staff(user) or is_supervisor(user):
        return qs
    if user.kind in (AccountKind.STAFF, AccountKind.ADMIN):
        involved = CaseDepartment.objects.filter(
            case_id=OuterRef("case_id"), department_id__in=_department_ids(user)
        )
        return qs.filter(Exists(involved))
    return qs.filter(caller=user)


def get_order_for_user(user: Any, ref: Any) -> WorkOrder:
    """The order by pk or number if `user` may see it; Http404 otherwise."""
    qs = orders_for_user(user)
    text = str(ref)
    found = (
        qs.filter(pk=int(text)).first() if text.isdigit() else qs.filter(case__number=text).first()
    )
    if found is None:
        raise Http404("工单不存在或无权访问")
    return found


def display_phone(order: WorkOrder, viewer: Any) -> str:
    """The caller's number: in full for the 12345 center; for others masked when the
    caller asked for confidentiality (or is anonymous), and always for citizens."""
    if is_center_staff(viewer):
        return order.caller_phone
    if order.is_confidential or order.anonymous:
        return mask_phone(order.caller_phone) if order.caller_phone else ""
    if _signed_in(viewer) and viewer.kind in (AccountKind.STAFF, AccountKind.ADMIN):
        return order.caller_phone
    return mask_phone(order.caller_phone) if order.caller_phone else ""


def display_name(order: WorkOrder, viewer: Any) -> str:
    if order.anonymous:
        return "匿名"
    if is_center_staff(viewer) or not order.is_confidential:
        return order.caller_name
    return mask_name(order.caller_name)


def caller_history(phone: str, *, limit: int = 10) -> list[WorkOrder]:
    """The caller's earlier orders, newest first (the console shows them while ringing)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 5:
        return []
    return list(
        WorkOrder.objects.filter(caller_phone=digits)
        .select_related("case", "category", "lead_department")
        .order_by("-created_at", "-id")[:limit]
    )


def _bigrams(text: str) -> set[str]:
    clean = "".join(ch for ch in text if ch.isalnum())
    return {clean[i : i + 2] for i in range(len(clean) - 1)}


def similarity(a: str, b: str) -> float:
    """Text similarity in [0, 1]: the better of character-bigram Jaccard and difflib."""
    ba, bb = _bigrams(a), _bigrams(b)
    jaccard = len(ba & bb) / len(ba | bb) if ba and bb else 0.0
    return max(jaccard, difflib.SequenceMatcher(None, a, b).ratio())


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    rad = math.radians
    dlat, dlon = rad(lat2 - lat1), rad(lon2 - lon1)
    h = (
        math.sin(dlat / 2) ** 2
        + math.cos(rad(lat1)) * math.cos(rad(lat2)) * math.sin(dlon / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def merge_candidates(order: WorkOrder, *, limit: int = 5) -> list[tuple[WorkOrder, str]]:
    """Earlier open orders that may be the same matter (并单), with the reason:
    the same caller and similar text, or the same category at the same place (same
    address, or within 300 m) within the window."""
    since = order.created_at - timedelta(days=MERGE_WINDOW_DAYS)
    base = (
        WorkOrder.objects.filter(created_at__gte=since, created_at__lte=order.created_at)
        .exclude(pk=order.pk)
        .exclude(case__state=OrderState.MERGED)
        .select_related("case", "category")
    )
    same_place = Q(category=order.category) & (
        Q(address=order.address) if order.address else Q(pk__in=[])
    )
    if order.lat is not None and order.lon is not None:
        same_place |= Q(
            category=order.category,
            lat__range=(order.lat - 0.005, order.lat + 0.005),
            lon__range=(order.lon - 0.005, order.lon + 0.005),
        )
    same_caller = Q(caller_phone=order.caller_phone) if order.caller_phone else Q(pk__in=[])
    found: list[tuple[WorkOrder, str]] = []
    for other in base.filter(same_caller | same_place).order_by("-created_at")[:50]:
        if order.caller_phone and other.caller_phone == order.caller_phone:
            score = similarity(order.description, other.description)
            if score >= MERGE_SIMILARITY:
                found.append((other, f"同一来电人，内容相似度 {score:.0%}"))
                continue
        if other.category_id == order.category_id:
            if order.address and other.address == order.address:
                found.append((other, "同一地点、同一分类"))
            elif (
                None not in (order.lat, order.lon, other.lat, other.lon)
                and _distance_m(order.lat, order.lon, other.lat, other.lon) <= MERGE_DISTANCE_M  # type: ignore[arg-type]
            ):
                found.append((other, "相距 300 米内、同一分类"))
    return found[:limit]


def active_tasks(order: WorkOrder) -> list[Task]:
    return list(
        Task.objects.filter(case_id=order.case_id, state__in=ACTIVE_TASK_STATES)
        .select_related("department")
        .order_by("id")
    )


def deadline_clock(order: WorkOrder) -> Clock | None:
    return Clock.objects.filter(case_id=order.case_id, task=None, code="deadline").first()


def _by_deadline(orders: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    """Soonest (or longest overdue) deadline first; orders whose clock stands last."""
    due = Clock.objects.filter(case_id=OuterRef("case_id"), task=None, code="deadline").values(
        "due_at"
    )[:1]
    return orders.annotate(deadline_due=Subquery(due)).order_by(
        F("deadline_due").asc(nulls_last=True), "created_at"
    )


def center_queues() -> dict[str, QuerySet[WorkOrder]]:
    """The dispatch desk's lists."""
    base = WorkOrder.objects.select_related("case", "category", "lead_department", "division")
    rated = Rating.objects.filter(case_id=OuterRef("case_id"), round=OuterRef("case__round"))
    return {
        "to_dispatch": base.filter(
            case__state__in=(OrderState.RECEIVED, OrderState.REWORK)
        ).order_by("-case__priority", "created_at"),
        "returned": base.filter(case__state=OrderState.RETURNED).order_by("updated_at"),
        "callbacks": base.filter(case__state=OrderState.REPLIED)
        .exclude(Exists(rated))
        .order_by("callback_due_at"),
        "in_progress": _by_deadline(
            base.filter(case__state__in=(OrderState.DISPATCHED, OrderState.HANDLING))
        ),
    }


def pending_extensions() -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.filter(state=ExtensionState.PENDING).select_related(
        "order__case", "department", "requested_by"
    )


def department_orders(user: Any) -> QuerySet[WorkOrder]:
    """Orders with an active task for the user's departments, soonest deadline first."""
    tasks = Task.objects.filter(
        case_id=OuterRef("case_id"),
        state__in=ACTIVE_TASK_STATES,
        department_id__in=_department_ids(user),
    )
    return _by_deadline(
        WorkOrder.objects.filter(Exists(tasks))
        .select_related("case", "category", "lead_department")
        .prefetch_related(
            Prefetch(
                "case__clocks",
                queryset=Clock.objects.filter(task=None, code="deadline"),
            )
        )
    )


def reminders_of(order: WorkOrder) -> QuerySet[Reminder]:
    """The order's 催办 rows with who and which departments (two queries)."""
    return (
        Reminder.objects.filter(order=order)
        .select_related("by")
        .prefetch_related("departments")
        .order_by("at", "id")
    )
