"""The worker's clock sweep: prompts, yellow and red cards (STYLE.md 7).

Registered as the periodic job "cases.clocks". Each batch is one transaction:

1. Read up to ``DC_CASES_SWEEP_BATCH`` clock ids with ``next_signal_at <= now``, soonest
   first (a partial index holds only clocks with something left to signal).
2. Claim them with ONE conditional UPDATE: ``… WHERE id IN (…) AND next_signal_at <= now``
   setting the stage reached (red if ``red_at <= now``, else yellow if ``due_at <= now``,
   else prompted), the next moment to watch, and this batch's random token. A row another
   worker claimed first no longer matches (PostgreSQL re-checks the condition after
   waiting for the row lock; SQLite runs one writer at a time), so it is not ours.
3. Read back the rows carrying our token: exactly the ones we won.
4. For those only: Signal rows (unique per clock, kind and due moment), timeline
   events, and one site message per recipient (the handler and their department's
   head) — all in the same transaction, so a kill -9 at any point either keeps all of
   it or none, and the next sweep redoes what was lost.

A worker that was down past several moments signals only the highest stage reached:
a prompt after the deadline would be noise.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import BooleanField, CharField, DateTimeField, F, Value, When
from django.db.models import Case as When_
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.core.models import Membership, MembershipRole, NotificationChannel
from digitalcity.core.notifications.services import notify
from digitalcity.identity.models import User

from .choices import ACTIVE_TASK_STATES, ClockState, EventKind, SignalKind, SignalStage
from .declare import get_type
from .models import Clock, Event, Signal, Task

__all__ = ["sweep", "sweep_batch"]

_STAGE_KIND = {
    SignalStage.PROMPTED: SignalKind.PROMPT,
    SignalStage.YELLOW: SignalKind.YELLOW,
    SignalStage.RED: SignalKind.RED,
}
_HANDLER_ROLES = (MembershipRole.CLERK, MembershipRole.WINDOW)


def sweep(*, now: datetime | None = None, batch: int | None = None) -> int:
    """Signal every clock due by `now` (default: the current time); returns how many
    signals this call raised. Safe to run in several workers at once."""
    now = now or timezone.now()
    size = batch or settings.DC_CASES_SWEEP_BATCH
    total = 0
    while True:
        selected, claimed = sweep_batch(now=now, size=size)
        total += claimed
        # Claimed rows move their next moment past `now`, so the loop ends.
        if selected < size:
            return total


def sweep_batch(*, now: datetime, size: int) -> tuple[int, int]:
    """One transaction: (clocks selected, clocks claimed and signalled)."""
    with transaction.atomic():
        ids = list(
            Clock.objects.filter(next_signal_at__lte=now)
            .order_by("next_signal_at", "id")
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            return 0, 0
        token = uuid.uuid4().hex
        reached = When_(
            When(red_at__lte=now, then=Value(SignalStage.RED.value)),
            When(due_at__lte=now, then=Value(SignalStage.YELLOW.value)),
            default=Value(SignalStage.PROMPTED.value),
        )
        following = When_(
            When(red_at__lte=now, then=Value(None, output_field=DateTimeField())),
            When(due_at__lte=now, then=F("red_at")),
            default=F("due_at"),
            output_field=DateTimeField(),
        )
        Clock.objects.filter(id__in=ids, next_signal_at__lte=now, state=ClockState.RUNNING).update(
            signal_stage=reached, next_signal_at=following, sweep_token=token
        )
        won: list[dict[str, Any]] = cast(
            list[dict[str, Any]],
            list(
                Clock.objects.filter(id__in=ids, sweep_token=token).values(
                    "id",
                    "case_id",
                    "task_id",
                    "code",
                    "signal_stage",
                    "due_at",
                    "prompt_at",
                    "red_at",
                    "case__type_code",
                    "case__number",
                    "case__department_id",
                    "task__department_id",
                    "task__assignee_id",
                )
            ),
        )
        if won:
            _repeat_yellow_to_red(won)
            _signal(won, now)
        return len(ids), len(won)


def _repeat_rule(type_code: str, clock_code: str) -> bool:
    # A type whose app was removed, or a clock since dropped from its declaration, must
    # not stop every other clock from being signalled: it just gets the plain rule.
    try:
        return get_type(type_code).clock(clock_code).red_on_repeat_yellow
    except (ImproperlyConfigured, KeyError):
        return False


def _repeat_yellow_to_red(rows: list[dict[str, Any]]) -> None:
    """Types that say so turn a second yellow card on the same case into a red one."""
    candidates = [
        row
        for row in rows
        if row["signal_stage"] == SignalStage.YELLOW
        and _repeat_rule(row["case__type_code"], row["code"])
    ]
    if not candidates:
        return
    repeated = set(
        Signal.objects.filter(
            case_id__in={row["case_id"] for row in candidates}, kind=SignalKind.YELLOW
        ).values_list("case_id", flat=True)
    )
    upgrade = [row for row in candidates if row["case_id"] in repeated]
    if upgrade:
        Clock.objects.filter(id__in=[row["id"] for row in upgrade]).update(
            signal_stage=SignalStage.RED, next_signal_at=None
        )
        for row in upgrade:
            row["signal_stage"] = SignalStage.RED


def _timeline(signals: list[Signal], now: datetime) -> None:
    """The signals' timeline events, copied by the database in one INSERT … SELECT: at
    thousands of signals a batch, building Event objects in Python would cost more than
    the rest of the sweep together."""
    columns = [
        "case_id",
        "task_id",
        "actor_label",
        "at",
        "kind",
        "transition",
        "from_state",
        "to_state",
        "reason",
        "data",
        "public",
    ]
    empty = Value("", output_field=CharField())
    source = (
        Signal.objects.filter(pk__in=[signal.pk for signal in signals])
        .order_by("id")
        # Annotations only, created in column order: the SELECT lists them in that order.
        .annotate(
            c_case=F("case_id"),
            c_task=F("clock__task_id"),
            c_actor_label=Value(_("系统"), output_field=CharField()),
            c_at=Value(now, output_field=DateTimeField()),
            c_kind=Value(EventKind.SIGNAL.value, output_field=CharField()),
            c_transition=empty,
            c_from=empty,
            c_to=empty,
            c_reason=empty,
            c_data=JSONObject(clock=F("clock__code"), signal=F("kind"), signal_id=F("id")),
            c_public=Value(False, output_field=BooleanField()),
        )
        .values_list(
            *(
                f"c_{name}"
                for name in (
                    "case",
                    "task",
                    "actor_label",
                    "at",
                    "kind",
                    "transition",
                    "from",
                    "to",
                    "reason",
                    "data",
                    "public",
                )
            )
        )
    )
    select, params = source.query.sql_with_params()
    table = connection.ops.quote_name(Event._meta.db_table)
    names = ", ".join(connection.ops.quote_name(name) for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) {select}", params)


def _signal(rows: list[dict[str, Any]], now: datetime) -> None:
    case_ids = {row["case_id"] for row in rows if row["task_id"] is None}
    handlers: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for case_id, dept, assignee in Task.objects.filter(
        case_id__in=case_ids, state__in=ACTIVE_TASK_STATES
    ).values_list("case_id", "department_id", "assignee_id"):
        handlers[case_id].append((dept, assignee))
    # (department, assignee) pairs responsible for each clock.
    responsible: dict[int, list[tuple[int, int | None]]] = {}
    for row in rows:
        if row["task_id"] is not None:
            responsible[row["id"]] = [(row["task__department_id"], row["task__assignee_id"])]
        else:
            responsible[row["id"]] = handlers.get(row["case_id"]) or [
                (row["case__department_id"], None)
            ]
    departments = {dept for pairs in responsible.values() for dept, _a in pairs}
    staff: dict[int, list[int]] = defaultdict(list)
    heads: dict[int, list[int]] = defaultdict(list)
    for user_id, dept, role in Membership.objects.filter(
        department_id__in=departments, is_active=True, user__is_active=True
    ).values_list("user_id", "department_id", "role"):
        if role == MembershipRole.HEAD:
            heads[dept].append(user_id)
        elif role in _HANDLER_ROLES:
            staff[dept].append(user_id)

    labels = {kind: str(kind.label) for kind in SignalKind}
    signals: list[Signal] = []
    inbox: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        kind = _STAGE_KIND[SignalStage(row["signal_stage"])]
        recipients: list[int] = []
        for dept, person in responsible[row["id"]]:
            people: list[int] = [person] if person is not None else staff[dept]
            for user_id in (*people, *heads[dept]):
                if user_id not in recipients:
                    recipients.append(user_id)
        due_at = row["due_at"]
        signals.append(
            Signal(
                case_id=row["case_id"],
                clock_id=row["id"],
                kind=kind,
                at=now,
                due_at=due_at,
                overdue_by=None if kind == SignalKind.PROMPT else now - due_at,
                department_id=responsible[row["id"]][0][0],
                recipients=recipients,
            )
        )
        for user_id in recipients:
            inbox[user_id].append((row["case__number"], labels[kind]))
    Signal.objects.bulk_create(signals)
    _timeline(signals, now)
    # One message per person per batch, not one per case: a head of a big department
    # would otherwise get thousands at once.
    users = User.objects.in_bulk(list(inbox))
    for user_id, items in inbox.items():
        if user_id not in users:  # deleted since the memberships were read
            continue
        shown = "；".join(f"{number}（{label}）" for number, label in items[:5])
        more = _("等 %(n)d 件") % {"n": len(items)} if len(items) > 5 else ""
        notify(
            channel=NotificationChannel.SITE,
            recipient=users[user_id],
            subject=_("办件时限监察"),
            body=_("以下办件需要关注：%(list)s%(more)s") % {"list": shown, "more": more},
            template="cases/signal",
        )
