"""Case types are declared in code by service apps (DESIGN.md "cases").

    from digitalcity.cases.declare import CaseType, ClockSpec, State, TaskSpec, Transition, register

    register(CaseType(code="approval.licence", prefix="SP", name=_("行政许可"), states=[...],
                      transitions=[...], clocks=[...], tasks=[...]))

Call `register` from your AppConfig.ready(). It validates the whole declaration and raises
ImproperlyConfigured for a mistake (an unknown state, clock, task or transition; a final
state that cannot be reached; a role that is not a membership role), so a broken type
stops the process at start-up instead of failing on a citizen's case.

Terms
-----
* A **state** may be initial (exactly one), final (at least one; entering it closes the
  case) and may *pause* clocks (codes, or "*" for every clock of the case) while the case
  is in it — time the law does not count (Art. 45 of the Administrative Licensing Law).
* A **transition** moves the case from one of `source` to `target`. `roles` are core
  MembershipRole values (or "applicant"); the actor needs one of them in a department
  involved in the case (`lead_only`: in the lead department). No roles: any member of
  an involved department. `system=True`: only the engine fires it (task joins, task
  outcomes, reopening), never a user directly. `requires` names input fields that must be
  non-empty; `checks` names hook points (cases.hooks) run before the move. `starts`,
  `stops` name case clocks; `creates` names task specs whose tasks it creates (one per
  department given as input "departments", else one per involved department).
* A **clock** counts `limit` units (working days, working hours or calendar days); a
  prompt goes out when `prompt_before` units remain, a yellow card at the due moment, a
  red card `red_after` units after it (or at a second yellow on the same case with
  `red_on_repeat_yellow`). See docs/cases.md for the exact arithmetic.
* A **task spec** makes tasks of one kind that join by `join` (ALL: every task of the
  group completed; ANY: the first completion decides, the rest are cancelled) and then
  fire `on_join`; `on_return` fires when a task is returned. (A reviewer who finds the
  application incomplete takes the type's correction transition on the case itself.)
  `clock` gives each task its own clock, started with the task.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from digitalcity.core.models import MembershipRole

from .choices import APPLICANT_ROLE, ClockUnit, JoinRule, TaskKind, TaskOutcome

__all__ = [
    "ALL_CLOCKS",
    "CaseType",
    "ClockSpec",
    "State",
    "TaskSpec",
    "Transition",
    "all_types",
    "get_type",
    "register",
    "unregister",
]

#: In `State.pauses`: every clock of the case (and of its tasks).
ALL_CLOCKS = "*"

_CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)+")
_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_PREFIX = re.compile(r"[A-Z]{2,6}")


def _tuple(value: Iterable[Any] | str) -> tuple[Any, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(frozen=True)
class State:
    code: str
    label: Any
    initial: bool = False
    final: bool = False
    pauses: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "pauses", _tuple(self.pauses))


@dataclass(frozen=True)
class Transition:
    code: str
    label: Any
    source: tuple[str, ...]
    target: str
    roles: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    public: bool = False
    starts: tuple[str, ...] = ()
    stops: tuple[str, ...] = ()
    creates: tuple[str, ...] = ()
    lead_only: bool = False
    system: bool = False

    def __post_init__(self) -> None:
        for name in ("source", "roles", "requires", "checks", "starts", "stops", "creates"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))


@dataclass(frozen=True)
class ClockSpec:
    code: str
    label: Any
    unit: str = ClockUnit.WORKDAYS
    limit: int = 20
    prompt_before: int = 1
    red_after: int | None = None
    red_on_repeat_yellow: bool = False
    extendable: bool = True
    #: How many extensions the law allows (Art. 42: once); None for no limit.
    max_extensions: int | None = None


@dataclass(frozen=True)
class TaskSpec:
    code: str
    label: Any
    kind: str = TaskKind.HANDLE
    join: str = JoinRule.ALL
    clock: ClockSpec | None = None
    on_join: str | None = None
    on_return: str | None = None
    #: Outcomes a completion may carry; the first is the default.
    outcomes: tuple[str, ...] = (TaskOutcome.DONE,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcomes", _tuple(self.outcomes))

    def __hash__(self) -> int:
        return hash((self.code, self.kind, self.join))


@dataclass(frozen=True)
class CaseType:
    code: str
    prefix: str
    name: Any
    states: Sequence[State]
    transitions: Sequence[Transition]
    clocks: Sequence[ClockSpec] = ()
    tasks: Sequence[TaskSpec] = ()
    allow_anonymous: bool = False
    rating: bool = True
    #: Case clocks started when the case is opened (e.g. a hotline order's clock runs
    #: from intake); others start at a transition's `starts`.
    starts_on_open: tuple[str, ...] = ()
    #: A transition (from a final state) fired when the applicant is dissatisfied, at
    #: most `reopen_limit` times per case (12345: rework once).
    reopen_on_dissatisfied: str | None = None
    reopen_limit: int = 1
    #: How long a one-time rating link stays valid, in calendar days.
    rating_link_days: int = 7
    #: Gap-free numbers (a locked counter row, decision 0011) for statutory registers;
    #: False for mere references (a 12345 order): a PostgreSQL sequence, no lock to COMMIT.
    gap_free_numbers: bool = True

    def __post_init__(self) -> None:
        for name in ("states", "transitions", "clocks", "tasks", "starts_on_open"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))

    def __hash__(self) -> int:
        return hash(self.code)

    # --- lookups --------------------------------------------------------

    def state(self, code: str) -> State:
        for state in self.states:
            if state.code == code:
                return state
        raise KeyError(code)

    def transition(self, code: str) -> Transition:
        for transition in self.transitions:
            if transition.code == code:
                return transition
        raise KeyError(code)

    def clock(self, code: str) -> ClockSpec:
        for spec in self.clocks:
            if spec.code == code:
                return spec
        for task in self.tasks:
            if task.clock is not None and task.clock.code == code:
                return task.clock
        raise KeyError(code)

    def task(self, code: str) -> TaskSpec:
        for spec in self.tasks:
            if spec.code == code:
                return spec
        raise KeyError(code)

    @property
    def initial(self) -> State:
        return next(state for state in self.states if state.initial)

    def final_codes(self) -> frozenset[str]:
        return frozenset(state.code for state in self.states if state.final)

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.source]


# --- Validation --------------------------------------------------------------


def _duplicates(codes: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    dup: set[str] = set()
    for code in codes:
        (dup if code in seen else seen).add(code)
    return dup


def _validate(ct: CaseType) -> list[str]:
    errors: list[str] = []
    if not _CODE.fullmatch(ct.code):
        errors.append(f"类型代码 {ct.code!r} 应为“<应用>.<名称>”形式的小写代码")
    if not _PREFIX.fullmatch(ct.prefix):
        errors.append(f"编号前缀 {ct.prefix!r} 应为 2 至 6 位大写英文字母")
    states = {s.code for s in ct.states}
    transitions = {t.code for t in ct.transitions}
    case_clocks = {c.code for c in ct.clocks}
    task_clocks = {t.clock.code for t in ct.tasks if t.clock is not None}
    tasks = {t.code for t in ct.tasks}
    roles = set(MembershipRole.values) | {APPLICANT_ROLE}
    for kind, codes in (
        ("状态", [s.code for s in ct.states]),
        ("流转", [t.code for t in ct.transitions]),
        ("时限", [c.code for c in ct.clocks] + sorted(task_clocks)),
        ("任务", [t.code for t in ct.tasks]),
    ):
        for code in sorted(_duplicates(codes)):
            errors.append(f"{kind}代码 {code!r} 重复")
        for code in codes:
            if not _NAME.fullmatch(code):
                errors.append(f"{kind}代码 {code!r} 应为小写字母、数字、下划线或连字符")
    initials = [s.code for s in ct.states if s.initial]
    if len(initials) != 1:
        errors.append(f"须恰有一个初始状态，现有 {initials}")
    if not ct.final_codes():
        errors.append("至少须有一个终止状态")
    for state in ct.states:
        for code in state.pauses:
            if code != ALL_CLOCKS and code not in case_clocks | task_clocks:
                errors.append(f"状态 {state.code!r} 暂停的时限 {code!r} 未声明")
        if state.initial and state.final:
            errors.append(f"状态 {state.code!r} 不能既是初始又是终止状态")
    for t in ct.transitions:
        for code in t.source:
            if code not in states:
                errors.append(f"流转 {t.code!r} 的起始状态 {code!r} 未声明")
        if not t.source:
            errors.append(f"流转 {t.code!r} 未声明起始状态")
        if t.target not in states:
            errors.append(f"流转 {t.code!r} 的目标状态 {t.target!r} 未声明")
        for role in t.roles:
            if role not in roles:
                errors.append(f"流转 {t.code!r} 的角色 {role!r} 不是部门角色或 applicant")
        for code in (*t.starts, *t.stops):
            if code not in case_clocks:
                errors.append(f"流转 {t.code!r} 启停的时限 {code!r} 不是办件时限")
        for code in t.creates:
            if code not in tasks:
                errors.append(f"流转 {t.code!r} 下达的任务 {code!r} 未声明")
    for code in ct.starts_on_open:
        if code not in case_clocks:
            errors.append(f"开件即启动的时限 {code!r} 不是办件时限")
    for spec in (*ct.clocks, *(t.clock for t in ct.tasks if t.clock is not None)):
        if spec.unit not in ClockUnit.values:
            errors.append(f"时限 {spec.code!r} 的单位 {spec.unit!r} 无效")
        if spec.limit < 1:
            errors.append(f"时限 {spec.code!r} 的时限须为正整数")
        if spec.prompt_before < 0 or (spec.red_after is not None and spec.red_after < 0):
            errors.append(f"时限 {spec.code!r} 的提醒、红牌设置不能为负")
    for task_spec in ct.tasks:
        if task_spec.kind not in TaskKind.values:
            errors.append(f"任务 {task_spec.code!r} 的性质 {task_spec.kind!r} 无效")
        if task_spec.join not in JoinRule.values:
            errors.append(f"任务 {task_spec.code!r} 的汇合规则 {task_spec.join!r} 无效")
        if not task_spec.outcomes:
            errors.append(f"任务 {task_spec.code!r} 至少须有一个办理结果")
        for outcome in task_spec.outcomes:
            if outcome not in TaskOutcome.values:
                errors.append(f"任务 {task_spec.code!r} 的办理结果 {outcome!r} 无效")
        for ref in (task_spec.on_join, task_spec.on_return):
            if ref is not None and ref not in transitions:
                errors.append(f"任务 {task_spec.code!r} 引用的流转 {ref!r} 未声明")
    if ct.reopen_on_dissatisfied is not None:
        if ct.reopen_on_dissatisfied not in transitions:
            errors.append(f"不满意重办流转 {ct.reopen_on_dissatisfied!r} 未声明")
        elif not ct.final_codes() & set(ct.transition(ct.reopen_on_dissatisfied).source):
            errors.append(f"不满意重办流转 {ct.reopen_on_dissatisfied!r} 须从终止状态出发")
    if not errors and initials:
        reachable = {initials[0]}
        frontier = [initials[0]]
        while frontier:
            here = frontier.pop()
            for t in ct.transitions_from(here):
                if t.target not in reachable:
                    reachable.add(t.target)
                    frontier.append(t.target)
        for code in sorted(states - reachable):
            kind = "终止状态" if code in ct.final_codes() else "状态"
            errors.append(f"{kind} {code!r} 从初始状态不可达")
    return errors


# --- Registry ----------------------------------------------------------------

_registry: dict[str, CaseType] = {}


def register(case_type: CaseType) -> CaseType:
    """Validate and register `case_type`; ImproperlyConfigured lists every mistake.

    Registering an equal declaration again is a no-op (ready() may run twice in tests);
    a different declaration under a code already taken is an error.
    """
    errors = _validate(case_type)
    if errors:
        raise ImproperlyConfigured(
            f"办件类型 {case_type.code!r} 的声明有误：\n  - " + "\n  - ".join(errors)
        )
    existing = _registry.get(case_type.code)
    if existing is not None and existing != case_type:
        raise ImproperlyConfigured(f"办件类型代码 {case_type.code!r} 已被另一声明占用")
    _registry[case_type.code] = case_type
    return case_type


def unregister(code: str) -> None:
    """Remove a type (tests that declare throw-away types)."""
    _registry.pop(code, None)


def get_type(code: str) -> CaseType:
    """The registered type `code`; ImproperlyConfigured if no app declared it."""
    try:
        return _registry[code]
    except KeyError:
        raise ImproperlyConfigured(
            f"办件类型 {code!r} 未注册（应用未安装或未在 ready() 中注册）"
        ) from None


def all_types() -> list[CaseType]:
    return sorted(_registry.values(), key=lambda ct: ct.code)
