"""Intake: every channel (phone, SMS, web, app, Open311) makes a work order here.

`order_intake` validates the whole request first (nothing is written on bad input),
refuses flooding from one number, honours an idempotency key (a repeated key returns the
first order, also under concurrent submissions: the key is unique in the table, so the
second insert fails and its transaction rolls back), picks the deadline rule, and opens
the `hotline.order` case led by the 12345 center with the order's clock running in the
rule's own unit (natural hours or working days).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.cases.choices import CaseChannel, ClockUnit
from digitalcity.cases.services import case_open
from digitalcity.core.models import Department, Division
from digitalcity.core.refcache import ReferenceCache
from digitalcity.core.rows import Table, scalar_rows
from digitalcity.identity.models import AccountKind

from ..choices import INTAKE_CHANNELS, URGENCY_PRIORITY, DeadlineUnit, RequestType, Urgency
from ..conf import center_code, city_bounds, flood_limit
from ..models import Category, DeadlineRule, WorkOrder
from ..workflow import ORDER_TYPE_CODE

__all__ = [
    "ANONYMOUS_TYPES",
    "DESCRIPTION_MAX",
    "Deadline",
    "IntakeThrottled",
    "center_department",
    "deadline_for",
    "order_intake",
]

DESCRIPTION_MAX = 2000
#: Request types a caller may make without giving a name (a complaint or a plea for help
#: needs someone to answer to; a tip-off may be anonymous by its nature).
ANONYMOUS_TYPES = frozenset(
    {RequestType.CONSULT, RequestType.REPORT, RequestType.SUGGESTION, RequestType.PRAISE}
)
#: Beijing's 接诉即办 limits, used when no DeadlineRule row is active (docs/hotline.md).
DEFAULT_RULES: dict[tuple[str, str], tuple[int, str, int]] = {
    ("", Urgency.CRITICAL): (2, DeadlineUnit.CALENDAR_HOURS, 1),
    ("", Urgency.URGENT): (24, DeadlineUnit.CALENDAR_HOURS, 1),
    (RequestType.COMPLAINT, Urgency.NORMAL): (15, DeadlineUnit.WORKDAYS, 2),
    (RequestType.REPORT, Urgency.NORMAL): (15, DeadlineUnit.WORKDAYS, 2),
    ("", ""): (7, DeadlineUnit.WORKDAYS, 2),
}


class IntakeThrottled(ValidationError):
    """Too many orders from one number in the window (HTTP 429 in the APIs)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__({"caller_phone": message}, code="throttled")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Deadline:
    amount: int
    unit: str
    sign_hours: int


def _load_center(code: Any) -> Department | None:
    return Department.objects.filter(code=code, is_active=True).first()


def _load_rules(_key: Any) -> dict[tuple[str, str], Deadline]:
    return {
        (r.request_type, r.urgency): Deadline(r.amount, r.unit, r.sign_hours)
        for r in DeadlineRule.objects.filter(is_active=True)
    }


def _load_category(code: Any) -> Category | None:
    return Category.objects.filter(code=code, is_active=True).first()


def _load_division(code: Any) -> Division | None:
    return Division.objects.filter(code=code).first()


ORDERS = Table(WorkOrder)

# Read by every intake, edited a few times a year (core.refcache, ADR 0019): an edit in
# another process is seen within 30 s.
_CENTER = ReferenceCache("hotline.center", _load_center).invalidate_on(Department)
_RULES = ReferenceCache("hotline.deadline_rules", _load_rules).invalidate_on(DeadlineRule)
_CATEGORIES = ReferenceCache("hotline.categories", _load_category).invalidate_on(Category)
_DIVISIONS = ReferenceCache("hotline.divisions", _load_division).invalidate_on(Division)


def center_department() -> Department:
    found = _CENTER.get(center_code())
    if found is None:
        raise ValidationError(
            {"department": _("12345中心部门“%(c)s”不存在或已停用") % {"c": center_code()}}
        )
    return found


def deadline_for(request_type: str, urgency: str) -> Deadline:
    """The most specific active rule: type × urgency, urgency alone, type alone, any."""
    rows = _RULES.get()
    for key in ((request_type, urgency), ("", urgency), (request_type, ""), ("", "")):
        if key in rows:
            return rows[key]
    for key in ((request_type, urgency), ("", urgency), (request_type, ""), ("", "")):
        if key in DEFAULT_RULES:
            return Deadline(*DEFAULT_RULES[key])
    raise AssertionError("the catch-all default rule exists")  # pragma: no cover


