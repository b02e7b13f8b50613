"""Portal and workbench home pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.identity.models import User

from . import calendar_notice, navigation


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"services": navigation.portal_services()})


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or not user.is_staff_member:
        raise PermissionDenied(_("工作台仅对政府工作人员开放。"))
    # Read for every staff member, shown to some: the page runs the same queries whatever
    # the roles (web/tests/test_pages.py locks that).
    notices = calendar_notice.calendar_notices(user, timezone.localdate())
    if not calendar_notice.sees_calendar_notice(user, navigation.user_memberships(user)):
        notices = []
    return render(request, "web/workbench.html", {"calendar_notices": notices})
