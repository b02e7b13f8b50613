"""Admin for the audit log: read-only; nobody adds, changes or deletes rows here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models import AuditEntry


class ActorFilter(admin.SimpleListFilter):
    """Staff accounts (Django's is_staff), plus entries with no account (system, anonymous).

    Not every account: citizens number in the hundred thousands; find their entries by
    searching the actor's name instead.
    """

    title = _("操作人")
    parameter_name = "actor"
    _NONE = "none"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        staff = get_user_model().objects.filter(is_staff=True).order_by("username")[:500]
        return [(self._NONE, _("系统或匿名")), *((str(u.pk), str(u)) for u in staff)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == self._NONE:
            return queryset.filter(actor_pk__isnull=True)
        if value and value.isdigit():
            return queryset.filter(actor_id=int(value))  # indexed, unlike actor_pk
        return queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    list_display = [
        "seq",
        "occurred_at",
        "action",
        "actor_label",
        "content_type",
        "object_repr",
        "ip",
        "request_id",
    ]
    list_filter = [
        "action",
        ("occurred_at", admin.DateFieldListFilter),
        ActorFilter,
    ]
    search_fields = ["=request_id", "=object_id", "object_repr", "actor_label"]
    list_select_related = ["content_type"]
    date_hierarchy = "occurred_at"
    # The chain grows to millions of rows: no COUNT(*) of the whole table per page.
    show_full_result_count = False
    readonly_fields = [
        "seq",
        "occurred_at",
        "actor",
        "actor_pk",
        "actor_label",
        "request_id",
        "ip",
        "action",
        "content_type",
        "object_id",
        "object_repr",
        "before",
        "after",
        "extra",
        "reason",
        "prev_hash",
        "hash",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
