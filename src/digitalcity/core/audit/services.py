"""Append to the audit log and verify its hash chain.

Chain rule: row n stores `prev_hash` = hash of row n-1 (64 zeros for row 1) and
`hash` = SHA-256 of the canonical JSON of its own hashed fields, `prev_hash` included
(`entry_hash`). Canonical JSON: sorted keys, no spaces, UTF-8 (ensure_ascii=False),
timestamps in UTC ISO 8601 with microseconds, content types as "app_label.model",
integral floats written as integers (PostgreSQL jsonb gives 1.0 back as 1).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digitalcity.core import context
from digitalcity.core.models import AuditAction, AuditChainHead, AuditEntry

__all__ = [
    "GENESIS_HASH",
    "ChainProblem",
    "ProblemKind",
    "VerifyReport",
    "entry_hash",
    "iter_chain_problems",
    "json_safe",
    "record",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
_CHUNK = 2000


class _AuditEncoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, FieldFile):
            return o.name
        if isinstance(o, bytes | memoryview):
            return f"<{len(o)} bytes>"
        if isinstance(o, set | frozenset):
            return sorted(o, key=str)
        try:
            return super().default(o)
        except TypeError:
            return str(o)  # a value we cannot type is still logged, as its text


def json_safe(value: Any) -> Any:
    """`value` as plain JSON data, exactly as it reads back from a JSONField on either database.

    Dates, decimals and UUIDs become strings (DjangoJSONEncoder); integral floats become
    ints, because PostgreSQL's jsonb returns 1.0 as 1 and the hash must not change.
    """
    return _normalize(json.loads(json.dumps(value, cls=_AuditEncoder, allow_nan=False)))


def _normalize(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    return value


def _content_type_label(content_type_id: int | None) -> str:
    if content_type_id is None:
        return ""
    ct = ContentType.objects.get_for_id(content_type_id)  # cached per process
    return f"{ct.app_label}.{ct.model}"


def entry_hash(entry: AuditEntry) -> str:
    """The SHA-256 (hex) an entry must carry, computed from its hashed fields."""
    payload = {
        "seq": entry.seq,
        "occurred_at": entry.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_pk": entry.actor_pk,
        "actor_label": entry.actor_label,
        "request_id": entry.request_id,
        "ip": entry.ip,
        "action": str(entry.action),
        "object_type": _content_type_label(entry.content_type_id),
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "before": _normalize(entry.before),
        "after": _normalize(entry.after),
        "extra": _normalize(entry.extra),
        "reason": entry.reason,
        "prev_hash": entry.prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _locked_head() -> AuditChainHead:
    """The chain head, locked until the caller's transaction ends (must be inside one)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # First append ever (or the head row was lost): start from the last row. Two
        # transactions may race here; ON CONFLICT DO NOTHING keeps one row, then both
        # queue on its lock.
        last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, last_hash = last if last else (0, GENESIS_HASH)
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(pk=1, last_seq=seq, last_hash=last_hash)], ignore_conflicts=True
        )
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def _object_repr(obj: models.Model) -> str:
    try:
        text = str(obj)
    except ObjectDoesNotExist:
        # __str__ of an object deleted in a cascade may reach a row already gone.
        text = f"{obj._meta.verbose_name} #{obj.pk}"
    return text[:200]


def record(
    *,
    action: AuditAction | str,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    actor: Any = None,
    extra: dict[str, Any] | None = None,
    link_actor: bool = True,
) -> AuditEntry:
    """Append one entry to the audit log inside the caller's transaction and return it.

    Who acted, the request id, the client IP and (unless given) the reason come from
    `digitalcity.core.context.current()`; an explicit `actor` (a user) overrides the
    context's user. `before`/`after`/`extra` must be JSON-serializable (DjangoJSONEncoder
    types allowed). `link_actor=False` keeps the actor's id and label but not the foreign
    key — for logging the deletion of the acting account itself.

    Appends are serialized on the chain head row until the caller commits, so keep
    audited transactions short. A rollback takes its entries back and leaves no gap.
    """
    ctx = context.current()
    if actor is not None:
        actor_pk = actor.pk
        actor_label = f"{actor} ({actor.get_username()})"
    else:
        actor_pk = ctx.user_id
        actor_label = ctx.actor_label
    entry = AuditEntry(
        occurred_at=timezone.now(),
        actor_id=actor_pk if link_actor else None,
        actor_pk=actor_pk,
        actor_label=actor_label[:200],
        request_id=ctx.request_id,
        ip=ctx.ip,
        action=AuditAction(action),
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=_object_repr(obj) if obj is not None else "",
        before=json_safe(before),
        after=json_safe(after),
        extra=json_safe(extra),
        reason=reason or ctx.reason,
    )
    with transaction.atomic():
        head = _locked_head()
        entry.seq = head.last_seq + 1
        entry.prev_hash = head.last_hash
        entry.hash = entry_hash(entry)
        entry.save(force_insert=True)
        head.last_seq, head.last_hash = entry.seq, entry.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return entry


