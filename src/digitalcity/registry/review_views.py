"""The linkage review queue pages: the list, one candidate side by side, the decision.

Thin views (STYLE.md 5): permission through registry.review, the decision through its
services. Personal data is masked on these pages; the comparison levels explain the
score without showing more.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .choices import LinkState
from .fields import choice_label
from .linkage import COMPARISON_LABELS, LEVEL_LABELS
from .models import LinkCandidate
from .review import (
    can_review_link,
    can_use_review_queue,
    link_accept,
    link_reject,
    review_queue_for,
)

PAGE_SIZE = 50


def _require_queue(request: HttpRequest) -> None:
    if not can_use_review_queue(request.user):
        raise PermissionDenied(_("您没有审核关联候选的权限"))


def _candidate_for(request: HttpRequest, pk: int) -> LinkCandidate:
    """The candidate if the user may review it; 404 otherwise, as for every object."""
    _require_queue(request)
    candidate = review_queue_for(request.user).filter(pk=pk).first()
    if candidate is None:
        raise Http404(_("对象不存在或无权访问"))
    return candidate


def _explanation(candidate: LinkCandidate) -> list[dict[str, Any]]:
    levels = (candidate.explanation or {}).get("levels", [])
    return [
        {
            "comparison": COMPARISON_LABELS.get(level.get("comparison"), level.get("comparison")),
            "level": LEVEL_LABELS.get(level.get("level"), level.get("level")),
            "weight": level.get("weight", 0.0),
            "for_match": (level.get("weight") or 0.0) > 0,
        }
        for level in levels
    ]


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    _require_queue(request)
    state = request.GET.get("state", LinkState.PENDING)
    candidates = review_queue_for(request.user).order_by("-probability", "pk")
    if state in LinkState.values:
        candidates = candidates.filter(state=state)
    page = Paginator(candidates, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/review_queue.html",
        {"page": page, "state": state, "states": LinkState.choices},
    )


@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = _candidate_for(request, pk)
    record = candidate.record
    person = candidate.person
    data = record.data or {}
    rows = [
        # (label, the record's value, the person's value, kind of masking)
        (_("公民身份号码"), data.get("id_number", ""), person.id_number, "id"),
        (_("姓名"), data.get("name", ""), person.name, "name"),
        (
            _("性别"),
            choice_label("person", "sex", data.get("sex", "")),
            person.get_sex_display(),
            "",
        ),
        (_("出生日期"), data.get("birth_date", ""), person.birth_date or "", ""),
        (
            _("住址"),
            data.get("registered_address", ""),
            person.registered_address,
            "address",
        ),
        (_("区划"), data.get("division", ""), person.division.code if person.division else "", ""),
        (_("联系电话"), data.get("phone", ""), "", "phone"),
    ]
    return render(
        request,
        "registry/review_detail.html",
        {
            "candidate": candidate,
            "record": record,
            "person": person,
            "rows": rows,
            "explanation": _explanation(candidate),
            "can_decide": candidate.state == LinkState.PENDING
            and can_review_link(request.user, candidate),
        },
    )


@login_required
@require_POST
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = _candidate_for(request, pk)
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "")
    try:
        if action == "accept":
            link_accept(candidate=candidate, actor=request.user, reason=reason)
            messages.success(request, _("已接受关联，记录已并入该人口的标准档案"))
        elif action == "reject":
            link_reject(candidate=candidate, actor=request.user, reason=reason)
            messages.success(request, _("已拒绝关联"))
        else:
            messages.error(request, _("操作：只能是接受或拒绝"))
            return redirect("registry:review_detail", pk=pk)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("registry:review_detail", pk=pk)
    return redirect("registry:review_queue")
