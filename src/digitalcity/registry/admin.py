"""Admin: sources and rules are edited here; records, batches and golden rows are read only
(they are written by the import and golden-record services, never by hand)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from digitalcity.identity.masking import mask_id_number, mask_name

from .models import (
    Conflict,
    FieldRule,
    ImportBatch,
    LinkCandidate,
    Organization,
    Person,
    Source,
    SourceRecord,
)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "department", "entity", "key_field", "active"]
    list_filter = ["entity", "active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["department"]
    exclude = ["api_token_hash"]


@admin.register(FieldRule)
class FieldRuleAdmin(admin.ModelAdmin):
    list_display = ["entity", "field", "sources", "department"]
    list_filter = ["entity"]
    autocomplete_fields = ["department"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "source", "format", "status", "rows_total", "rows_failed", "created_at"]
    list_filter = ["status", "format", "source"]


@admin.register(SourceRecord)
class SourceRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "source", "batch", "masked_key", "key_valid", "is_current"]
    list_filter = ["source", "is_current", "key_valid", "link_method"]
    exclude = ["raw", "data"]

    @admin.display(description=_("主键"))
    def masked_key(self, obj: SourceRecord) -> str:
        return mask_id_number(obj.key)


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["masked_id", "masked_name", "birth_date", "status", "version"]
    list_filter = ["status"]
    # Searching by the full number is how staff find a person; the list stays masked.
    search_fields = ["=id_number"]
    fields = ["birth_date", "sex", "division", "status", "version", "updated_at"]

    @admin.display(description=_("公民身份号码"))
    def masked_id(self, obj: Person) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description=_("姓名"))
    def masked_name(self, obj: Person) -> str:
        return mask_name(obj.name)


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ["uscc", "name", "status", "tax_status", "version"]
    list_filter = ["status", "tax_status"]
    search_fields = ["=uscc", "name", "=org_code"]


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyAdmin):
    list_display = ["id", "entity", "field", "other_source", "department", "state", "created_at"]
    list_filter = ["state", "entity", "department"]


@admin.register(LinkCandidate)
class LinkCandidateAdmin(ReadOnlyAdmin):
    list_display = ["id", "record", "person", "probability", "state"]
    list_filter = ["state"]
