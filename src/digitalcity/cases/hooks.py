"""Hooks: other apps plug checks and listeners into the engine without `cases` importing them.

    from digitalcity.cases import hooks

    def credit_check(*, case, transition, actor, input):
        if on_blacklist(case.applicant):
            return ValidationError(_("申请人在失信联合惩戒名单内，不予受理"))

    hooks.register_check("approval.licence", "accept", credit_check)   # or "*" for every type
    hooks.register_listener(EventKind.TRANSITION, on_case_moved)       # or "*" for every kind

A **check** runs inside the transition's transaction, before anything changes, at each
hook point the transition names in `checks`. It returns None (pass), or returns or
raises a `ValidationError` with a Chinese message; every failing check's messages are
collected and the transition is refused with all of them. A check must not write.

A **listener** gets each `Event` of its kind after the transaction that wrote it
commits (never for a rolled-back one). Its errors are logged and do not affect the case
or other listeners; a listener needing retries enqueues a task of its own.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ValidationError
from django.db import transaction

if TYPE_CHECKING:
    from .declare import Transition
    from .models import Case, Event

__all__ = [
    "ANY",
    "Check",
    "Listener",
    "clear",
    "register_check",
    "register_listener",
    "run_checks",
    "schedule_listeners",
]

logger = logging.getLogger("digitalcity.cases")

#: Matches every case type (checks) or every event kind (listeners).
ANY = "*"


class Check(Protocol):
    def __call__(
        self, *, case: Case, transition: Transition, actor: Any, input: dict[str, Any]
    ) -> ValidationError | None: ...


Listener = Callable[["Event"], object]

_checks: dict[tuple[str, str], list[Check]] = defaultdict(list)
_listeners: dict[str, list[Listener]] = defaultdict(list)


def register_check(type_code: str, point: str, func: Check) -> None:
    """Run `func` at hook point `point` of type `type_code` (or ANY). Idempotent per func."""
    funcs = _checks[(type_code, point)]
    if func not in funcs:
        funcs.append(func)


def register_listener(event_kind: str, func: Listener) -> None:
    """Call `func(event)` after commit for each event of `event_kind` (or ANY). Idempotent."""
    funcs = _listeners[event_kind]
    if func not in funcs:
        funcs.append(func)


def clear(*, checks: bool = True, listeners: bool = True) -> None:
    """Forget every registration (tests)."""
    if checks:
        _checks.clear()
    if listeners:
        _listeners.clear()


def run_checks(*, case: Case, transition: Transition, actor: Any, input: dict[str, Any]) -> None:
    """Run the checks of every hook point `transition` names; raise one ValidationError
    carrying all failures' messages (none raised if all pass)."""
    failures: list[ValidationError] = []
    for point in transition.checks:
        for func in (*_checks.get((case.type_code, point), ()), *_checks.get((ANY, point), ())):
            try:
                result = func(case=case, transition=transition, actor=actor, input=input)
            except ValidationError as exc:
                result = exc
            if result is not None:
                failures.append(result)
    if failures:
        raise ValidationError([message for exc in failures for message in exc.messages])


def _deliver(events: list[Event]) -> None:
    for event in events:
        for func in (*_listeners.get(event.kind, ()), *_listeners.get(ANY, ())):
            try:
                func(event)
            except Exception:
                logger.exception("办件事件监听器 %r 处理事件 %s 出错", func, event.pk)


def schedule_listeners(events: Iterable[Event]) -> None:
    """Deliver `events` to their listeners once the current transaction commits."""
    if not _listeners:
        return
    wanted = [e for e in events if _listeners.get(e.kind) or _listeners.get(ANY)]
    if wanted:
        transaction.on_commit(partial(_deliver, wanted))
