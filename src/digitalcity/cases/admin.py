"""Read-only admin for the case engine: workflow rows change only through cases.services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Case, Clock, Event, Rating, Signal, Task, UrgeOrder


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    can_delete = False
    fields = ("spec", "department", "assignee", "state", "outcome", "created_at", "completed_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ClockInline(admin.TabularInline):
    model = Clock
    extra = 0
    can_delete = False
    fields = (
        "code",
        "task",
        "unit",
        "limit",
        "extended",
        "used",
        "state",
        "due_at",
        "signal_stage",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(_ReadOnly):
    list_display = [
        "number",
        "type_code",
        "subject",
        "state",
        "department",
        "opened_at",
        "closed_at",
    ]
    list_filter = ["type_code", "state", "channel"]
    search_fields = ["number", "subject"]
    inlines = [TaskInline, ClockInline]


@admin.register(Event)
class EventAdmin(_ReadOnly):
    list_display = ["case", "kind", "transition", "from_state", "to_state", "actor_label", "at"]
    list_filter = ["kind"]
    search_fields = ["case__number"]


@admin.register(Signal)
class SignalAdmin(_ReadOnly):
    list_display = ["case", "clock", "kind", "at", "due_at", "department"]
    list_filter = ["kind"]


@admin.register(UrgeOrder)
class UrgeOrderAdmin(_ReadOnly):
    list_display = ["case", "department", "state", "issued_at", "due_at"]
    list_filter = ["state"]


@admin.register(Rating)
class RatingAdmin(_ReadOnly):
    list_display = ["case", "round", "value", "via", "at"]
    list_filter = ["value", "via"]
