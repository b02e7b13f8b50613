"""Background import of an uploaded batch (django-tasks; the backend is settings.TASKS)."""

from __future__ import annotations

from django_tasks import task

from .imports import run_stored_batch


@task()
def run_import(batch_id: int) -> str:
    return run_stored_batch(batch_id).status
