"""Small writes of the registry outside imports and golden records."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction

from digitalcity.core.audit.services import record
from digitalcity.core.models import AuditAction

from .models import Source

__all__ = ["hash_token", "issue_push_token", "source_for_token"]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_push_token(*, source: Source, actor: Any = None) -> str:
    """A new API push token for `source` (the old one stops working). Only its hash is
    stored: the token is shown once, to whoever configures the department's system."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        Source.objects.filter(pk=source.pk).update(api_token_hash=hash_token(token))
        source.api_token_hash = hash_token(token)
        record(
            action=AuditAction.CUSTOM,
            obj=source,
            actor=actor if getattr(actor, "pk", None) else None,
            extra={"operation": "registry.issue_push_token"},
        )
    return token


def source_for_token(token: str) -> Source | None:
    if not token:
        return None
    return Source.objects.filter(api_token_hash=hash_token(token), active=True).first()
