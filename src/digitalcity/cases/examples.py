"""The example case type `example.parallel`, for tests, benchmarks and the demo.

apply → accept (starts the 20-working-day legal clock and one review task per involved
department) → the departments review in parallel (join ALL) → decide → closed. While in
correction (补正) every clock of the case is paused (Administrative Licensing Law Art. 32:
the time limit runs from the complete application). Registered from CasesConfig.ready()
when ``settings.DC_CASES_EXAMPLE_TYPES`` is true (the default; a city may switch it off).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .choices import ClockUnit, JoinRule, TaskKind, TaskOutcome
from .declare import ALL_CLOCKS, CaseType, ClockSpec, State, TaskSpec, Transition, register

__all__ = ["EXAMPLE_PARALLEL", "register_examples"]

_STAFF = ("window", "clerk", "head")

EXAMPLE_PARALLEL = CaseType(
    code="example.parallel",
    prefix="EX",
    name=_("示例并联办件"),
    states=[
        State("submitted", _("已提交"), initial=True),
        State("reviewing", _("审查中")),
        State("correction", _("补正中"), pauses=(ALL_CLOCKS,)),
        State("deciding", _("待决定")),
        State("closed", _("已办结"), final=True),
        State("withdrawn", _("已撤回"), final=True),
    ],
    transitions=[
        Transition(
            "accept",
            _("受理"),
            source=("submitted",),
            target="reviewing",
            roles=_STAFF,
            lead_only=True,
            requires=("opinion",),
            checks=("accept",),
            public=True,
            starts=("legal",),
            creates=("review",),
        ),
        Transition(
            "ask_correction",
            _("要求补正"),
            source=("reviewing",),
            target="correction",
            roles=_STAFF,
            requires=("opinion",),
            public=True,
        ),
        Transition(
            "correct",
            _("提交补正"),
            source=("correction",),
            target="reviewing",
            roles=("applicant", "window"),
            public=True,
        ),
        Transition(
            "reviewed", _("审查完毕"), source=("reviewing",), target="deciding", system=True
        ),
        Transition(
            "decide",
            _("作出决定"),
            source=("deciding",),
            target="closed",
            roles=("clerk", "head"),
            lead_only=True,
            requires=("opinion",),
            public=True,
            stops=("legal",),
        ),
        Transition(
            "withdraw",
            _("撤回申请"),
            source=("submitted", "correction"),
            target="withdrawn",
            roles=("applicant",),
            public=True,
            stops=("legal",),
        ),
        Transition(
            "rework",
            _("不满意重办"),
            source=("closed",),
            target="deciding",
            system=True,
            public=True,
            starts=("legal",),
        ),
    ],
    clocks=[
        ClockSpec(
            "legal",
            _("法定时限"),
            unit=ClockUnit.WORKDAYS,
            limit=20,
            prompt_before=1,
            red_after=5,
            max_extensions=1,
        )
    ],
    tasks=[
        TaskSpec(
            "review",
            _("部门审查"),
            kind=TaskKind.REVIEW,
            join=JoinRule.ALL,
            clock=ClockSpec("review", _("审查时限"), unit=ClockUnit.WORKDAYS, limit=10),
            on_join="reviewed",
            outcomes=(TaskOutcome.AGREE, TaskOutcome.DISAGREE),
        )
    ],
    rating=True,
    reopen_on_dissatisfied="rework",
)


def register_examples() -> None:
    register(EXAMPLE_PARALLEL)
