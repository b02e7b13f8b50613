"""Session rules (GB/T 22239-2019 level 3): idle timeout, absolute lifetime, forced
password change.

1. A signed-in session idle longer than DC_SESSION_IDLE_MINUTES, or older than
   SESSION_COOKIE_AGE since login, is ended; pages redirect to the login page, which
   says "会话已超时，请重新登录"; API and htmx calls get 401.
2. A user who must change the password (set by an administrator, or older than
   DC_PASSWORD_MAX_AGE_DAYS) is sent to the password change page from every page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from .passwords import password_change_required

__all__ = ["LAST_SEEN_KEY", "LOGIN_AT_KEY", "SessionTimeoutMiddleware"]

LAST_SEEN_KEY = "dc_last_seen"
LOGIN_AT_KEY = "dc_login_at"
# Writing the session on every request would cost a database write per hit; a
# minute's slack in the idle clock is well inside any idle limit worth setting.
_TOUCH_EVERY_SECONDS = 60


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expired = self._expired(request)
            if expired is not None:
                return expired
            forced = self._force_password_change(request)
            if forced is not None:
                return forced
        return self.get_response(request)

    def _expired(self, request: HttpRequest) -> HttpResponse | None:
        session = request.session
        now = time.time()
        login_at = session.setdefault(LOGIN_AT_KEY, now)
        last_seen = session.get(LAST_SEEN_KEY, now)
        idle_limit = settings.DC_SESSION_IDLE_MINUTES * 60
        if now - last_seen <= idle_limit and now - login_at <= settings.SESSION_COOKIE_AGE:
            if now - last_seen >= _TOUCH_EVERY_SECONDS or LAST_SEEN_KEY not in session:
                session[LAST_SEEN_KEY] = now
            return None
        request.dc_logout_reason = (  # type: ignore[attr-defined]
            _("会话空闲超时") if now - last_seen > idle_limit else _("会话超过最长有效期")
        )
        logout(request)
        login_url = reverse("identity:login")
        if request.path.startswith("/api/") or request.headers.get("HX-Request"):
            response: HttpResponse = JsonResponse(
                {"detail": _("会话已超时，请重新登录")}, status=401
            )
            response["HX-Redirect"] = f"{login_url}?timeout=1"
            return response
        query = urlencode({"timeout": "1", "next": request.get_full_path()})
        return HttpResponseRedirect(f"{login_url}?{query}")

    def _force_password_change(self, request: HttpRequest) -> HttpResponse | None:
        if not password_change_required(request.user):
            return None
        allowed = {reverse("identity:password_change"), reverse("identity:logout")}
        if request.path in allowed or request.path.startswith(settings.STATIC_URL):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": _("请先修改密码")}, status=403)
        return HttpResponseRedirect(reverse("identity:password_change"))
