"""`{% load cases_workbench %}{% my_tasks_panel %}`: the 我的待办 panel of the workbench home.

The workbench home belongs to `web`, which must not import the engine's queries (it sits
above every app); this tag lets its template show the queue without a view change.
"""

from __future__ import annotations

from typing import Any

from django import template

from digitalcity.identity.models import User

register = template.Library()


@register.inclusion_tag("cases/includes/queue_panel.html", takes_context=True)
def my_tasks_panel(context: template.Context) -> dict[str, Any]:
    from digitalcity.cases.views import queue_panel_context

    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_staff_member:
        return {"rows": []}
    return {**queue_panel_context(user), "request": request}