def _category(value: Category | str, errors: dict[str, str]) -> Category | None:
    if isinstance(value, Category):
        return value if value.is_active else None
    code = str(value or "").strip()
    found = _CATEGORIES.get(code)
    if found is None:
        errors["category"] = _("诉求分类“%(c)s”不存在或已停用") % {"c": code}
    return found


def _division(value: Division | str | None, errors: dict[str, str]) -> Division | None:
    if value is None or value == "":
        return None
    if isinstance(value, Division):
        return value
    found = _DIVISIONS.get(str(value).strip())
    if found is None:
        errors["division"] = _("行政区划代码“%(c)s”不存在") % {"c": value}
    return found


def _coordinates(lat: Any, lon: Any, errors: dict[str, str]) -> tuple[float | None, float | None]:
    if lat in (None, "") and lon in (None, ""):
        return None, None
    try:
        flat, flon = float(lat), float(lon)
    except (TypeError, ValueError):
        errors["lat"] = _("坐标须同时给出纬度和经度，且为数字")
        return None, None
    if not (math.isfinite(flat) and math.isfinite(flon)):
        errors["lat"] = _("坐标须为有限数字")
        return None, None
    bounds = city_bounds()
    if not bounds.contains(flat, flon):
        errors["lat"] = _(
            "坐标（%(lat).5f, %(lon).5f）不在本市范围内（纬度 %(s)s–%(n)s，经度 %(w)s–%(e)s）"
        ) % {
            "lat": flat,
            "lon": flon,
            "s": bounds.south,
            "n": bounds.north,
            "w": bounds.west,
            "e": bounds.east,
        }
        return None, None
    return flat, flon


