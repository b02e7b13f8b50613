"""Admin for accounts (masked list, filters by kind, unlock) and login security records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from digitalcity.core.audit.services import record
from digitalcity.core.models import AuditAction, Membership

from . import lockout
from .masking import mask_id_number, mask_name, mask_phone
from .models import LoginAttempt, LoginLock, User


class AdminResetPasswordForm(AdminPasswordChangeForm):
    """An administrator's reset: the new password is known to someone else, so the owner
    must replace it at the next login."""

    def save(self, commit: bool = True) -> Any:
        self.user.must_change_password = True
        return super().save(commit=commit)


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["department"]
    fields = ["department", "position", "role", "is_active"]


class LockedFilter(admin.SimpleListFilter):
    title = _("登录锁定")
    parameter_name = "locked"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("已锁定"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        if self.value() == "yes":
            now = timezone.now()
            return queryset.filter(
                login_locks__locked_until__gt=now, login_locks__unlocked_at__isnull=True
            ).distinct()
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "masked_name",
        "kind",
        "masked_id_number",
        "masked_phone",
        "org_name",
        "is_active",
        "last_login",
    ]
    list_filter = ["kind", "is_active", LockedFilter, "must_change_password", "is_superuser"]
    search_fields = ["username", "real_name", "org_name", "phone", "id_number", "uscc"]
    ordering = ["username"]
    inlines = [MembershipInline]
    change_password_form = AdminResetPasswordForm
    actions = ["unlock_accounts"]
    readonly_fields = ["password_changed_at", "last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("username", "password", "kind")}),
        (
            _("身份信息"),
            {"fields": ("real_name", "id_number", "phone", "email")},
        ),
        (_("法人信息"), {"fields": ("org_name", "uscc", "legal_representative")}),
        (
            _("安全"),
            {
                "fields": (
                    "is_active",
                    "must_change_password",
                    "password_changed_at",
                    "last_login",
                    "date_joined",
                )
            },
        ),
        (_("权限"), {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "kind", "usable_password", "password1", "password2")}),
        (_("身份信息"), {"fields": ("real_name", "id_number", "phone")}),
    )

    @admin.display(description=_("姓名"))
    def masked_name(self, obj: User) -> str:
        return mask_name(obj.real_name)

    @admin.display(description=_("公民身份号码"))
    def masked_id_number(self, obj: User) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description=_("手机号码"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The edit form shows ID number and phone in full: an unmasked view, logged with
        # the administrator's purpose like every other (DESIGN "Rules that hold everywhere").
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            obj = self.get_object(request, object_id)
            if obj is not None and (obj.id_number or obj.phone):
                record(
                    action=AuditAction.VIEW_UNMASKED,
                    obj=obj,
                    reason=gettext("系统管理：打开账户编辑页（显示完整身份证号、手机号）"),
                )
        return response

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not change:
            # An account an administrator created has a password someone else knows.
            obj.must_change_password = True
        super().save_model(request, obj, form, change)

    @admin.action(description=_("解除所选账户的登录锁定"))
    def unlock_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        lifted = sum(
            lockout.unlock(actor=request.user, user=user, reason=gettext("（管理员操作）"))
            for user in queryset
        )
        self.message_user(
            request, gettext("已解除 %(n)d 个登录锁定。") % {"n": lifted}, messages.SUCCESS
        )


@admin.register(LoginLock)
class LoginLockAdmin(admin.ModelAdmin):
    list_display = [
        "scope",
        "user",
        "ip",
        "locked_at",
        "locked_until",
        "unlocked_at",
        "unlocked_by",
    ]
    list_filter = ["scope"]
    search_fields = ["user__username", "ip"]
    actions = ["lift"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("解除所选锁定"), permissions=["view"])
    def lift(self, request: HttpRequest, queryset: QuerySet[LoginLock]) -> None:
        lifted = sum(
            lockout.unlock(
                actor=request.user, user=lock.user, ip=lock.ip, reason=gettext("（管理员操作）")
            )
            for lock in queryset
        )
        self.message_user(
            request, gettext("已解除 %(n)d 个登录锁定。") % {"n": lifted}, messages.SUCCESS
        )


@admin.register(LoginAttempt)
class LoginAttemptAdmin(admin.ModelAdmin):
    list_display = ["created_at", "identifier", "user", "ip", "method", "succeeded"]
    list_filter = ["method", "succeeded"]
    search_fields = ["identifier", "ip", "user__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
