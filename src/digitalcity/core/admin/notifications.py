"""Admin for notifications: what was sent to whom, and why a message failed.

Rows are written by the notification service only, so the page is read-only; the one
action puts failed messages back in the queue through that service.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digitalcity.core.models import Notification
from digitalcity.core.notifications.services import retry_now


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = (
        "created_at",
        "channel",
        "to",
        "recipient",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
    )
    list_filter = ("channel", "status")
    search_fields = ("=to", "subject", "=provider_message_id")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    actions = ["retry_selected"]
    readonly_fields = (
        "recipient",
        "to",
        "channel",
        "template",
        "subject",
        "shown_body",
        "sensitive",
        "link",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "provider_message_id",
        "created_at",
        "sent_at",
        "delivered_at",
        "read_at",
        "related_content_type",
        "related_object_id",
    )
    fields = readonly_fields

    @admin.display(description=gettext_lazy("正文"))
    def shown_body(self, obj: Notification) -> str:
        # A one-time code is not for staff eyes, even while it waits to be sent.
        return _("（含敏感内容，不显示）") if obj.sensitive else obj.body

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("立即重新发送失败的通知"), permissions=["change"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = retry_now(notification_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request, _("已重新排队 %(n)d 条失败的通知") % {"n": count}, messages.SUCCESS
        )
