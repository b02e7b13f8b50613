"""Request-scoped context: who acts, in which request, and why (STYLE.md 3).

The middleware sets it for web requests; commands and the worker use `acting_as(...)`.
Context variables, not thread locals, so it is right under async views and threads.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class ActorContext:
    user_id: int | None = None
    actor_label: str = ""  # "张三 (zhangsan)", "system:worker", "cli:registry import"
    request_id: str = ""
    reason: str = ""
    ip: str = ""


# ActorContext is a frozen dataclass, so the shared default cannot be mutated.
_current: contextvars.ContextVar[ActorContext] = contextvars.ContextVar(
    "digitalcity_actor",
    default=ActorContext(),  # noqa: B039
)


def current() -> ActorContext:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def acting_as(
    user: Any = None, *, label: str = "", reason: str = "", request_id: str = "", ip: str = ""
) -> Iterator[ActorContext]:
    """Run a block as `user` (or a system label): everything it changes is logged as theirs."""
    base = current()
    ctx = ActorContext(
        user_id=getattr(user, "pk", None),
        actor_label=label or (f"{user} ({user.get_username()})" if user is not None else ""),
        request_id=request_id or base.request_id or new_request_id(),
        reason=reason,
        ip=ip or base.ip,
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


@contextmanager
def with_reason(reason: str) -> Iterator[ActorContext]:
    """Attach a reason (e.g. why personal data was unmasked) to what the block does."""
    token = _current.set(replace(current(), reason=reason))
    try:
        yield current()
    finally:
        _current.reset(token)


def set_context(ctx: ActorContext) -> contextvars.Token[ActorContext]:
    return _current.set(ctx)


def reset_context(token: contextvars.Token[ActorContext]) -> None:
    _current.reset(token)