class ProblemKind(models.TextChoices):
    EDITED = "edited", gettext_lazy("记录被修改")
    MISSING = "missing", gettext_lazy("记录缺失")
    BROKEN_LINK = "broken_link", gettext_lazy("链接断裂")
    ACTOR_CHANGED = "actor_changed", gettext_lazy("操作人被改动")
    HEAD_MISMATCH = "head_mismatch", gettext_lazy("链尾不符")


@dataclass(frozen=True)
class ChainProblem:
    kind: ProblemKind
    message: str  # Chinese, for people
    seq: int | None = None  # the row's position, or the first missing position
    entry_id: int | None = None


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _row_problem(kind: ProblemKind, message: str, entry: AuditEntry) -> ChainProblem:
    text = message % {"seq": entry.seq, "id": entry.pk}
    return ChainProblem(kind, text, seq=entry.seq, entry_id=entry.pk)


def iter_chain_problems(
    *, progress: Callable[[int], None] | None = None, report: VerifyReport | None = None
) -> Iterator[ChainProblem]:
    """Walk the whole chain in `seq` order, streaming, and yield every problem found.

    Finds: a row whose content no longer matches its hash (edited, or forged without
    recomputing); positions missing from the sequence (deleted rows); a row whose
    `prev_hash` is not the previous row's hash with no gap between them (a row inserted,
    replaced or re-hashed); an `actor` link that disagrees with `actor_pk`; and a tail
    that disagrees with the chain head (rows deleted at the end or appended outside
    `record`). `progress(n)` is called after every n rows; `report.checked` is kept.
    """
    expected_seq, prev_hash = 1, GENESIS_HASH
    last_id: int | None = None
    rows = AuditEntry.objects.order_by("seq").iterator(chunk_size=_CHUNK)
    checked = 0
    for entry in rows:
        if entry.seq > expected_seq:
            yield ChainProblem(
                ProblemKind.MISSING,
                _("第 %(first)d 至 %(last)d 条记录缺失（被删除），缺口位于记录 #%(id)d 之前。")
                % {"first": expected_seq, "last": entry.seq - 1, "id": entry.pk},
                seq=expected_seq,
                entry_id=entry.pk,
            )
        elif entry.prev_hash != prev_hash:
            yield _row_problem(
                ProblemKind.BROKEN_LINK,
                _("第 %(seq)d 条记录（#%(id)d）与前一条不衔接：被插入、替换或重新计算过哈希。"),
                entry,
            )
        if entry_hash(entry) != entry.hash:
            yield _row_problem(
                ProblemKind.EDITED,
                _("第 %(seq)d 条记录（#%(id)d）的内容与其哈希不符：记录被修改或伪造。"),
                entry,
            )
        if entry.actor_id is not None and entry.actor_id != entry.actor_pk:
            yield _row_problem(
                ProblemKind.ACTOR_CHANGED,
                _("第 %(seq)d 条记录（#%(id)d）的操作人链接被改为其他账户。"),
                entry,
            )
        # A row whose seq was lowered (caught above as edited) must not move the count back.
        expected_seq = max(expected_seq, entry.seq + 1)
        prev_hash, last_id = entry.hash, entry.pk
        checked += 1
        if report is not None:
            report.checked = checked
        if progress is not None and checked % _CHUNK == 0:
            progress(_CHUNK)
    if progress is not None:
        progress(checked % _CHUNK)

    head = AuditChainHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is None:
        if last_seq:
            yield ChainProblem(ProblemKind.HEAD_MISMATCH, _("审计链头丢失，无法确认链尾是否完整。"))
    elif head.last_seq > last_seq:
        yield ChainProblem(
            ProblemKind.HEAD_MISMATCH,
            _("末尾第 %(first)d 至 %(last)d 条记录缺失（被删除）。")
            % {"first": last_seq + 1, "last": head.last_seq},
            seq=last_seq + 1,
        )
    elif head.last_seq < last_seq or head.last_hash != prev_hash:
        yield ChainProblem(
            ProblemKind.HEAD_MISMATCH,
            _("链尾第 %(seq)d 条记录（#%(id)d）与审计链头不符：有记录未经审计服务追加或被替换。")
            % {"seq": last_seq, "id": last_id},
            seq=last_seq,
            entry_id=last_id,
        )


def verify_chain(*, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Check the whole chain (see `iter_chain_problems`) and return every problem found."""
    report = VerifyReport()
    report.problems.extend(iter_chain_problems(progress=progress, report=report))
    return report
