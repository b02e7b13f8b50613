"""Change logging as infrastructure (STYLE.md 3): every AuditedMixin model is logged.

Creates, updates (changed fields only, before and after) and deletes go to the audit
log with the actor, request id, IP and reason of `digitalcity.core.context.current()`.
Forward many-to-many changes (`user.groups.add(...)`) are logged as updates of the
field. Fields in the model's `audit_exclude` are logged as changed but never valued.

Not logged, by design of Django's signals: `QuerySet.update()`, `bulk_create()` and
`bulk_update()`; a service doing bulk edits on an audited model calls `record` itself.
Fixture loads (`raw`) are not logged either.

Handlers are connected per model (not to all senders) so models outside the audit
keep Django's fast deletes.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from digitalcity.core import context
from digitalcity.core.audit.services import record
from digitalcity.core.models import AuditAction
from digitalcity.core.models.base import AuditedMixin

__all__ = ["REDACTED", "connect_model", "snapshot"]

REDACTED = "<changed>"
_BEFORE = "_audit_before"
_M2M_BEFORE = "_audit_m2m_before"


def _value(field: models.Field[Any, Any], instance: models.Model) -> Any:
    value = field.value_from_object(instance)
    try:
        # Compare what the database holds, not what was assigned ("5" vs 5).
        return field.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return value  # unparsable, but still worth logging as it was


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The instance's concrete field values by attribute name (`department_id`, not objects)."""
    return {f.attname: _value(f, instance) for f in instance._meta.concrete_fields}


def _redact(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    excluded = set(getattr(model, "audit_exclude", ()))
    names = {f.attname: f.name for f in model._meta.concrete_fields}
    return {k: (REDACTED if names.get(k, k) in excluded else v) for k, v in values.items()}


def _auto_now(model: type[models.Model]) -> set[str]:
    """Columns whose change alone is not an edit: auto_now stamps and `audit_ignore`."""
    ignored = set(getattr(model, "audit_ignore", ()))
    return {
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or f.name in ignored
    }


def _saved_attnames(model: type[models.Model], update_fields: Any) -> list[str]:
    """The columns this save writes: save(update_fields=...) leaves the others alone."""
    fields = model._meta.concrete_fields
    if update_fields is None:
        return [f.attname for f in fields]
    wanted = set(update_fields)
    return [f.attname for f in fields if f.name in wanted or f.attname in wanted]


def _pre_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if kwargs.get("raw") or instance._state.adding or instance.pk is None:
        return
    attnames = _saved_attnames(sender, kwargs.get("update_fields"))
    stored = sender._base_manager.using(kwargs.get("using")).filter(pk=instance.pk)
    setattr(instance, _BEFORE, stored.values(*attnames).first())


def _post_save(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    if kwargs.get("raw"):
        return
    before = instance.__dict__.pop(_BEFORE, None)
    after = snapshot(instance)
    if created or before is None:
        record(action=AuditAction.CREATE, obj=instance, after=_redact(sender, after))
        return
    ignored = _auto_now(sender)
    changed = [k for k, v in before.items() if k not in ignored and after[k] != v]
    if not changed:
        return
    record(
        action=AuditAction.UPDATE,
        obj=instance,
        before=_redact(sender, {k: before[k] for k in changed}),
        after=_redact(sender, {k: after[k] for k in changed}),
    )


def _post_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    # The acting account deleting itself: keep its id and name but no foreign key to a
    # row that is gone by commit time.
    deleting_self = (
        isinstance(instance, get_user_model()) and instance.pk == context.current().user_id
    )
    record(
        action=AuditAction.DELETE,
        obj=instance,
        before=_redact(sender, snapshot(instance)),
        link_actor=not deleting_self,
    )


def _m2m_values(instance: models.Model, field_name: str) -> list[Any]:
    manager = getattr(instance, field_name)
    return sorted(manager.values_list("pk", flat=True))


def _make_m2m_handler(model: type[models.Model], field_name: str) -> Any:
    def handler(instance: models.Model, action: str, reverse: bool, **kwargs: Any) -> None:
        # Only the side that declares the field; the other side's model may not be audited.
        if reverse or not isinstance(instance, model):
            return
        pending: dict[str, list[Any]] = instance.__dict__.setdefault(_M2M_BEFORE, {})
        if action.startswith("pre_"):
            pending[field_name] = _m2m_values(instance, field_name)
            return
        if not action.startswith("post_") or field_name not in pending:
            return
        before, after = pending.pop(field_name), _m2m_values(instance, field_name)
        if before != after:
            record(
                action=AuditAction.UPDATE,
                obj=instance,
                before=_redact(model, {field_name: before}),
                after=_redact(model, {field_name: after}),
            )

    return handler


def connect_model(model: type[models.Model]) -> None:
    """Connect the audit handlers to one model (done for every AuditedMixin model at start)."""
    uid = f"audit:{model._meta.label}"
    pre_save.connect(_pre_save, sender=model, dispatch_uid=f"{uid}:pre_save")
    post_save.connect(_post_save, sender=model, dispatch_uid=f"{uid}:post_save")
    post_delete.connect(_post_delete, sender=model, dispatch_uid=f"{uid}:post_delete")
    for m2m in model._meta.many_to_many:
        through = m2m.remote_field.through
        m2m_changed.connect(
            _make_m2m_handler(model, m2m.name),
            sender=through,
            weak=False,
            dispatch_uid=f"{uid}:m2m:{m2m.name}",
        )


for _model in apps.get_models():
    if issubclass(_model, AuditedMixin):
        connect_model(_model)
