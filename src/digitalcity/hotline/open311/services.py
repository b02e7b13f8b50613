"""Open311 GeoReport v2: calling systems, submissions, deferred tokens, and the reads.

Every POST is one `Open311Submission` row (which system, when, which order): it is what
the per-system rate limit counts, what `GET tokens/{token}` answers from, and, for a
system set to *deferred* creation, the queue the worker (`hotline.open311_tokens`) turns
into orders. The order itself is made by the hotline's one intake service
(`order_intake`), which also holds the per-number flood limit and the idempotency key.

Errors are `Open311Error(status, description)`: 400 bad input, 403 no or bad API key,
404 unknown service code / request / token / jurisdiction, 429 too many submissions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from digitalcity.cases.choices import CaseChannel
from digitalcity.core.rows import Table, scalar_rows

from ..choices import OrderState, RequestType, Urgency
from ..models import Category, Open311Client, Open311Submission, WorkOrder
from ..models.knowledge import hash_api_key
from ..services import IntakeThrottled, order_intake
from ..status import OPEN311_CLOSED, order_status
from .formats import w3c

__all__ = [
    "Open311Error",
    "attributes",
    "client_for_key",
    "issue_client",
    "process_pending",
    "request_detail",
    "request_list",
    "service_definition",
    "services_list",
    "submit",
    "token_lookup",
]

logger = logging.getLogger("digitalcity.hotline.open311")

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200
SPAN_DAYS = 90  # GeoReport v2: a date range may not span more than 90 days
KEY_FIELD_MAX = 200


SUBMISSIONS = Table(Open311Submission)


class Open311Error(Exception):
    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


# ---------------------------------------------------------------------------- calling systems


def issue_client(
    *,
    name: str,
    jurisdiction_id: str = "",
    contact: str = "",
    deferred: bool = False,
    rate_per_minute: int = 600,
) -> tuple[Open311Client, str]:
    """A new calling system and its API key (returned once; only its hash is stored)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("调用系统名称不能为空")})
    key = "o311_" + secrets.token_urlsafe(30)
    client = Open311Client.objects.create(
        name=name,
        key_prefix=key[:8],
        key_hash=hash_api_key(key),
        jurisdiction_id=jurisdiction_id,
        contact=contact,
        deferred=deferred,
        rate_per_minute=rate_per_minute,
    )
    return client, key


def rotate_key(*, client: Open311Client) -> str:
    """A new key for `client`; the old one stops working at once."""
    key = "o311_" + secrets.token_urlsafe(30)
    client.key_prefix, client.key_hash = key[:8], hash_api_key(key)
    client.save(update_fields=["key_prefix", "key_hash", "updated_at"])
    return key


#: How long a process trusts a looked-up API key (seconds): a deactivated or rotated
#: key stops working in every process within this time.
KEY_CACHE_SECONDS = 30


def client_for_key(api_key: str | None) -> Open311Client:
    """The active calling system of `api_key` (403 otherwise). Looked up once per key and
    process every KEY_CACHE_SECONDS: the hot path of every POST."""
    if not api_key:
        raise Open311Error(403, _("缺少 api_key：提交诉求须使用本中心发放的接口密钥"))
    digest = hash_api_key(api_key.strip())
    cache_key = f"open311:client:{digest}"
    client = cache.get(cache_key)
    if client is None:
        client = Open311Client.objects.filter(key_hash=digest, is_active=True).first()
        if client is None:
            raise Open311Error(403, _("api_key 无效或已停用"))
        cache.set(cache_key, client, KEY_CACHE_SECONDS)
    return client


def check_jurisdiction(jurisdiction_id: str | None) -> None:
    ours = str(getattr(settings, "DC_OPEN311_JURISDICTION", "") or "")
    if jurisdiction_id and ours and jurisdiction_id != ours:
        raise Open311Error(404, _("jurisdiction_id“%(j)s”不存在") % {"j": jurisdiction_id})


# ---------------------------------------------------------------------------- services


def _yes_no() -> list[dict[str, str]]:
    return [{"key": "true", "name": _("是")}, {"key": "false", "name": _("否")}]


