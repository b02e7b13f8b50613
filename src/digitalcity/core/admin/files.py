"""Admin for uploaded files: view and download only.

Files enter through `digitalcity.core.files.store_upload`, which checks size and type;
an admin form would bypass those checks, and a row edited here would no longer match
its checksum. So nothing is added, changed or deleted from this page.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models import StoredFile


@admin.register(StoredFile)
class StoredFileAdmin(admin.ModelAdmin[StoredFile]):
    list_display = ("original_name", "kind", "size", "purpose", "uploaded_by", "uploaded_at")
    list_filter = ("kind", "purpose")
    search_fields = ("original_name", "=sha256")
    list_select_related = ("uploaded_by",)
    date_hierarchy = "uploaded_at"
    fields = (
        "original_name",
        "download",
        "kind",
        "content_type",
        "size",
        "sha256",
        "purpose",
        "uploaded_by",
        "uploaded_at",
    )
    readonly_fields = fields

    @admin.display(description=_("下载"))
    def download(self, obj: StoredFile) -> SafeString | str:
        if not obj.file:
            return "-"
        url = reverse("core:download_file", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StoredFile | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StoredFile | None = None) -> bool:
        return False
