"""Template context every page gets: the city, the navigation, the user's departments."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from digitalcity.identity.models import User

from . import navigation


def platform(request: HttpRequest) -> dict[str, Any]:
    """City name and navigation; the per-user parts are lazy so pages that never show
    them (the admin, API error pages) run no query for them."""
    user = getattr(request, "user", None)
    context: dict[str, Any] = {
        "CITY_NAME": settings.CITY_NAME,
        "SITE_SPONSOR": settings.DC_SITE_SPONSOR,
        "SITE_OPERATOR": settings.DC_SITE_OPERATOR,
        "SITE_ICP": settings.DC_SITE_ICP,
        "SITE_PSB": settings.DC_SITE_PSB,
        "portal_nav": SimpleLazyObject(navigation.portal_nav),
    }
    if isinstance(user, User) and user.is_authenticated and user.is_staff_member:
        staff: User = user
        memberships = SimpleLazyObject(lambda: navigation.user_memberships(staff))
        context["user_memberships"] = memberships
        context["user_departments"] = SimpleLazyObject(
            lambda: list(dict.fromkeys(m.department for m in memberships))
        )
        context["workbench_modules"] = SimpleLazyObject(
            lambda: navigation.workbench_modules(staff, list(memberships))
        )
    return context
