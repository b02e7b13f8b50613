"""The case type `hotline.order` (12345 work order) on the case engine (docs/cases.md).

受理 → 派单 → 签收 → 办理 → 办结 (reply) → 回访 → 归档, with 退单 (a task returned with a
reason code) → the center's review → 改派; 延期 approved by the center; 督办; 并单;
dissatisfaction → rework once (the engine's `reopen_on_dissatisfied`).

The 12345 center is the case's lead department (it dispatches, reviews returns and
reassigns); the handling departments get one SIGN task (with a working-hours clock)
and one HANDLE task each at dispatch (the SIGN tasks by services.order_dispatch, with the
rule's signing limit). Signing joins the SIGN group (→ handling); the
handle tasks' ALL-join is the reply (→ replied, a final state, so the call-back can
rate it). The order's deadline is the case clock `deadline`, started at intake in the unit
of its rule, paused while a 退单 awaits the center's review, restarted in full on rework.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from digitalcity.cases.choices import ClockUnit, JoinRule, TaskKind
from digitalcity.cases.declare import (
    CaseType,
    ClockSpec,
    State,
    TaskSpec,
    Transition,
    register,
)

from .choices import OrderState as S

__all__ = ["CENTER_ROLES", "ORDER_TYPE", "ORDER_TYPE_CODE", "register_order_type"]

ORDER_TYPE_CODE = "hotline.order"
#: Center staff who take the center's transitions (agents are `window`, dispatchers `clerk`).
CENTER_ROLES = ("window", "clerk", "head")

#: The order's clock counts in the unit its deadline rule is stated in: intake passes the
#: rule's amount and unit to `case_open(clock_limits=…, clock_units=…)` — natural hours for
#: 特急/紧急 (2 h, 24 h), working days otherwise (7, 15). The declared unit and limit are the
#: general rule's. `prompt_before` and `red_after` are read in the chosen unit: a prompt one
#: hour (or working day) before the due moment, the red card one after it (ADR 0015).
DEADLINE = ClockSpec(
    "deadline",
    _("办理时限"),
    unit=ClockUnit.WORKDAYS,
    limit=7,
    prompt_before=1,
    red_after=1,
)
SIGN_CLOCK = ClockSpec(
    "sign", _("签收时限"), unit=ClockUnit.WORKHOURS, limit=2, prompt_before=0, extendable=False
)

ORDER_TYPE = CaseType(
    code=ORDER_TYPE_CODE,
    prefix="GD",
    name=_("12345工单"),
    states=[
        State(S.RECEIVED, S.RECEIVED.label, initial=True),
        State(S.DISPATCHED, S.DISPATCHED.label),
        State(S.HANDLING, S.HANDLING.label),
        # While the center reviews a 退单 no department holds the order: its clock pauses.
        State(S.RETURNED, S.RETURNED.label, pauses=("deadline",)),
        State(S.REPLIED, S.REPLIED.label, final=True),
        State(S.REWORK, S.REWORK.label),
        State(S.ANSWERED, S.ANSWERED.label, final=True),
        State(S.MERGED, S.MERGED.label, final=True),
        State(S.ARCHIVED, S.ARCHIVED.label, final=True),
    ],
    transitions=[
        Transition(
            "dispatch",
            _("派单"),
            source=(S.RECEIVED, S.REWORK),
            target=S.DISPATCHED,
            roles=CENTER_ROLES,
            lead_only=True,
            public=True,
            creates=("handle",),
        ),
        Transition("signed", _("签收"), source=(S.DISPATCHED,), target=S.HANDLING, system=True),
        Transition(
            "reply", _("办结"), source=(S.HANDLING,), target=S.REPLIED, system=True, public=True
        ),
        Transition(
            "returned", _("退单"), source=(S.DISPATCHED, S.HANDLING), target=S.RETURNED, system=True
        ),
        Transition(
            "redispatch",
            _("改派"),
            source=(S.RETURNED,),
            target=S.DISPATCHED,
            roles=CENTER_ROLES,
            lead_only=True,
            public=True,
        ),
        Transition(
            "resume",
            _("驳回退单"),
            source=(S.RETURNED,),
            target=S.HANDLING,
            roles=CENTER_ROLES,
            lead_only=True,
        ),
        Transition(
            "answer",
            _("直接答复"),
            source=(S.RECEIVED,),
            target=S.ANSWERED,
            roles=CENTER_ROLES,
            lead_only=True,
            requires=("reply",),
            public=True,
        ),
        Transition(
            "merge",
            _("并单"),
            source=(S.RECEIVED,),
            target=S.MERGED,
            roles=CENTER_ROLES,
            lead_only=True,
            requires=("into",),
            public=True,
        ),
        Transition(
            "archive",
            _("归档"),
            source=(S.REPLIED, S.ANSWERED),
            target=S.ARCHIVED,
            roles=CENTER_ROLES,
            lead_only=True,
        ),
        Transition(
            "rework",
            _("不满意重办"),
            source=(S.REPLIED,),
            target=S.REWORK,
            system=True,
            public=True,
            starts=("deadline",),
        ),
    ],
    clocks=[DEADLINE],
    tasks=[
        TaskSpec(
            "sign",
            _("签收"),
            kind=TaskKind.SIGN,
            join=JoinRule.ALL,
            clock=SIGN_CLOCK,
            on_join="signed",
            on_return="returned",
        ),
        TaskSpec("handle", _("办理"), join=JoinRule.ALL, on_join="reply", on_return="returned"),
    ],
    allow_anonymous=True,
    rating=True,
    starts_on_open=("deadline",),
    reopen_on_dissatisfied="rework",
    reopen_limit=1,
    rating_link_days=7,
    # A GD number is a reference, not a statutory register number: a sequence on
    # PostgreSQL, so intakes do not queue on a locked counter row (decision 0011).
    gap_free_numbers=False,
)


def register_order_type() -> None:
    register(ORDER_TYPE)
