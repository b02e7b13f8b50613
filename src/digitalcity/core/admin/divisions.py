"""Admin for core divisions.

Rows loaded from the packages (sources gbt2260 and nbs) are read-only here: the next
`digitalcity divisions load` would overwrite an edit. Only `local` rows, which the city
maintains itself, can be added and edited; a new row is always `local`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models import Division, DivisionSource

_PACKAGE_FIELDS = ("code", "name", "level", "parent", "valid_from", "valid_until")


class CurrentFilter(admin.SimpleListFilter):
    title = _("现行有效")
    parameter_name = "current"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", str(_("现行"))), ("no", str(_("已撤销")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Division]) -> QuerySet[Division]:
        if self.value() == "yes":
            return queryset.filter(valid_until__isnull=True)
        if self.value() == "no":
            return queryset.filter(valid_until__isnull=False)
        return queryset


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin[Division]):
    list_display = ("code", "name", "level", "parent", "source", "valid_from", "valid_until")
    list_filter = ("level", "source", CurrentFilter)
    # `^code` searches by prefix, which is how codes are read (province → county → …).
    search_fields = ("^code", "name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    fields = ("code", "name", "level", "parent", "source", "valid_from", "valid_until")
    list_per_page = 100

    def get_readonly_fields(self, request: HttpRequest, obj: Division | None = None) -> Any:
        if obj is not None and obj.source != DivisionSource.LOCAL:
            return (*_PACKAGE_FIELDS, "source")
        return ("source",)

    def save_model(self, request: HttpRequest, obj: Division, form: Any, change: bool) -> None:
        if not change:
            obj.source = DivisionSource.LOCAL
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Division | None = None) -> bool:
        # Abolished divisions keep their row (valid_until) for old ID numbers; only
        # locally maintained rows may be deleted.
        if obj is not None and obj.source != DivisionSource.LOCAL:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> Any:
        # The bulk delete action would bypass the per-row rule above.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
