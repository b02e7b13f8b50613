"""Admin for the working-day calendar: years with their days, and the notice import page.

Any edit made here marks the year as staff-owned (source "manual") so seeding from the
package never overwrites it; the audit log records each change (AuditedMixin).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digitalcity.core.calendar import workdays_in_year
from digitalcity.core.calendar_import import (
    NoticeImportError,
    RowError,
    import_notice,
    mark_year_edited,
    notice_template_xlsx,
    parse_notice_text,
)
from digitalcity.core.models import CalendarDay, CalendarSource, CalendarYear, CalendarYearStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CalendarDayInline(admin.TabularInline[CalendarDay, CalendarYear]):
    model = CalendarDay
    extra = 0
    fields = ("date", "kind", "holiday_name", "source")
    readonly_fields = ("source",)
    ordering = ("date",)


class CalendarDayYearFilter(admin.SimpleListFilter):
    title = gettext_lazy("年度")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = CalendarYear.objects.order_by("-year").values_list("year", flat=True)
        return [(str(y), str(y)) for y in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(calendar_year__year=int(value))
        return queryset


class NoticeImportForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年份"), min_value=2000, max_value=2100)
    notice_title = forms.CharField(
        label=gettext_lazy("通知标题"),
        max_length=200,
        help_text=gettext_lazy("如：国务院办公厅关于2027年部分节假日安排的通知"),
    )
    document_number = forms.CharField(
        label=gettext_lazy("文号"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("如：国办发明电〔2026〕7号"),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        choices=CalendarYearStatus.choices,
        initial=CalendarYearStatus.OFFICIAL,
    )
    file = forms.FileField(
        label=gettext_lazy("导入文件（.xlsx 或 .csv）"),
        required=False,
        help_text=gettext_lazy(
            "按模板填写；CSV 可为 UTF-8 或 GBK 编码。任何一行有错误则整个文件不导入。"
        ),
    )
    text = forms.CharField(
        label=gettext_lazy("或粘贴通知正文"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 90}),
        help_text=gettext_lazy(
            "如“一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。”"
        ),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("file")) == bool((data.get("text") or "").strip()):
            raise forms.ValidationError(_("请上传导入文件，或粘贴通知正文（二选一）"))
        return data


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin[CalendarYear]):
    list_display = (
        "year",
        "status",
        "source",
        "document_number",
        "notice_title",
        "imported_at",
        "imported_by",
    )
    list_filter = ("status", "source")
    search_fields = ("=year", "notice_title", "document_number")
    readonly_fields = ("source", "imported_at", "imported_by")
    inlines = (CalendarDayInline,)
    list_select_related = ("imported_by",)
    change_list_template = "admin/core/calendaryear/change_list.html"

    def save_formset(
        self,
        request: HttpRequest,
        form: Any,
        formset: BaseInlineFormSet[Any, Any, Any],
        change: bool,
    ) -> None:
        for inline_form in formset.forms:
            if inline_form.has_changed():
                inline_form.instance.source = CalendarSource.MANUAL
        super().save_formset(request, form, formset, change)

    def save_related(
        self, request: HttpRequest, form: Any, formsets: list[Any], change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        if form.has_changed() or any(fs.has_changed() for fs in formsets):
            mark_year_edited(calendar_year=form.instance)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="core_calendaryear_import",
            ),
            path(
                "import/template/<int:year>/",
                self.admin_site.admin_view(self.template_view),
                name="core_calendaryear_template",
            ),
        ]
        return own + super().get_urls()

    def template_view(self, request: HttpRequest, year: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = HttpResponse(notice_template_xlsx(year), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="calendar-{year}.xlsx"'
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        next_year = timezone.localdate().year + 1
        form = NoticeImportForm(
            request.POST or None,
            request.FILES or None,
            initial={
                "year": next_year,
                "notice_title": _("国务院办公厅关于%(y)s年部分节假日安排的通知") % {"y": next_year},
            },
        )
        row_errors: list[RowError] = []
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            upload = data.get("file")
            try:
                common: dict[str, Any] = {
                    "year": data["year"],
                    "notice_title": data["notice_title"],
                    "document_number": data["document_number"],
                    "status": CalendarYearStatus(data["status"]),
                    "actor": request.user,
                }
                if upload:
                    report = import_notice(file=upload.read(), filename=upload.name, **common)
                else:
                    rows = parse_notice_text(data["text"], year=data["year"])
                    report = import_notice(rows=rows, **common)
            except NoticeImportError as exc:
                row_errors = exc.row_errors
            else:
                count = workdays_in_year(report.year)
                self.message_user(
                    request,
                    _(
                        "已导入 %(y)s 年节假日安排：放假 %(h)d 天，调休上班 %(w)d 天"
                        "（替换原有 %(r)d 条）；全年工作日 %(n)d 天。"
                    )
                    % {
                        "y": report.year,
                        "h": report.holidays,
                        "w": report.makeup_workdays,
                        "r": report.replaced,
                        "n": count,
                    },
                    messages.SUCCESS,
                )
                year = CalendarYear.objects.get(year=report.year)
                return HttpResponseRedirect(
                    reverse("admin:core_calendaryear_change", args=[year.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("导入国务院办公厅节假日安排通知"),
            "opts": self.model._meta,
            "form": form,
            "row_errors": row_errors,
            "template_year": next_year,
        }
        return TemplateResponse(request, "admin/core/calendar_import.html", context)


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin[CalendarDay]):
    list_display = ("date", "kind", "holiday_name", "calendar_year", "source")
    list_filter = (CalendarDayYearFilter, "kind", "source")
    search_fields = ("holiday_name",)
    date_hierarchy = "date"
    list_select_related = ("calendar_year",)
    readonly_fields = ("source",)

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        edited = form.has_changed() or not change
        if edited:
            obj.source = CalendarSource.MANUAL
        super().save_model(request, obj, form, change)
        if edited:
            mark_year_edited(calendar_year=obj.calendar_year)

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        calendar_year = obj.calendar_year
        super().delete_model(request, obj)
        mark_year_edited(calendar_year=calendar_year)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        years = list(CalendarYear.objects.filter(days__in=queryset).distinct())
        super().delete_queryset(request, queryset)
        for calendar_year in years:
            mark_year_edited(calendar_year=calendar_year)
