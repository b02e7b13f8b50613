"""Every write of the case engine (STYLE.md 4): keyword-only functions, one transaction
each, events written inside, notifications and listeners after commit.

Permission refusals raise `PermissionDenied`, bad input `ValidationError` (Chinese,
naming the field); nothing changes on either.
"""

from .cases import case_open, case_transition
from .ratings import hash_token, rating_link_issue, rating_submit
from .supervision import clock_extend, urge_answer, urge_issue
from .tasks import (
    task_break_lock,
    task_claim,
    task_complete,
    task_create,
    task_reassign,
    task_release,
    task_return,
)

__all__ = [
    "case_open",
    "case_transition",
    "clock_extend",
    "hash_token",
    "rating_link_issue",
    "rating_submit",
    "task_break_lock",
    "task_claim",
    "task_complete",
    "task_create",
    "task_reassign",
    "task_release",
    "task_return",
    "urge_answer",
    "urge_issue",
]