def attributes() -> list[dict[str, Any]]:
    """The attributes every service takes (all optional, so a generic client can post)."""
    return [
        {
            "variable": True,
            "code": "request_type",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("默认：求助"),
            "order": 1,
            "description": _("诉求类型"),
            "values": [{"key": v, "name": str(label)} for v, label in RequestType.choices],
        },
        {
            "variable": True,
            "code": "urgency",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("默认：一般"),
            "order": 2,
            "description": _("紧急程度"),
            "values": [{"key": v, "name": str(label)} for v, label in Urgency.choices],
        },
        {
            "variable": True,
            "code": "confidential",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("诉求人要求保密时选“是”"),
            "order": 3,
            "description": _("为诉求人保密"),
            "values": _yes_no(),
        },
        {
            "variable": True,
            "code": "anonymous",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("仅咨询、举报、建议、表扬可匿名"),
            "order": 4,
            "description": _("匿名诉求"),
            "values": _yes_no(),
        },
        {
            "variable": True,
            "code": "division",
            "datatype": "string",
            "required": False,
            "datatype_description": _("GB/T 2260 行政区划代码，如 140502"),
            "order": 5,
            "description": _("事发地行政区划"),
        },
    ]


ATTRIBUTE_CODES = ("request_type", "urgency", "confidential", "anonymous", "division")


def _leaves() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True, code__regex=r"^[0-9]{6}$").order_by("code")


def services_list() -> list[dict[str, Any]]:
    names = dict(Category.objects.filter(is_active=True).values_list("code", "name"))
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": " / ".join(
                names.get(code, "") for code in (c.code[:2], c.code[:4]) if names.get(code)
            ),
            "metadata": True,
            "type": "realtime",
            "keywords": c.keywords.replace(" ", ","),
            "group": names.get(c.code[:2], ""),
        }
        for c in _leaves()
    ]


def _service(code: str) -> Category:
    category = _leaves().filter(code=code).first()
    if category is None:
        raise Open311Error(404, _("service_code“%(c)s”不存在") % {"c": code[:40]})
    return category


def service_definition(code: str) -> dict[str, Any]:
    category = _service(code)
    return {"service_code": category.code, "attributes": attributes()}


# ---------------------------------------------------------------------------- submissions


