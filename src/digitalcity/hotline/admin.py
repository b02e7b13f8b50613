"""Admin for the information office: categories, deadline rules, the catalogue, orders."""

from __future__ import annotations

from django.contrib import admin

from .models import (
    Call,
    Callback,
    CatalogueRule,
    CatalogueVersion,
    Category,
    DeadlineRule,
    ExtensionRequest,
    Reminder,
    SmsMessage,
    WorkOrder,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "keywords")
    raw_id_fields = ("parent",)


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    list_display = ("request_type", "urgency", "amount", "unit", "sign_hours", "is_active", "note")
    list_filter = ("unit", "is_active")


class CatalogueRuleInline(admin.TabularInline):
    model = CatalogueRule
    extra = 0
    raw_id_fields = ("category", "division", "lead")
    filter_horizontal = ("co_handlers",)
    # A version is immutable once published: a change is a new version (services.catalogue).
    can_delete = False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(CatalogueVersion)
class CatalogueVersionAdmin(admin.ModelAdmin):
    list_display = ("number", "valid_from", "note", "created_by")
    inlines = (CatalogueRuleInline,)
    readonly_fields = ("number", "created_by")


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = ("case", "request_type", "urgency", "category", "channel", "created_at")
    list_filter = ("request_type", "urgency", "channel")
    search_fields = ("case__number", "description", "address")
    raw_id_fields = (
        "case",
        "category",
        "caller",
        "division",
        "lead_department",
        "merged_into",
        "received_by",
    )
    # Workflow state changes go through services, not the admin.
    readonly_fields = ("case", "lead_department", "reply", "replied_at", "merged_into")


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(admin.ModelAdmin):
    list_display = ("order", "department", "amount", "unit", "state", "created_at")
    list_filter = ("state",)


@admin.register(Callback)
class CallbackAdmin(admin.ModelAdmin):
    list_display = ("order", "round", "solved", "value", "department", "at")
    list_filter = ("solved", "value")


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("order", "by", "notified", "at")
    raw_id_fields = ("order",)


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("call_id", "state", "agent", "started_at", "order")
    list_filter = ("state",)


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ("gateway_id", "received_at", "order", "error")


from . import knowledge_admin  # noqa: E402, F401 - KB, dispatch models, Open311 systems
