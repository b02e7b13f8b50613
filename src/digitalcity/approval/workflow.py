"""The case type `approval.licence`: a licensing application on the case engine.

Clocks (all working days, docs/approval.md "Time limits"):

* `acceptance` — Art. 32: a correction notice within 5 days of receipt, else the
  application counts as accepted. Runs from intake; stops at any acceptance decision;
  restarts (a full 5 days) when a correction before acceptance is submitted.
* `legal` — Art. 42: 20 days (one department) or 45 (joint), set per case from the item;
  extendable once (10 or 15 days, the head approves, the applicant is told). Drives
  supervision. Starts at acceptance, stops at the decision.
* `promised` — the item's promised limit, shown to the applicant; prompt one day before.
* `delivery` — Art. 44: the licence delivered within 10 days of the decision.
* `stage` — each department's review task.
* `preliminary` — Art. 43: 20 days for the lower-level (county) department's preliminary
  review of an item that has one (`Item.preliminary_department`); from acceptance to its
  opinion. The legal and promised clocks (the deciding level's own) start after it.

States `correction` and the Art. 45 states (hearing, inspection, testing, expert review,
public notice) pause every clock. Business transitions are guarded by the hook point
"approval" (see `guard`): they carry side effects (materials, licences) that only
approval.services performs, so the generic case page cannot take them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digitalcity.cases import hooks
from digitalcity.cases.choices import ClockUnit, JoinRule, TaskKind, TaskOutcome
from digitalcity.cases.declare import (
    ALL_CLOCKS,
    CaseType,
    ClockSpec,
    State,
    TaskSpec,
    Transition,
    register,
)

from .choices import PauseKind

__all__ = ["GUARD_KEY", "TYPE_CODE", "register_hooks", "register_type"]

TYPE_CODE = "approval.licence"
#: The input key approval.services sets on every guarded transition.
GUARD_KEY = "approval_service"
#: The hook point other services (credit) register their acceptance checks at.
ACCEPT_POINT = "accept"
_GUARD_POINT = "approval"

_STAFF = ("window", "clerk", "head")
_DECIDERS = ("clerk", "head")
PAUSE_STATES = tuple(kind.value for kind in PauseKind)
OPEN_STATES = (
    "submitted",
    "pre_correction",
    "preliminary",
    "reviewing",
    "correction",
    "deciding",
    *PAUSE_STATES,
)


def guard(
    *, case: Any, transition: Any, actor: Any, input: dict[str, Any]
) -> ValidationError | None:
    """Refuse a business transition not taken through approval.services."""
    if input.get(GUARD_KEY) is not True:
        return ValidationError(
            _("“%(t)s”须在审批工作台办理（需同时处理材料、证照等）") % {"t": transition.label}
        )
    return None


def _t(code: str, label: Any, source: tuple[str, ...], target: str, **kw: Any) -> Transition:
    checks = (*kw.pop("checks", ()), _GUARD_POINT)
    return Transition(code, label, source=source, target=target, checks=checks, **kw)


def build_type() -> CaseType:
    pauses = [State(kind.value, kind.label, pauses=(ALL_CLOCKS,)) for kind in PauseKind]
    return CaseType(
        code=TYPE_CODE,
        prefix="SP",
        name=gettext_lazy("行政许可"),
        states=[
            State("submitted", gettext_lazy("待受理"), initial=True),
            State("pre_correction", gettext_lazy("待补正（受理前）")),
            State("preliminary", gettext_lazy("下级初审")),
            State("reviewing", gettext_lazy("审查中")),
            State("correction", gettext_lazy("补正中"), pauses=(ALL_CLOCKS,)),
            *pauses,
            State("deciding", gettext_lazy("待决定")),
            State("granted", gettext_lazy("准予许可，待送达")),
            State("delivered", gettext_lazy("已办结"), final=True),
            State("refused", gettext_lazy("不予许可"), final=True),
            State("rejected", gettext_lazy("不予受理"), final=True),
            State("withdrawn", gettext_lazy("已撤回"), final=True),
        ],
        transitions=[
            _t(
                "accept",
                gettext_lazy("受理"),
                ("submitted",),
                "reviewing",
                roles=_STAFF,
                lead_only=True,
                requires=("opinion",),
                checks=(ACCEPT_POINT,),
                public=True,
                starts=("legal", "promised"),
                stops=("acceptance",),
            ),
            # Art. 32: after 5 days without a correction notice, accepted from receipt.
            # Fired by the job approval.deadlines as the system (never by a person); the
            # review tasks come with it (input "departments": the lead and co-departments).
            _t(
                "deemed_accept",
                gettext_lazy("视为受理"),
                ("submitted",),
                "reviewing",
                system=True,
                checks=(ACCEPT_POINT,),
                public=True,
                starts=("legal", "promised"),
                stops=("acceptance",),
                creates=("review",),
            ),
            # Art. 43: items with a lower-level preliminary review go there first; the
            # county department's task comes with it (input "departments").
            _t(
                "accept_preliminary",
                gettext_lazy("受理（转下级初审）"),
                ("submitted",),
                "preliminary",
                roles=_STAFF,
                lead_only=True,
                requires=("opinion",),
                checks=(ACCEPT_POINT,),
                public=True,
                starts=("preliminary",),
                stops=("acceptance",),
                creates=("preliminary_review",),
            ),
            _t(
                "deemed_accept_preliminary",
                gettext_lazy("视为受理（转下级初审）"),
                ("submitted",),
                "preliminary",
                system=True,
                checks=(ACCEPT_POINT,),
                public=True,
                starts=("preliminary",),
                stops=("acceptance",),
                creates=("preliminary_review",),
            ),
            # The county department's opinion is in: the deciding level's review begins
            # (its own legal and promised limits start now) with the review tasks.
            _t(
                "preliminary_done",
                gettext_lazy("初审完毕，报送审查"),
                ("preliminary",),
                "reviewing",
                roles=_STAFF,
                requires=("opinion",),
                public=True,
                starts=("legal", "promised"),
                stops=("preliminary",),
                creates=("review",),
            ),
            _t(
                "ask_correction_pre",
                gettext_lazy("一次性告知补正"),
                ("submitted",),
                "pre_correction",
                roles=_STAFF,
                lead_only=True,
                requires=("opinion",),
                public=True,
                stops=("acceptance",),
            ),
            _t(
                "correct_pre",
                gettext_lazy("提交补正材料"),
                ("pre_correction",),
                "submitted",
                roles=("applicant", "window"),
                public=True,
                starts=("acceptance",),
            ),
            _t(
                "reject",
                gettext_lazy("不予受理"),
                ("submitted", "pre_correction"),
                "rejected",
                roles=_STAFF,
                lead_only=True,
                requires=("opinion", "legal_basis"),
                public=True,
            ),
            _t(
                "ask_correction",
                gettext_lazy("要求补正"),
                ("reviewing",),
                "correction",
                roles=_STAFF,
                requires=("opinion",),
                public=True,
            ),
            _t(
                "correct",
                gettext_lazy("提交补正材料"),
                ("correction",),
                "reviewing",
                roles=("applicant", "window"),
                public=True,
            ),
            *(
                _t(
                    f"pause_{kind.value}",
                    kind.label,
                    ("reviewing", "deciding"),
                    kind.value,
                    roles=_DECIDERS,
                    requires=("opinion",),
                    public=True,
                )
                for kind in PauseKind
            ),
            _t(
                "resume_review",
                gettext_lazy("恢复审查"),
                PAUSE_STATES,
                "reviewing",
                roles=_DECIDERS,
                requires=("opinion",),
                public=True,
            ),
            _t(
                "resume_decide",
                gettext_lazy("恢复决定"),
                PAUSE_STATES,
                "deciding",
                roles=_DECIDERS,
                requires=("opinion",),
                public=True,
            ),
            Transition(
                "reviewed",
                gettext_lazy("审查完毕"),
                source=("reviewing",),
                target="deciding",
                system=True,
            ),
            _t(
                "grant",
                gettext_lazy("准予许可"),
                ("deciding",),
                "granted",
                roles=_DECIDERS,
                lead_only=True,
                requires=("opinion",),
                public=True,
                stops=("legal", "promised"),
                starts=("delivery",),
            ),
            _t(
                "refuse",
                gettext_lazy("不予许可"),
                ("deciding",),
                "refused",
                roles=_DECIDERS,
                lead_only=True,
                requires=("opinion", "legal_basis"),
                public=True,
            ),
            _t(
                "deliver",
                gettext_lazy("送达证照"),
                ("granted",),
                "delivered",
                roles=("applicant", "window", "clerk", "head"),
                public=True,
            ),
            # Art. 50: a renewal not decided before the licence expires is deemed granted.
            _t(
                "deemed_renew",
                gettext_lazy("视为准予延续"),
                OPEN_STATES,
                "delivered",
                system=True,
                public=True,
            ),
            _t(
                "withdraw",
                gettext_lazy("撤回申请"),
                ("submitted", "pre_correction", "correction"),
                "withdrawn",
                roles=("applicant",),
                public=True,
            ),
        ],
        clocks=[
            ClockSpec(
                "acceptance",
                gettext_lazy("受理时限"),
                unit=ClockUnit.WORKDAYS,
                limit=5,
                prompt_before=1,
                extendable=False,
            ),
            ClockSpec(
                "legal",
                gettext_lazy("法定时限"),
                unit=ClockUnit.WORKDAYS,
                limit=20,
                prompt_before=1,
                red_after=5,
                max_extensions=1,
            ),
            ClockSpec(
                "promised",
                gettext_lazy("承诺时限"),
                unit=ClockUnit.WORKDAYS,
                limit=20,
                prompt_before=1,
                extendable=False,
            ),
            ClockSpec(
                "preliminary",
                gettext_lazy("初审时限"),
                unit=ClockUnit.WORKDAYS,
                limit=20,
                prompt_before=1,
                red_after=5,
                extendable=False,
            ),
            ClockSpec(
                "delivery",
                gettext_lazy("送达时限"),
                unit=ClockUnit.WORKDAYS,
                limit=10,
                prompt_before=1,
                red_after=5,
                extendable=False,
            ),
        ],
        starts_on_open=("acceptance",),
        tasks=[
            TaskSpec(
                "preliminary_review",
                gettext_lazy("下级初审"),
                kind=TaskKind.REVIEW,
                join=JoinRule.ALL,
                outcomes=(TaskOutcome.AGREE, TaskOutcome.DISAGREE),
            ),
            TaskSpec(
                "review",
                gettext_lazy("部门审查"),
                kind=TaskKind.REVIEW,
                join=JoinRule.ALL,
                clock=ClockSpec(
                    "stage",
                    gettext_lazy("审查环节时限"),
                    limit=5,
                    prompt_before=1,
                    red_after=3,
                    extendable=False,
                ),
                on_join="reviewed",
                outcomes=(TaskOutcome.AGREE, TaskOutcome.DISAGREE),
            ),
        ],
        rating=True,
    )


def register_hooks() -> None:
    """The guard on the business transitions (idempotent)."""
    hooks.register_check(TYPE_CODE, _GUARD_POINT, guard)


def register_type() -> None:
    register(build_type())
    register_hooks()
