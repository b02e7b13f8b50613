"""The task that sends one notification (django-tasks; the backend is settings.TASKS)."""

from __future__ import annotations

from django_tasks import task

from .delivery import deliver


@task()
def send_notification(notification_id: int) -> str:
    return deliver(notification_id=notification_id)
