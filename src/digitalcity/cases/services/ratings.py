"""Ratings: by the applicant's account, a one-time SMS link, or a call-back; reopening."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from digitalcity.core.models import NotificationChannel
from digitalcity.core.notifications.services import PHONE_RE, notify

from ..choices import EventKind, RatingValue, RatingVia
from ..models import Case, Rating, RatingLink
from ._engine import Run, refuse, signed_in, unit_of_work
from .cases import fire_transition

__all__ = ["hash_token", "rating_link_issue", "rating_submit"]

#: Where the one-time link points; the pages serve it (cases/urls.py).
RATING_PATH = "/cases/rate/{token}/"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_ratable(run: Run) -> None:
    if not run.type.rating:
        raise ValidationError({"case": _("“%(t)s”不设评价") % {"t": run.type.name}})
    if run.case.closed_at is None:
        raise ValidationError({"case": _("办件办结后才能评价")})


def rating_link_issue(
    *, case: Case, actor: Any, phone: str | None = None
) -> tuple[RatingLink, str]:
    """Text the applicant a one-time rating link for the current round; returns the link
    row and the raw token (stored only as its SHA-256). By lead-department staff, or the
    engine itself (actor None) right after closing."""
    with unit_of_work():
        run = Run(case, actor)
        if actor is not None and not run.member_of(run.case.department_id):
            raise refuse(_("只有牵头部门人员可以发送评价短信"))
        _require_ratable(run)
        number = (
            phone or run.case.applicant_phone or getattr(run.case.applicant, "phone", "") or ""
        ).strip()
        if not PHONE_RE.fullmatch(number):
            raise ValidationError(
                {"phone": _("手机号码“%(p)s”无效：应为 1 开头的 11 位数字") % {"p": number}}
            )
        token = secrets.token_urlsafe(24)
        link = RatingLink.objects.create(
            case=run.case,
            round=run.case.round,
            token_hash=hash_token(token),
            phone=number,
            created_at=run.now,
            # A link's life is a courtesy, not a legal limit: plain calendar days.
            expires_at=run.now + timedelta(days=run.type.rating_link_days),
        )
        url = settings.SITE_URL.rstrip("/") + RATING_PATH.format(token=token)
        notify(
            channel=NotificationChannel.SMS,
            to=number,
            body=_("您的办件 %(n)s 已办结，请评价：%(u)s") % {"n": run.case.number, "u": url},
            link=url,
            related=run.case,
            sensitive=True,
        )
        run.finish()
    return link, token


def rating_submit(
    *,
    value: str,
    text: str = "",
    case: Case | None = None,
    actor: Any = None,
    token: str | None = None,
) -> Rating:
    """Record the rating of a closed case's current round (one per round).

    Who: with `token`, whoever holds the one-time link (used up here); otherwise the
    applicant's own account, or lead-department staff recording a call-back (via
    phone). A dissatisfied rating fires the type's `reopen_on_dissatisfied` transition
    at most `reopen_limit` times per case.
    """
    if value not in RatingValue.values:
        raise ValidationError({"value": _("评价“%(v)s”无效") % {"v": value}})
    text = (text or "").strip()
    if len(text) > 2000:
        raise ValidationError({"text": _("评价内容最多 2000 个字符")})
    with unit_of_work():
        link: RatingLink | None = None
        if token is not None:
            link = (
                RatingLink.objects.select_for_update().filter(token_hash=hash_token(token)).first()
            )
            if link is None or (case is not None and link.case_id != case.pk):
                raise ValidationError({"token": _("评价链接无效")})
            case = Case(pk=link.case_id)
        if case is None:
            raise ValidationError({"case": _("须指定办件")})
        run = Run(case, actor if link is None else None)
        if link is not None:
            if link.used_at is not None:
                raise ValidationError({"token": _("评价链接已使用")})
            if link.expires_at <= run.now or link.round != run.case.round:
                raise ValidationError({"token": _("评价链接已过期")})
            via, by = RatingVia.LINK, None
        elif signed_in(actor) and run.case.applicant_id == actor.pk:
            via, by = RatingVia.ACCOUNT, actor
        elif signed_in(actor) and run.member_of(run.case.department_id):
            via, by = RatingVia.PHONE, actor
        else:
            raise refuse(_("只有申请人本人或牵头部门回访人员可以评价"))
        _require_ratable(run)
        if Rating.objects.filter(case=run.case, round=run.case.round).exists():
            raise ValidationError({"case": _("本轮办理已评价")})
        rating = Rating.objects.create(
            case=run.case, round=run.case.round, by=by, value=value, text=text, via=via, at=run.now
        )
        if link is not None:
            link.used_at = run.now
            link.save(update_fields=["used_at"])
        run.event(EventKind.RATING, public=True, reason=text, data={"value": value, "via": via})
        reopen = run.type.reopen_on_dissatisfied
        if (
            value == RatingValue.DISSATISFIED
            and reopen is not None
            and run.case.round <= run.type.reopen_limit
        ):
            fire_transition(run, run.type.transition(reopen), {}, text)
        run.finish()
    return rating
