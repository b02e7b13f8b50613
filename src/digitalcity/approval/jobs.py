"""The approval deadline job (`approval.deadlines`, run by `digitalcity worker`): what the
law decides by the calendar and the case engine does not.

1. Art. 32 — deemed acceptance: an application still waiting for acceptance after its
   5-working-day acceptance clock ran out (no correction notice given) is accepted.
2. Art. 50 — deemed renewal: a renewal applied for at least 30 days before the licence
   expired, still undecided on the expiry date, is deemed granted (validity extended).

Both act as the system (`as_system=True`, actor None: "系统" on the timeline); a deemed
acceptance starts the legal and promised clocks as of receipt (`clock_start_at`).

Idempotent and safe with several workers: each application is handled in its own
transaction that first re-reads the case under its row lock (the engine's
`case_transition` locks it) and acts only if the case is still in the state that
qualified it — a second worker finds the state changed and skips it.
"""

from __future__ import annotations

import datetime
import logging
from datetime import datetime as DateTime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.cases import services as cases
from digitalcity.cases.choices import ClockState
from digitalcity.cases.models import Case, Clock

from .models import Application
from .services import (
    RENEWAL_LEAD_DAYS,
    _guarded,
    _issue,
    _tell_applicant,
    stage_limit,
    task_departments,
)
from .workflow import OPEN_STATES, TYPE_CODE

__all__ = ["deemed_acceptances", "deemed_renewals", "run_deadlines"]

logger = logging.getLogger("digitalcity.approval")


def run_deadlines(*, now: DateTime | None = None) -> int:
    """Both rules; returns how many applications changed."""
    now = now or timezone.now()
    return deemed_acceptances(now=now) + deemed_renewals(now=now)


def deemed_acceptances(*, now: DateTime) -> int:
    due = list(
        Clock.objects.filter(
            case__type_code=TYPE_CODE,
            case__state="submitted",
            task__isnull=True,
            code="acceptance",
            state=ClockState.RUNNING,
            due_at__lt=now,
        ).values_list("case_id", flat=True)
    )
    done = 0
    for case_id in due:
        try:
            with transaction.atomic():
                application = (
                    Application.objects.select_for_update(of=("self",))
                    .select_related("item", "case")
                    .get(case_id=case_id)
                )
                case = Case.objects.select_for_update().get(pk=case_id)
                if case.state != "submitted":
                    continue  # another worker or a clerk got there first
                received = (
                    Clock.objects.filter(case=case, task__isnull=True, code="acceptance")
                    .values_list("started_at", flat=True)
                    .first()
                ) or case.opened_at
                reason = _(
                    "受理期限内未告知补正，依《行政许可法》第三十二条，自收到申请材料之日起即为受理"
                )
                item = application.item
                if item.preliminary_department_id is not None:
                    # Art. 43: first the county department's preliminary review.
                    transition = "deemed_accept_preliminary"
                    data: dict[str, object] = {"departments": [item.preliminary_department_id]}
                else:
                    transition = "deemed_accept"
                    data = {
                        "departments": task_departments(item),
                        # The item's own stage limit, as a normal acceptance gives.
                        "task_limit": stage_limit(item),
                    }
                cases.case_transition(
                    case=case,
                    transition=transition,
                    actor=None,
                    as_system=True,
                    # Art. 32: accepted from receipt (of the complete or corrected materials).
                    clock_start_at=received,
                    input=_guarded({"opinion": reason, **data}),
                    reason=reason,
                )
                _tell_applicant(
                    application,
                    _("申请已视为受理"),
                    _("您的申请 %(n)s 已依法视为受理。") % {"n": case.number},
                )
                done += 1
        except (ValidationError, PermissionDenied):
            logger.exception("视为受理失败：办件 %s", case_id)
    return done


def deemed_renewals(*, now: DateTime) -> int:
    today = timezone.localdate(now)
    candidates = list(
        Application.objects.filter(
            renews__isnull=False,
            renews__valid_until__lt=today,
            case__state__in=OPEN_STATES,
        ).values_list("pk", "submitted_at", "renews__valid_until")
    )
    done = 0
    for pk, submitted_at, valid_until in candidates:
        if submitted_at is None or valid_until is None:
            continue
        deadline = valid_until - datetime.timedelta(days=RENEWAL_LEAD_DAYS)
        if timezone.localdate(submitted_at) > deadline:
            continue  # applied later than 30 days before expiry: no deemed renewal
        try:
            with transaction.atomic():
                application = (
                    Application.objects.select_for_update(of=("self",))
                    .select_related("item", "case")
                    .get(pk=pk)
                )
                if application.case_id is None:
                    continue
                case = Case.objects.select_for_update().get(pk=application.case_id)
                if case.state not in OPEN_STATES:
                    continue
                reason = _(
                    "有效期届满前未作出是否准予延续的决定，依《行政许可法》第五十条视为准予延续"
                )
                cases.case_transition(
                    case=case,
                    transition="deemed_renew",
                    actor=None,
                    as_system=True,
                    input=_guarded({"opinion": reason}),
                    reason=reason,
                )
                _issue(application, actor=None, scope="", deemed=True)
                _tell_applicant(application, _("视为准予延续"), reason)
                done += 1
        except (ValidationError, PermissionDenied):
            logger.exception("视为准予延续失败：申请 %s", pk)
    return done
