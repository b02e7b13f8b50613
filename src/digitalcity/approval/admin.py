"""Admin: the item catalog is edited here (and by Excel, see the 事项清单 workbench page
and its admin action); applications and licences are read only — they are written by
approval.services, never by hand."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from digitalcity.identity.masking import mask_id_number, mask_name

from .catalog import export_catalog
from .models import Application, ApplicationMaterial, Item, ItemMaterial, Licence
from .services import material_set_template


class ItemMaterialForm(forms.ModelForm[ItemMaterial]):
    """A material row; its template (样表) is uploaded here and stored by the service
    (checked by content, purpose approval-template, public)."""

    template_upload = forms.FileField(
        label=_("上传样表"),
        required=False,
        help_text=_("PDF、Word、Excel 或 OFD 文件，公开供申请人下载"),
    )
    template_clear = forms.BooleanField(label=_("删除样表"), required=False)

    class Meta:
        model = ItemMaterial
        fields = ["order", "code", "name", "required", "shared"]


class ItemMaterialInline(admin.TabularInline):
    model = ItemMaterial
    form = ItemMaterialForm
    extra = 0
    fields = [
        "order",
        "code",
        "name",
        "required",
        "shared",
        "template_link",
        "template_upload",
        "template_clear",
    ]
    readonly_fields = ["template_link"]

    @admin.display(description=_("样表"))
    def template_link(self, obj: ItemMaterial) -> str:
        if obj.template_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("core:download_file", args=[obj.template_id]),
            obj.template.original_name if obj.template else obj.template_id,
        )


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "lead_department",
        "applicant_kind",
        "kind",
        "legal_days",
        "promised_days",
        "visits",
        "online",
        "is_active",
    ]
    list_filter = ["kind", "applicant_kind", "visits", "online", "is_active", "lead_department"]
    search_fields = ["code", "name", "legal_basis"]
    filter_horizontal = ["co_departments"]
    inlines = [ItemMaterialInline]
    actions = ["export_xlsx"]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is not ItemMaterial:
            return
        for row in formset.forms:
            material = row.instance
            if material.pk is None or not hasattr(row, "cleaned_data"):
                continue
            upload = row.cleaned_data.get("template_upload")
            if not upload and not row.cleaned_data.get("template_clear"):
                continue
            try:
                material_set_template(material=material, actor=request.user, upload=upload)
            except ValidationError as exc:
                messages.error(
                    request,
                    _("“%(m)s”的样表未保存：%(e)s")
                    % {"m": material.name, "e": "；".join(exc.messages)},
                )

    @admin.action(description=_("导出所选事项（Excel）"))
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Item]) -> HttpResponse:
        response = HttpResponse(
            export_catalog(queryset),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = 'attachment; filename="approval-items.xlsx"'
        return response


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ApplicationMaterialInline(admin.TabularInline):
    model = ApplicationMaterial
    extra = 0
    readonly_fields = ["material", "file", "shared", "added_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(_ReadOnly):
    list_display = ["__str__", "item", "masked_applicant", "channel", "submitted_at"]
    list_filter = ["channel", "item"]
    search_fields = ["case__number"]
    exclude = ["applicant_name", "applicant_number", "applicant_phone"]
    readonly_fields = ["masked_applicant", "masked_number"]
    inlines = [ApplicationMaterialInline]

    @admin.display(description=_("申请人"))
    def masked_applicant(self, obj: Application) -> str:
        return mask_name(obj.applicant_name)

    @admin.display(description=_("证件号码"))
    def masked_number(self, obj: Application) -> str:
        return mask_id_number(obj.applicant_number)


@admin.register(Licence)
class LicenceAdmin(_ReadOnly):
    list_display = [
        "number",
        "item",
        "masked_holder",
        "department",
        "issued_on",
        "valid_until",
        "status",
    ]
    list_filter = ["status", "item", "department"]
    search_fields = ["number"]
    exclude = ["holder_name", "holder_number", "verify_token"]

    @admin.display(description=_("持证人"))
    def masked_holder(self, obj: Licence) -> str:
        return mask_name(obj.holder_name)
