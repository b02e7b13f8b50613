"""Receivers for django.contrib.auth's login/logout signals: session clocks and audit.

Connected in IdentityConfig.ready. Login and failures are audited by the backends
(identity.lockout), which see every attempt; logout only passes through here.
"""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest

from digitalcity.core.audit.services import record

from .middleware import LAST_SEEN_KEY, LOGIN_AT_KEY


def start_session_clocks(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    now = time.time()
    request.session[LOGIN_AT_KEY] = now
    request.session[LAST_SEEN_KEY] = now


def audit_logout(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    record(action="logout", obj=user, reason=getattr(request, "dc_logout_reason", ""))