def _first(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def parse_attributes(form: Mapping[str, Any]) -> dict[str, Any]:
    """attribute[code]=v and attribute[code][]=v1&attribute[code][]=v2 → {code: v | [..]}."""
    out: dict[str, Any] = {}
    for key in form:
        if not key.startswith("attribute[") or not key.endswith("]"):
            continue
        inner = key[len("attribute[") : -1]
        getlist = getattr(form, "getlist", None)
        values = getlist(key) if getlist else form[key]
        values = values if isinstance(values, list) else [values]
        if inner.endswith("[]"):
            out[inner[:-3] if inner.endswith("][]") else inner[:-2]] = [str(v) for v in values]
        else:
            out[inner] = str(values[-1]) if values else ""
    return out


def _flag(value: Any, code: str) -> bool:
    text = str(value or "").strip().lower()
    if text in ("", "false", "0", "no", "否"):
        return False
    if text in ("true", "1", "yes", "是"):
        return True
    raise Open311Error(400, _("attribute[%(c)s] 只能是 true 或 false") % {"c": code})


@dataclass(frozen=True)
class Intake:
    """A POST's form turned into order_intake's arguments (checked as far as it can be
    without the database, so a deferred submission fails at once when it can)."""

    kwargs: dict[str, Any]

    @classmethod
    def from_form(cls, form: Mapping[str, Any]) -> Intake:
        code = _first(form, "service_code")
        if not code:
            raise Open311Error(400, _("缺少 service_code"))
        lat, lon = _first(form, "lat"), _first(form, "long")
        address = _first(form, "address_string")
        address_id = _first(form, "address_id")
        if not (lat and lon) and not address and not address_id:
            raise Open311Error(
                400, _("须提供位置：lat 和 long，或 address_string（或 address_id）")
            )
        if bool(lat) != bool(lon):
            raise Open311Error(400, _("lat 与 long 须同时提供"))
        attrs = parse_attributes(form)
        unknown = sorted(set(attrs) - set(ATTRIBUTE_CODES))
        if unknown:
            raise Open311Error(
                400, _("未知的属性：%(a)s") % {"a": "、".join(f"attribute[{u}]" for u in unknown)}
            )
        request_type = attrs.get("request_type") or RequestType.HELP
        urgency = attrs.get("urgency") or Urgency.NORMAL
        extra = {
            k: _first(form, k)
            for k in ("email", "media_url", "device_id", "account_id", "address_id")
            if _first(form, k)
        }
        if any(len(v) > KEY_FIELD_MAX for v in extra.values()):
            raise Open311Error(
                400, _("email、media_url 等字段最多 %(n)d 个字符") % {"n": KEY_FIELD_MAX}
            )
        name = (_first(form, "last_name") + _first(form, "first_name")).strip()
        return cls(
            kwargs={
                "channel": CaseChannel.OPEN311,
                "request_type": request_type,
                "urgency": urgency,
                "category": code,
                "description": _first(form, "description"),
                "caller_name": name,
                "caller_phone": _first(form, "phone"),
                "address": address,
                "division": attrs.get("division") or None,
                "lat": lat or None,
                "lon": lon or None,
                "is_confidential": _flag(attrs.get("confidential"), "confidential"),
                "anonymous": _flag(attrs.get("anonymous"), "anonymous"),
                "attributes": extra,
            }
        )


def _intake_key(client: Open311Client, key: str) -> str:
    """The calling system's key, made unique across systems and ≤ 64 characters."""
    key = key.strip()
    if len(key) > KEY_FIELD_MAX:
        raise Open311Error(400, _("幂等键最多 %(n)d 个字符") % {"n": KEY_FIELD_MAX})
    plain = f"o311:{client.pk}:{key}"
    if len(plain) <= 64:
        return plain
    return f"o311:{client.pk}:#" + hashlib.sha256(key.encode()).hexdigest()[:48]


def _validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "；".join(
            f"{field}：{message}"
            for field, messages in exc.message_dict.items()
            for message in messages
        )
    return "；".join(exc.messages)


def _check_rate(client: Open311Client, now: dt.datetime) -> None:
    if client.rate_per_minute <= 0:
        return
    # Counting at most `rate` rows keeps the check cheap however busy the system is;
    # plain SQL (core.rows): every POST asks it.
    ((recent,),) = scalar_rows(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {SUBMISSIONS.name} WHERE"  # noqa: S608 - fixed texts
        f" {SUBMISSIONS.column('client')} = %s AND {SUBMISSIONS.column('created_at')} >= %s"
        " LIMIT %s) AS recent",
        [
            client.pk,
            connection.ops.adapt_datetimefield_value(now - dt.timedelta(seconds=60)),
            client.rate_per_minute,
        ],
    )
    if recent >= client.rate_per_minute:
        raise Open311Error(
            429,
            _("调用系统“%(n)s”每分钟最多提交 %(r)d 件，请稍后再试")
            % {"n": client.name, "r": client.rate_per_minute},
            retry_after=60,
        )


@dataclass(frozen=True)
class Submitted:
    submission: Open311Submission
    order: WorkOrder | None
    created: bool  # False: an earlier submission with the same idempotency key


def submit(
    *, client: Open311Client, form: Mapping[str, Any], idempotency_key: str = ""
) -> Submitted:
    """One POST requests: an order now, or a token for the worker (deferred systems).

    The hot path of the benchmark (bench/hotline_open311.py): one transaction, the
    intake's, with the submission row written after the order inside it
    (`order_intake(on_created=…)`) — no outer transaction and so no savepoint around the
    intake. A repeated idempotency key is found by the intake's own look-up of the key;
    the first submission is read only then."""
    intake = Intake.from_form(form)
    key = _intake_key(client, idempotency_key) if idempotency_key else ""
    now = timezone.now()
    if key and client.deferred:
        # A deferred key may wait as a submission with no order yet.
        repeat = _repeat(client, key)
        if repeat is not None:
            return repeat
    _check_rate(client, now)
    token = secrets.token_hex(16)
    # Without a key of the system's own, the token makes one: every order has a key, by
    # which its submission finds it.
    intake_key = key or f"o311:{client.pk}:t:{token}"
    if client.deferred:
        # Refuse what can be refused now; the rest is checked by the worker's intake.
        _service(intake.kwargs["category"])
        submission = Open311Submission.objects.create(
            token=token,
            client=client,
            created_at=now,
            intake_key=intake_key,
            payload=intake.kwargs,
        )
        return Submitted(submission=submission, order=None, created=True)
    written: list[Open311Submission] = []

    def record(order: WorkOrder) -> None:
        submission = Open311Submission(
            token=token,
            client=client,
            created_at=now,
            intake_key=intake_key,
            processed_at=now,
            order=order,
        )
        SUBMISSIONS.insert([submission])  # not audited, no receivers (core.rows)
        written.append(submission)

    try:
        order = order_intake(**intake.kwargs, idempotency_key=intake_key, on_created=record)
    except IntakeThrottled as exc:
        raise Open311Error(429, _validation_message(exc), retry_after=exc.retry_after) from None
    except ValidationError as exc:
        raise Open311Error(400, _validation_message(exc)) from None
    if written:
        return Submitted(submission=written[0], order=order, created=True)
    # The key was used before (or by a concurrent submission that won the insert): the
    # intake returned that earlier order; answer with its first submission.
    repeat = _repeat(client, intake_key)
    if repeat is not None:
        return Submitted(submission=repeat.submission, order=order, created=False)
    # An order of this key with no submission of this system (none is made so today):
    # this POST's submission records the answer.
    record(order)
    return Submitted(submission=written[0], order=order, created=False)


def _repeat(client: Open311Client, key: str) -> Submitted | None:
    """The first submission of `key` by this system, if there was one.

    Asked by deferred systems' POSTs and on repeats: one equality look-up on the
    `intake_key` index (the key already names the system), no join and no ORDER BY …
    LIMIT, which PostgreSQL without fresh statistics planned as a scan of all the
    system's submissions. The rows are read only when there is a repeat."""
    found = [
        pk
        for pk, client_id in Open311Submission.objects.filter(intake_key=key).values_list(
            "pk", "client_id"
        )
        if client_id == client.pk
    ]
    if not found:
        return None
    first = Open311Submission.objects.select_related("order__case").get(pk=min(found))
    return Submitted(submission=first, order=_order_of(first), created=False)


def _order_of(submission: Open311Submission) -> WorkOrder | None:
    if submission.order_id:
        return submission.order
    if submission.processed_at is None or not submission.intake_key:
        return None
    return (
        WorkOrder.objects.filter(idempotency_key=submission.intake_key)
        .select_related("case")
        .first()
    )


def process_pending(limit: int = 200) -> int:
    """The worker job: make the orders of deferred submissions, oldest first.

    Each submission is claimed with a conditional UPDATE (processed_at IS NULL) inside
    its own transaction with the intake, so two workers never make it twice and a crash
    leaves it pending for the next run."""
    done = 0
    ids = list(
        Open311Submission.objects.filter(processed_at__isnull=True)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        with transaction.atomic():
            claimed = Open311Submission.objects.filter(pk=pk, processed_at__isnull=True).update(
                processed_at=timezone.now()
            )
            if not claimed:
                continue
            submission = Open311Submission.objects.get(pk=pk)
            try:
                with transaction.atomic():
                    order = order_intake(
                        **submission.payload, idempotency_key=submission.intake_key or None
                    )
            except ValidationError as exc:
                submission.error = _validation_message(exc)
                submission.save(update_fields=["error"])
            else:
                submission.order = order
                submission.save(update_fields=["order"])
            done += 1
    return done


# ---------------------------------------------------------------------------- reads


def _public_orders() -> QuerySet[WorkOrder]:
    """What GET requests shows: orders that came in by Open311 and are not confidential
    (numbers are sequential, so other channels' orders are not exposed by guessing)."""
    return (
        WorkOrder.objects.filter(channel=CaseChannel.OPEN311, is_confidential=False)
        .select_related("case", "category", "lead_department", "merged_into__case")
        .prefetch_related("case__clocks")
    )


def serialize(order: WorkOrder) -> dict[str, Any]:
    status = order_status(order)
    updated = max(order.updated_at, order.case.updated_at)
    return {
        "service_request_id": order.case.number,
        "status": status.open311_status,
        "status_notes": status.notes,
        "service_name": order.category.name,
        "service_code": order.category.code,
        "description": order.description,
        "agency_responsible": status.department,
        "service_notice": "",
        "requested_datetime": w3c(order.created_at),
        "updated_datetime": w3c(updated),
        "expected_datetime": w3c(status.expected_at),
        "address": order.address,
        "address_id": "",
        "zipcode": "",
        "lat": order.lat,
        "long": order.lon,
        "media_url": str((order.attributes or {}).get("media_url", "")),
    }


def _dates(params: Mapping[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    def parse(name: str) -> dt.datetime | None:
        raw = _first(params, name)
        if not raw:
            return None
        value = parse_datetime(raw.replace(" ", "+"))
        if value is None:
            raise Open311Error(400, _("%(f)s“%(v)s”不是 W3C 日期时间") % {"f": name, "v": raw[:40]})
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value

    start, end = parse("start_date"), parse("end_date")
    span = dt.timedelta(days=SPAN_DAYS)
    if start and end:
        if end < start:
            raise Open311Error(400, _("end_date 不能早于 start_date"))
        if end - start > span:
            raise Open311Error(400, _("start_date 至 end_date 不能超过 90 天"))
        return start, end
    if start:
        return start, start + span
    end = end or timezone.now()
    return end - span, end


def _page(params: Mapping[str, Any]) -> tuple[int, int]:
    try:
        page = int(_first(params, "page") or 1)
        size = int(_first(params, "page_size") or PAGE_SIZE_DEFAULT)
    except ValueError:
        raise Open311Error(400, _("page 与 page_size 须为正整数")) from None
    if page < 1 or size < 1:
        raise Open311Error(400, _("page 与 page_size 须为正整数"))
    return page, min(size, PAGE_SIZE_MAX)


def _split(params: Mapping[str, Any], name: str) -> list[str]:
    return [v.strip() for v in _first(params, name).split(",") if v.strip()]


CLOSED_STATES = sorted(str(s) for s in OPEN311_CLOSED)
OPEN_STATES = sorted(str(s) for s in OrderState if s not in OPEN311_CLOSED)


def request_list(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """GET requests with the spec's filters and the pagination extension (page, page_size)."""
    qs = _public_orders()
    ids = _split(params, "service_request_id")
    if ids:
        # The spec: a list of ids overrides every other filter.
        qs = qs.filter(case__number__in=ids[:PAGE_SIZE_MAX])
        return [serialize(o) for o in qs.order_by("-created_at", "-pk")]
    codes = _split(params, "service_code")
    if codes:
        qs = qs.filter(category__code__in=codes)
    statuses = set(_split(params, "status"))
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status 只能是 open 或 closed"))
    if statuses == {"open"}:
        qs = qs.filter(case__state__in=OPEN_STATES)
    elif statuses == {"closed"}:
        qs = qs.filter(case__state__in=CLOSED_STATES)
    start, end = _dates(params)
    qs = qs.filter(created_at__gte=start, created_at__lte=end)
    page, size = _page(params)
    rows = qs.order_by("-created_at", "-pk")[(page - 1) * size : page * size]
    return [serialize(o) for o in rows]


def request_detail(number: str) -> dict[str, Any]:
    order = _public_orders().filter(case__number=number).first()
    if order is None:
        raise Open311Error(404, _("service_request_id“%(n)s”不存在") % {"n": number[:40]})
    return serialize(order)


def token_lookup(token: str) -> dict[str, Any]:
    submission = Open311Submission.objects.filter(token=token).select_related("order__case").first()
    if submission is None:
        raise Open311Error(404, _("token“%(t)s”不存在") % {"t": token[:40]})
    order = _order_of(submission)
    item: dict[str, Any] = {
        "service_request_id": order.case.number if order is not None else None,
        "token": submission.token,
    }
    if submission.error:
        item["status_notes"] = _("未受理：%(e)s") % {"e": submission.error}
    return item