def _check_flood(phone: str, now: datetime) -> None:
    limit, window = flood_limit()
    if not phone or limit <= 0:
        return
    since = now - timedelta(seconds=window)
    # Plain SQL on the (caller_phone, created_at) index, counting at most `limit` rows:
    # every unattended intake asks this (core.rows; bench/hotline_open311.py).
    ((recent,),) = scalar_rows(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {ORDERS.name} WHERE"  # noqa: S608 - fixed texts
        f" {ORDERS.column('caller_phone')} = %s AND {ORDERS.column('created_at')} >= %s"
        " LIMIT %s) AS recent",
        [phone, connection.ops.adapt_datetimefield_value(since), limit],
    )
    if recent >= limit:
        # Refused: the message names the whole count (the check above stops at `limit`).
        recent = WorkOrder.objects.filter(caller_phone=phone, created_at__gte=since).count()
        raise IntakeThrottled(
            _("号码 %(p)s 在 %(m)d 分钟内已提交 %(n)d 件诉求，请稍后再试")
            % {"p": phone[:3] + "****" + phone[-4:], "m": window // 60, "n": recent},
            retry_after=window,
        )


def order_for_key(key: str) -> WorkOrder | None:
    """The order of idempotency key `key`, if there is one: an id look-up on the key's
    unique index first (almost always empty), the row only when found."""
    found = scalar_rows(
        f"SELECT id FROM {ORDERS.name} WHERE {ORDERS.column('idempotency_key')} = %s",  # noqa: S608 - fixed texts
        [key],
    )
    if not found:
        return None
    return WorkOrder.objects.select_related("case").get(pk=found[0][0])


def order_intake(
    *,
    channel: str,
    request_type: str,
    category: Category | str,
    description: str,
    urgency: str = Urgency.NORMAL,
    actor: Any = None,
    caller_name: str = "",
    caller_phone: str = "",
    address: str = "",
    division: Division | str | None = None,
    lat: float | str | None = None,
    lon: float | str | None = None,
    is_confidential: bool = False,
    anonymous: bool = False,
    attributes: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
    on_created: Callable[[WorkOrder], None] | None = None,
) -> WorkOrder:
    """Register one citizen request as a work order and return it (see the module doc).

    `actor`: the agent (phone, SMS desk), the citizen's account (web, app), or None
    (Open311 without an account, the SMS gateway). A citizen's order is theirs
    (`caller`); an anonymous one keeps no name and is confidential. Raises
    ValidationError naming each bad field, IntakeThrottled when one number floods.
    `on_created(order)` runs in the intake's transaction once a new order is written
    (not for a repeated key): what a channel records beside the order commits with it.
    """
    key = (idempotency_key or "").strip()
    if key:
        if len(key) > 64:
            raise ValidationError({"idempotency_key": _("幂等键最多 64 个字符")})
        existing = order_for_key(key)
        if existing is not None:
            return existing
    errors: dict[str, str] = {}
    if channel not in INTAKE_CHANNELS:
        errors["channel"] = _("受理渠道“%(v)s”无效") % {"v": channel}
    if request_type not in RequestType.values:
        errors["request_type"] = _("诉求类型“%(v)s”无效，可选：%(all)s") % {
            "v": request_type,
            "all": "、".join(str(label) for label in RequestType.labels),
        }
    if urgency not in Urgency.values:
        errors["urgency"] = _("紧急程度“%(v)s”无效") % {"v": urgency}
    text = (description or "").strip()
    if not text:
        errors["description"] = _("诉求内容不能为空")
    elif len(text) > DESCRIPTION_MAX:
        errors["description"] = _("诉求内容最多 %(max)d 个字符，当前 %(n)d 个") % {
            "max": DESCRIPTION_MAX,
            "n": len(text),
        }
    found_category = _category(category, errors)
    found_division = _division(division, errors)
    flat, flon = _coordinates(lat, lon, errors)
    address = (address or "").strip()
    if len(address) > 200:
        errors["address"] = _("事发地址最多 200 个字符")
    phone = "".join(ch for ch in (caller_phone or "") if ch.isdigit())
    if caller_phone and not 5 <= len(phone) <= 20:
        errors["caller_phone"] = _("联系电话“%(p)s”无效：应为 5 至 20 位数字") % {"p": caller_phone}
    name = (caller_name or "").strip()
    if len(name) > 50:
        errors["caller_name"] = _("诉求人姓名最多 50 个字符")
    caller = None
    if actor is not None and getattr(actor, "kind", None) in (
        AccountKind.CITIZEN,
        AccountKind.LEGAL_PERSON,
    ):
        caller = actor
        name = name or actor.real_name or actor.org_name
        phone = phone or (actor.phone or "")
    if anonymous:
        if request_type in RequestType.values and request_type not in ANONYMOUS_TYPES:
            errors["anonymous"] = _("“%(t)s”类诉求须留下诉求人信息，不能匿名") % {
                "t": RequestType(request_type).label
            }
        name, is_confidential = "", True
    elif not (name or phone or caller):
        errors["caller_name"] = _("非匿名诉求须留下诉求人姓名或联系电话")
    attrs = dict(attributes or {})
    if len(str(attrs)) > 4000:
        errors["attributes"] = _("附加属性过长（最多 4000 个字符）")
    if errors:
        raise ValidationError(errors)
    assert found_category is not None  # noqa: S101 - no errors means it was found
    now = timezone.now()
    if channel != CaseChannel.PHONE:
        # An agent on the line decides for themselves; unattended channels are throttled.
        _check_flood(phone, now)
    center = center_department()
    deadline = deadline_for(request_type, urgency)
    subject = f"{RequestType(request_type).label}：{text[:60]}"
    try:
        with transaction.atomic():
            case = case_open(
                type_code=ORDER_TYPE_CODE,
                subject=subject,
                actor=actor,
                department=center,
                channel=channel,
                applicant=caller,
                applicant_name=name,
                applicant_phone=phone,
                division=found_division,
                priority=URGENCY_PRIORITY[Urgency(urgency)],
                is_confidential=is_confidential,
                # The rule's amount in the rule's unit (ADR 0015).
                clock_limits={"deadline": deadline.amount},
                clock_units={"deadline": ClockUnit(deadline.unit)},
                data={"request_type": request_type, "urgency": urgency},
                savepoint=False,  # this transaction is the whole intake
            )
            order = WorkOrder(
                case=case,
                channel=channel,
                request_type=request_type,
                urgency=urgency,
                category=found_category,
                description=text,
                caller=caller,
                caller_name=name,
                caller_phone=phone,
                anonymous=anonymous,
                is_confidential=is_confidential,
                address=address,
                division=found_division,
                lat=flat,
                lon=flon,
                attributes=attrs,
                idempotency_key=key,
                deadline_amount=deadline.amount,
                deadline_unit=deadline.unit,
                sign_hours=deadline.sign_hours,
                received_by=actor if caller is None and actor is not None else None,
            )
            # Not audited, no receivers (the case's events are its trail): core.rows.
            ORDERS.insert([order])
            if on_created is not None:
                on_created(order)
    except IntegrityError:
        # A concurrent submission with the same key won the insert: return its order.
        if key:
            existing = order_for_key(key)
            if existing is not None:
                return existing
        raise
    return order
