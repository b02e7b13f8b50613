"""Identity pages: login (password / SMS code tabs), logout, password change, "我的账户"
and the "显示完整信息" reveal flow. Thin: parse, call identity services, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from digitalcity.core.middleware import client_ip

from .forms import (
    LoginForm,
    PasswordChangeForm,
    PasswordLoginForm,
    RevealForm,
    SmsCodeRequestForm,
    SmsLoginForm,
)
from .masking import PERSONAL_FIELDS, can_reveal, mask, reveal
from .models import User
from .passwords import password_change_required
from .sms import request_login_code

TABS: dict[str, type[LoginForm]] = {"password": PasswordLoginForm, "sms": SmsLoginForm}


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _login_page(
    request: HttpRequest,
    *,
    tab: str,
    form: LoginForm | None = None,
    sms_status: str = "",
    sms_error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "identity/login.html",
        {
            "tab": tab,
            "form": form or TABS[tab](request, initial={"phone": request.GET.get("phone", "")}),
            "next": request.POST.get("next") or request.GET.get("next", ""),
            "timed_out": request.GET.get("timeout") == "1",
            "sms_status": sms_status,
            "sms_error": sms_error,
        },
        status=status,
    )


@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    tab = request.POST.get("tab") or request.GET.get("tab") or "password"
    if tab not in TABS:
        tab = "password"
    if request.method != "POST":
        return _login_page(request, tab=tab)
    form = TABS[tab](request, data=request.POST)
    if not form.is_valid():
        return _login_page(request, tab=tab, form=form)
    user = form.get_user()
    auth_login(request, user)
    if password_change_required(user):
        return HttpResponseRedirect(reverse("identity:password_change"))
    return HttpResponseRedirect(_next_url(request))


@require_POST
def sms_code_view(request: HttpRequest) -> HttpResponse:
    """Send a login code (htmx: answers the status fragment; plain POST: the SMS tab)."""
    form = SmsCodeRequestForm(request.POST)
    phone = request.POST.get("phone", "")
    sent, error = "", ""
    try:
        if not form.is_valid():
            raise ValidationError({"phone": _("手机号码：必须填写")})
        request_login_code(phone=form.cleaned_data["phone"], ip=client_ip(request))
        sent = _("如该手机号已注册，验证码已发送，%(minutes)d 分钟内有效。") % {
            "minutes": max(settings.DC_SMS_CODE_TTL_SECONDS // 60, 1)
        }
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.headers.get("HX-Request"):
        return render(
            request,
            "identity/_sms_status.html",
            {"sms_status": sent, "sms_error": error},
            status=200 if sent else 400,
        )
    form_initial = SmsLoginForm(request, initial={"phone": phone})
    return _login_page(
        request,
        tab="sms",
        form=form_initial,
        sms_status=sent,
        sms_error=error,
        status=200 if sent else 400,
    )


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): the audit entry is written by the user_logged_out receiver."""


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    template_name = "identity/password_change.html"
    success_url = reverse_lazy("identity:profile")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。"))
        return response

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["forced"] = password_change_required(user)
        context["must_change"] = getattr(user, "must_change_password", False)
        return context


PROFILE_FIELDS = [
    ("real_name", gettext_lazy("真实姓名")),
    ("id_number", gettext_lazy("公民身份号码")),
    ("phone", gettext_lazy("手机号码")),
    ("uscc", gettext_lazy("统一社会信用代码")),
    ("legal_representative", gettext_lazy("法定代表人")),
]


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    rows = [
        {"field": field, "label": label, "masked": mask(field, getattr(user, field))}
        for field, label in PROFILE_FIELDS
        if getattr(user, field)
    ]
    return render(request, "identity/profile.html", {"account": user, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def reveal_view(request: HttpRequest, field: str, pk: int | None = None) -> HttpResponse:
    """Ask for a reason, then show one personal field in full (identity.masking.reveal)."""
    if field not in PERSONAL_FIELDS:
        raise PermissionDenied(_("字段 %(field)s 不是可显示的个人信息字段") % {"field": field})
    obj = get_object_or_404(User, pk=request.user.pk if pk is None else pk)
    if not can_reveal(user=request.user, obj=obj):
        raise PermissionDenied(_("您没有查看完整个人信息的权限"))
    partial = bool(request.headers.get("HX-Request"))
    form = RevealForm(request.POST or None)
    context: dict[str, object] = {
        "form": form,
        "field": field,
        "pk": pk,
        "masked": mask(field, getattr(obj, field, "")),
        "partial": partial,
    }
    if request.method == "POST" and form.is_valid():
        context["value"] = reveal(
            user=request.user, obj=obj, field=field, reason=form.cleaned_data["reason"]
        )
    template = "identity/_reveal.html" if partial else "identity/reveal.html"
    return render(request, template, context)
