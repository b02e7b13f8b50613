"""One-time login codes sent by SMS: issue (rate-limited) and verify (single use).

Only a keyed hash of each code is stored (HMAC-SHA256 with SECRET_KEY over phone and
code); a code lives DC_SMS_CODE_TTL_SECONDS and is consumed by its first successful use.
Guessing is bounded by the login lockout (identity.lockout), which counts wrong codes.
"""

from __future__ import annotations

import datetime
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from digitalcity.core.notifications.services import notify

from .models import SmsLoginCode, User

__all__ = ["CODE_LENGTH", "PHONE_RE", "clean_phone", "request_login_code", "verify_login_code"]

CODE_LENGTH = 6
PHONE_RE = re.compile(r"1[3-9]\d{9}")


def _digest(phone: str, code: str) -> str:
    return salted_hmac(
        "digitalcity.identity.sms", f"{phone}:{code}", algorithm="sha256"
    ).hexdigest()


def clean_phone(phone: str) -> str:
    """The phone number stripped, or ValidationError naming the field and the rule."""
    phone = (phone or "").strip()
    if not PHONE_RE.fullmatch(phone):
        raise ValidationError({"phone": _("手机号码：应为以 1 开头的 11 位数字")})
    return phone


def request_login_code(*, phone: str, ip: str = "") -> None:
    """Issue a login code for `phone` and text it if an active account has that phone.

    The same answer (and the same rate limits) apply whether or not an account exists, so
    the endpoint cannot be used to find out who is registered. Raises ValidationError for
    a malformed number, a second request within DC_SMS_CODE_INTERVAL_SECONDS, or more than
    DC_SMS_CODES_PER_DAY requests for the phone since local midnight.
    """
    phone = clean_phone(phone)
    now = timezone.now()
    with transaction.atomic():
        issued = SmsLoginCode.objects.filter(phone=phone)
        last = issued.order_by("-created_at").values_list("created_at", flat=True).first()
        interval = datetime.timedelta(seconds=settings.DC_SMS_CODE_INTERVAL_SECONDS)
        if last is not None and now - last < interval:
            wait = int((interval - (now - last)).total_seconds()) + 1
            raise ValidationError(
                {"phone": _("手机号码：验证码发送过于频繁，请 %(n)d 秒后再试") % {"n": wait}}
            )
        midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        if issued.filter(created_at__gte=midnight).count() >= settings.DC_SMS_CODES_PER_DAY:
            raise ValidationError(
                {
                    "phone": _("手机号码：今日验证码发送次数已达上限（%(n)d 次），请明日再试")
                    % {"n": settings.DC_SMS_CODES_PER_DAY}
                }
            )
        code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
        ttl = settings.DC_SMS_CODE_TTL_SECONDS
        SmsLoginCode.objects.create(
            phone=phone,
            code_hash=_digest(phone, code),
            created_at=now,
            expires_at=now + datetime.timedelta(seconds=ttl),
            ip=ip,
        )
        if User.objects.filter(phone=phone, is_active=True).exists():
            notify(
                channel="sms",
                to=phone,
                template="identity.login_code",
                body=_(
                    "【%(city)s政务服务】您的登录验证码为 %(code)s，%(minutes)d 分钟内有效。"
                    "如非本人操作，请忽略本短信，切勿告诉他人。"
                )
                % {"city": settings.CITY_NAME, "code": code, "minutes": max(ttl // 60, 1)},
                # The body holds a live login code: wiped from the table once sent.
                sensitive=True,
            )


def verify_login_code(*, phone: str, code: str) -> bool:
    """True, and the code consumed, when `code` is the latest unexpired unused code for `phone`."""
    phone = (phone or "").strip()
    code = (code or "").strip()
    if not PHONE_RE.fullmatch(phone) or not re.fullmatch(rf"\d{{{CODE_LENGTH}}}", code):
        return False
    now = timezone.now()
    latest = (
        SmsLoginCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if latest is None or not constant_time_compare(latest.code_hash, _digest(phone, code)):
        return False
    # Conditional update: of two concurrent logins with the same code only one wins.
    return SmsLoginCode.objects.filter(pk=latest.pk, used_at__isnull=True).update(used_at=now) == 1
