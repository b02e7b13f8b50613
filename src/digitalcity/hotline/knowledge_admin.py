"""Admin of the knowledge base, the dispatch models and the Open311 calling systems.

Imported by hotline/admin.py. Knowledge versions and their states change only through
the review services (knowledge.py), so versions are read-only here; the calling systems'
API keys are generated on creation (shown once) and never displayed again.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import (
    DispatchModel,
    KnowledgeCategory,
    KnowledgeEntry,
    KnowledgeVersion,
    Open311Client,
    Open311Submission,
)
from .open311.services import rotate_key


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(KnowledgeCategory)
class KnowledgeCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")


class VersionInline(admin.TabularInline):
    model = KnowledgeVersion
    fields = ("number", "title", "state", "valid_from", "valid_until", "author", "reviewer")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(KnowledgeEntry)
class KnowledgeEntryAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "category",
        "owner_department",
        "published",
        "use_count",
        "updated_at",
    )
    list_filter = ("category", "owner_department")
    search_fields = ("number", "versions__title")
    readonly_fields = ("number", "published", "created_by", "use_count")
    autocomplete_fields = ("owner_department",)
    inlines = [VersionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # entries are written on the knowledge pages (versions, review)


@admin.register(KnowledgeVersion)
class KnowledgeVersionAdmin(_ReadOnly):
    list_display = ("entry", "number", "title", "state", "valid_from", "valid_until", "author")
    list_filter = ("state",)
    search_fields = ("title", "entry__number")


@admin.register(DispatchModel)
class DispatchModelAdmin(_ReadOnly):
    list_display = ("version", "trained_at", "samples", "departments", "accuracy", "tested")
    exclude = ("vocabulary", "idf", "coef", "intercept", "classes")


@admin.action(description=gettext_lazy("更换接口密钥（旧密钥立即失效）"))
def rotate_keys(modeladmin: Any, request: HttpRequest, queryset: Any) -> None:
    for client in queryset:
        key = rotate_key(client=client)
        messages.warning(
            request, _("“%(n)s”的新密钥（仅显示这一次）：%(k)s") % {"n": client.name, "k": key}
        )


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "key_prefix",
        "jurisdiction_id",
        "rate_per_minute",
        "deferred",
        "is_active",
    )
    list_filter = ("is_active", "deferred")
    search_fields = ("name", "contact")
    readonly_fields = ("key_prefix",)
    actions = [rotate_keys]

    def save_model(self, request: HttpRequest, obj: Open311Client, form: Any, change: bool) -> None:
        if not change:
            # A new system gets its key here, shown once (only its hash is stored).
            import secrets

            from .models.knowledge import hash_api_key

            key = "o311_" + secrets.token_urlsafe(30)
            obj.key_prefix, obj.key_hash = key[:8], hash_api_key(key)
            super().save_model(request, obj, form, change)
            messages.warning(
                request, _("“%(n)s”的接口密钥（仅显示这一次）：%(k)s") % {"n": obj.name, "k": key}
            )
            return
        super().save_model(request, obj, form, change)


@admin.register(Open311Submission)
class Open311SubmissionAdmin(_ReadOnly):
    list_display = ("token", "client", "created_at", "intake_key", "processed_at", "error")
    list_filter = ("client",)
    search_fields = ("token", "intake_key")
    raw_id_fields = ("order",)
