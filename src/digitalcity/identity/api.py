"""identity REST endpoints (django-ninja router): request an SMS login code, who am I."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import django_auth

from digitalcity.core.middleware import client_ip

from .masking import mask_id_number, mask_name, mask_phone, mask_uscc
from .sms import request_login_code

router = Router(tags=["identity"])


class SmsCodeIn(Schema):
    phone: str


class MessageOut(Schema):
    detail: str


class MeOut(Schema):
    """The signed-in account with personal fields masked (identity.masking rules)."""

    id: int
    username: str
    kind: str
    display_name: str
    real_name: str
    id_number: str
    phone: str
    uscc: str
    org_name: str
    must_change_password: bool


@router.post("/sms-code", response={200: MessageOut, 400: MessageOut}, auth=None)
def sms_code(request: HttpRequest, payload: SmsCodeIn) -> Status[MessageOut]:
    """Text a 6-digit login code to `phone` (if it belongs to an account; the answer is the
    same either way). One request per phone per minute and a daily cap."""
    try:
        request_login_code(phone=payload.phone, ip=client_ip(request))
    except ValidationError as exc:
        return Status(400, MessageOut(detail=" ".join(exc.messages)))
    return Status(200, MessageOut(detail=_("如该手机号已注册，验证码已发送")))


@router.get("/me", response=MeOut, auth=django_auth)
def me(request: HttpRequest) -> MeOut:
    user = request.user
    if not user.is_authenticated:  # django_auth already refuses; this narrows the type
        raise HttpError(401, _("请先登录"))
    return MeOut(
        id=user.pk,
        username=user.username,
        kind=user.kind,
        display_name=user.display_name,
        real_name=mask_name(user.real_name),
        id_number=mask_id_number(user.id_number),
        phone=mask_phone(user.phone),
        uscc=mask_uscc(user.uscc),
        org_name=user.org_name,
        must_change_password=user.must_change_password,
    )
