"""Navigation of the portal and the workbench, and who sees which workbench module.

Entries name a URL by its Django name. A service app that has not shipped yet has no
such name: its entry is shown as "未上线" instead of a dead link, and lights up by
itself once the app's urls are included. A new service adds its entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models import Membership, MembershipRole
from digitalcity.identity.models import AccountKind, User

__all__ = [
    "NavItem",
    "PortalLink",
    "WorkbenchModule",
    "portal_nav",
    "portal_services",
    "user_memberships",
    "workbench_modules",
]


@dataclass(frozen=True)
class PortalLink:
    label: str | Promise
    url_name: str
    icon: str = ""
    description: str | Promise = ""


@dataclass(frozen=True)
class WorkbenchModule:
    key: str
    label: str | Promise
    url_name: str
    # Who sees it: any membership with one of these roles (empty: every staff member);
    # admins see every module.
    roles: frozenset[str]


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url: str | None  # None: the module's app is not installed yet
    icon: str = ""
    description: str | Promise = ""


PORTAL_LINKS: tuple[PortalLink, ...] = (
    PortalLink(_("首页"), "web:home"),
    PortalLink(_("办事服务"), "approval:portal_index"),
    PortalLink(_("政务公开"), "portal:disclosure_index"),
    PortalLink(_("12345热线"), "hotline:portal_index"),
    PortalLink(_("互动交流"), "portal:interaction_index"),
)

PORTAL_SERVICES: tuple[PortalLink, ...] = (
    PortalLink(
        _("个人办事"), "approval:citizen_items", "人", _("户籍、社保、医保、公积金等个人事项")
    ),
    PortalLink(_("法人办事"), "approval:enterprise_items", "企", _("企业开办、许可审批、证照办理")),
    PortalLink(_("12345热线"), "hotline:portal_index", "话", _("咨询、求助、投诉、建议，一号响应")),
    PortalLink(_("政务公开"), "portal:disclosure_index", "公", _("政策文件、依申请公开")),
    PortalLink(_("信用查询"), "credit:portal_index", "信", _("信用信息公示、信用报告")),
    PortalLink(_("办件查询"), "cases:tracking", "查", _("凭办件编号查询进度")),
)

_HANDLERS = frozenset({MembershipRole.WINDOW, MembershipRole.CLERK, MembershipRole.HEAD})

WORKBENCH_MODULES: tuple[WorkbenchModule, ...] = (
    WorkbenchModule("tasks", _("我的待办"), "cases:queue", frozenset()),
    WorkbenchModule("approval", _("审批"), "approval:workbench", _HANDLERS),
    WorkbenchModule("hotline", _("12345工单"), "hotline:workbench", _HANDLERS),
    WorkbenchModule(
        "supervision",
        _("督办"),
        "cases:supervision",
        # The desk is the supervisors' (cases.views: others get 403); admins see all.
        frozenset({MembershipRole.SUPERVISOR}),
    ),
    WorkbenchModule(
        "approval_supervision",
        _("电子监察"),
        "approval:supervision",
        # approval.views._supervisor_or_head: supervisors, department heads, admins.
        frozenset({MembershipRole.SUPERVISOR, MembershipRole.HEAD}),
    ),
    WorkbenchModule(
        "exchange", _("数据交换"), "exchange:workbench", frozenset({MembershipRole.DATA_OFFICER})
    ),
    WorkbenchModule(
        "registry",
        _("基础数据"),
        "registry:workbench",
        frozenset({MembershipRole.DATA_OFFICER, MembershipRole.ADMIN}),
    ),
    WorkbenchModule("admin", _("系统管理"), "admin:index", frozenset({MembershipRole.ADMIN})),
)


def _resolve(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def portal_nav() -> list[NavItem]:
    return [
        NavItem(key=link.url_name, label=link.label, url=_resolve(link.url_name))
        for link in PORTAL_LINKS
    ]


def portal_services() -> list[NavItem]:
    return [
        NavItem(
            key=link.url_name,
            label=link.label,
            url=_resolve(link.url_name),
            icon=link.icon,
            description=link.description,
        )
        for link in PORTAL_SERVICES
    ]


def user_memberships(user: User) -> list[Membership]:
    """The user's active memberships in active departments, department and position loaded."""
    return list(
        Membership.objects.filter(user=user, is_active=True, department__is_active=True)
        .select_related("department", "position")
        .order_by("department__code", "role")
    )


def workbench_modules(user: User, memberships: list[Membership]) -> list[NavItem]:
    """The workbench modules `user` may open, in menu order.

    A module is shown when it is open to all staff or one of the user's memberships
    carries one of its roles.
    Administrators (kind admin or superuser) see all; 系统管理 also needs Django's
    is_staff, because /admin/ refuses everyone else.
    """
    is_admin = user.is_superuser or user.kind == AccountKind.ADMIN
    roles = {m.role for m in memberships}
    items = []
    for module in WORKBENCH_MODULES:
        if module.key == "admin" and not user.is_staff:
            continue
        if not module.roles or is_admin or roles & module.roles:
            items.append(NavItem(key=module.key, label=module.label, url=_resolve(module.url_name)))
    return items
