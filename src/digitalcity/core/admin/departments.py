"""Admin for departments, their positions and memberships, with Excel import/export."""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digitalcity.core.departments import (
    DepartmentImportError,
    export_departments,
    import_departments,
)
from digitalcity.core.models import Department, Membership, Position

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PositionInline(admin.TabularInline[Position, Department]):
    model = Position
    extra = 0
    fields = ("title", "is_head")


class MembershipInline(admin.TabularInline[Membership, Department]):
    model = Membership
    extra = 0
    fields = ("user", "position", "role", "is_active")
    raw_id_fields = ("user",)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "position":
            # Offer only the department's own positions (none yet on the add page).
            match = request.resolver_match
            department_id = match.kwargs.get("object_id") if match else None
            kwargs["queryset"] = (
                Position.objects.filter(department_id=department_id)
                if department_id
                else Position.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DepartmentImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel 文件（.xlsx）"),
        help_text=gettext_lazy(
            "格式与“导出 Excel”得到的文件相同；任何一行有错误则整个文件不导入。"
        ),
    )


def _xlsx_response(departments: QuerySet[Department] | None) -> HttpResponse:
    buffer = io.BytesIO()
    export_departments(buffer, departments=departments)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="departments-{stamp}.xlsx"'
    return response


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ("name", "short_name", "code", "kind", "division", "uscc", "is_active")
    list_filter = ("kind", "is_active", ("division", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "short_name", "code", "uscc")
    list_select_related = ("division",)
    raw_id_fields = ("division",)
    autocomplete_fields = ("parent",)
    inlines = (PositionInline, MembershipInline)
    actions = ("export_selected",)
    change_list_template = "admin/core/department/change_list.html"

    @admin.action(description=gettext_lazy("导出所选部门为 Excel"))
    def export_selected(self, request: HttpRequest, queryset: QuerySet[Department]) -> HttpResponse:
        return _xlsx_response(queryset)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="core_department_import",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="core_department_export",
            ),
        ]
        return own + super().get_urls()

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _xlsx_response(None)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        row_errors: list[str] = []
        form = DepartmentImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = import_departments(form.cleaned_data["file"])
            except DepartmentImportError as exc:
                row_errors = [str(e) for e in exc.row_errors]
            except ValidationError as exc:
                form.add_error("file", exc)
            else:
                self.message_user(
                    request,
                    _("导入完成：新建 %(c)d 个，更新 %(u)d 个，未变 %(n)d 个部门。")
                    % {
                        "c": len(result.created),
                        "u": len(result.updated),
                        "n": len(result.unchanged),
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:core_department_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("从 Excel 导入部门"),
            "opts": self.model._meta,
            "form": form,
            "row_errors": row_errors,
        }
        return TemplateResponse(request, "admin/core/department/import.html", context)
