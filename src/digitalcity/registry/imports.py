"""Imports: a source's file or API push becomes one batch, validated whole and committed
whole or not at all (issue 5 "Sources and imports"; core.imports for the error shape).

`import_file(source=, path=, …)` and `import_rows(source=, rows=, …)` run a batch to its
end; `create_upload_batch` + `run_batch` split the same for the staff pages (the upload
stores the file, a task runs the batch, the page polls the progress).

Steps of `run_batch`:
1. Read the table (readers: CSV encoding detected, Excel, JSON) and check the headers
   against the source's mapping: a missing or an extra column refuses the batch.
2. Validate every row with the core validators (fields.parse_value) and stream the good
   rows into a temporary staging table (COPY on PostgreSQL, executemany on SQLite), in
   autocommit chunks so the progress shows. A key that is not a valid ID number / credit
   code is not an error: the row is kept without a key for linkage, with a warning.
3. Find duplicates in SQL: the same row twice, or the same key twice with different
   content. Any error so far: the batch is refused with its per-row report; nothing of
   it reaches the registry.
4. In one transaction: merge the staging rows into SourceRecord (unchanged rows only
   move their batch pointer; a changed row is a new version superseding the old), then
   build the golden records of the subjects the batch touched (registry.golden).

Re-importing content already loaded for the source (same SHA-256) returns the loaded
batch and changes nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.core.imports import ImportRefused, RowError
from digitalcity.core.models import Division, StoredFile

from . import golden
from .bulk import analyze_if_grown, db_value, dumps, reserve_ids, staging_table, write_rows
from .choices import BatchFormat, BatchStatus, Entity, LinkMethod
from .fields import FIELDS, FieldSpec, ParseContext, parser_for
from .models import ImportBatch, Organization, Source, SourceRecord
from .readers import Table, read_rows, rows_from_objects

__all__ = [
    "MAX_REPORTED",
    "Progress",
    "batch_row_errors",
    "create_upload_batch",
    "import_file",
    "import_rows",
    "run_batch",
    "run_stored_batch",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total) — the CLI's tqdm bars; stage "validate" counts rows,
"golden" counts the golden records built (in percent)."""

MAX_REPORTED = 1000  # problems kept in the report; the counts stay exact
STAGE = "registry_stage_rows"
STAGE_COLUMNS = (
    ("row_no", "int"),
    ("key", "text"),
    ("key_valid", "bool"),
    ("row_hash", "text"),
    ("raw", "json"),
    ("data", "json"),
)
STAGE_KEYS = "registry_stage_keys"
STAGE_WRITE = ("row_no", "key", "key_valid", "row_hash", "raw", "data")
STAGE_CHUNK = 20000
# What lookups of source records filter on (ANALYZE samples these, not the JSON).
RECORD_LOOKUP_COLUMNS = (
    "key",
    "key_valid",
    "is_current",
    "source_id",
    "batch_id",
    "row_hash",
    "person_id",
    "organization_id",
)
_TEXT_SPEC = FieldSpec("text", "", "text", max_length=500)


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _loaded(source: Source, sha256: str) -> ImportBatch | None:
    return ImportBatch.objects.filter(
        source=source, file_sha256=sha256, status=BatchStatus.LOADED
    ).first()


def _kind_of(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    return {"xls": "xls", "xlsx": "xlsx", "csv": "csv", "txt": "csv", "json": "json"}.get(
        suffix, suffix
    )


def import_file(
    *,
    source: Source,
    path: Path,
    actor: Any = None,
    data_date: datetime.date | None = None,
    stored: StoredFile | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    """Import the file at `path` for `source` and return its batch (loaded or refused).

    The same content already loaded for this source: that batch is returned, nothing
    changes. `data_date` (default today) is the day the extract describes; the golden
    record's new versions are valid from it.
    """
    sha256 = _sha256_file(path)
    loaded = _loaded(source, sha256)
    if loaded is not None:
        return loaded
    kind = _kind_of(stored.original_name if stored else path.name)
    batch = ImportBatch.objects.create(
        source=source,
        file=stored,
        file_sha256=sha256,
        format=kind if kind in BatchFormat.values else BatchFormat.CSV,
        data_date=data_date or timezone.localdate(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    headers = list(source.mapping)
    run_batch(batch=batch, table=lambda: read_rows(path, kind, headers), progress=progress)
    return batch


def import_rows(
    *,
    source: Source,
    rows: list[Any],
    actor: Any = None,
    data_date: datetime.date | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    """An API push: `rows` is a list of objects keyed by the source's column headers."""
    sha256 = hashlib.sha256(dumps(rows).encode()).hexdigest()
    loaded = _loaded(source, sha256)
    if loaded is not None:
        return loaded
    batch = ImportBatch.objects.create(
        source=source,
        file_sha256=sha256,
        format=BatchFormat.API,
        encoding="UTF-8",
        data_date=data_date or timezone.localdate(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    headers = list(source.mapping)
    run_batch(batch=batch, table=lambda: rows_from_objects(rows, headers), progress=progress)
    return batch


def create_upload_batch(
    *, source: Source, stored: StoredFile, actor: Any, data_date: datetime.date | None = None
) -> tuple[ImportBatch, bool]:
    """The pending batch of an uploaded file, or (the loaded batch, False) when the same
    content was loaded before. The caller runs it (`run_stored_batch`, usually a task)."""
    loaded = _loaded(source, stored.sha256)
    if loaded is not None:
        return loaded, False
    kind = _kind_of(stored.original_name)
    batch = ImportBatch.objects.create(
        source=source,
        file=stored,
        file_sha256=stored.sha256,
        format=kind if kind in BatchFormat.values else BatchFormat.CSV,
        data_date=data_date or timezone.localdate(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    return batch, True


def run_stored_batch(batch_id: int) -> ImportBatch:
    """Run a pending batch whose file is a StoredFile (from the storage, whatever it is:
    the file is copied to a local temporary file first)."""
    batch = ImportBatch.objects.select_related("source", "file").get(pk=batch_id)
    if batch.status != BatchStatus.PENDING or batch.file is None:
        return batch
    loaded = _loaded(batch.source, batch.file_sha256)
    if loaded is not None:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.REFUSED,
            message=_("内容与已入库的批次 #%(id)d 相同，未作改动") % {"id": loaded.pk},
            finished_at=timezone.now(),
            progress=100,
        )
        batch.refresh_from_db()
        return batch
    suffix = Path(batch.file.original_name).suffix.lower()
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / f"upload{suffix}"
        with batch.file.file.open("rb") as src, local.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        headers = list(batch.source.mapping)
        kind = _kind_of(batch.file.original_name)
        run_batch(batch=batch, table=lambda: read_rows(local, kind, headers))
    return batch


# ---------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------


class _Report:
    """Errors and warnings of one batch, capped for storage, counted exactly."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.warnings: list[RowError] = []
        self.error_count = 0
        self.failed_rows: set[int] = set()

    def error(self, problem: RowError) -> None:
        self.error_count += 1
        self.failed_rows.add(problem.row)
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(problem)

    def warn(self, problem: RowError) -> None:
        if len(self.warnings) < MAX_REPORTED:
            self.warnings.append(problem)

    def as_json(self) -> list[dict[str, Any]]:
        return [
            {"row": e.row, "field": e.column, "rule": e.message, "level": level}
            for level, problems in (("error", self.errors), ("warning", self.warnings))
            for e in problems
        ]


def batch_row_errors(batch: ImportBatch) -> list[RowError]:
    """The batch's report as core RowErrors (for core.imports.error_report_xlsx)."""
    rows = []
    for item in batch.error_report:
        message = item["rule"]
        if item.get("level") == "warning":
            message = _("（警告，未拒绝）") + message
        rows.append(RowError(row=item["row"], column=item["field"], message=message))
    return rows


def _publish(batch: ImportBatch, **fields: Any) -> None:
    """Write batch progress so pollers see it even while the load transaction is open.

    Inside the transaction the write goes through another connection (a short thread:
    Django gives each thread its own connection). SQLite has one writer at a time, so
    there the in-transaction updates are skipped rather than waited for.
    """
    for name, value in fields.items():
        setattr(batch, name, value)
    if not connection.in_atomic_block:
        ImportBatch.objects.filter(pk=batch.pk).update(**fields)
        return
    if connection.vendor != "postgresql":
        return

    def write() -> None:
        try:
            ImportBatch.objects.filter(pk=batch.pk).update(**fields)
        finally:
            connections.close_all()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    thread.join()


def _throttled(
    batch: ImportBatch, *, start: int, span: int, report: Progress | None
) -> Callable[[int], None]:
    """A progress callback that publishes only every few percent (each publish inside the
    load transaction costs a connection); `report` (the CLI) hears every step."""
    last = [-100]

    def publish(pct: int) -> None:
        if report:
            report("golden", pct, 100)
        value = start + pct * span // 100
        if value >= last[0] + 3:
            last[0] = value
            _publish(batch, progress=value)

    return publish


def run_batch(
    *, batch: ImportBatch, table: Callable[[], Table], progress: Progress | None = None
) -> ImportBatch:
    """Validate and load `batch` (see the module docstring); returns it, loaded or refused.

    A refusal is a result, not an exception: the batch carries the per-row report. An
    unexpected error marks the batch failed and is raised again; nothing is half-loaded.
    """
    source = batch.source
    report = _Report()
    _publish(batch, status=BatchStatus.VALIDATING, started_at=timezone.now(), progress=1)
    try:
        if not source.active:
            raise ImportRefused(
                [RowError(0, _("来源"), _("数据来源「%(name)s」已停用") % {"name": source.name})]
            )
        read = table()
        _publish(batch, encoding=read.encoding[:20])
        with staging_table(STAGE, STAGE_COLUMNS) as stage:
            counts = _validate_and_stage(batch, source, read, stage, report, progress)
            if not report.error_count:
                _find_duplicates(stage, source, report)
            if report.error_count:
                return _refuse(batch, report, counts)
            _publish(batch, status=BatchStatus.LOADING, progress=60)
            with transaction.atomic():
                golden.lock_entity(source.entity)
                again = _loaded(source, batch.file_sha256)
                if again is not None:
                    report.error(
                        RowError(
                            0, _("文件"), _("内容与已入库的批次 #%(id)d 相同") % {"id": again.pk}
                        )
                    )
                    return _refuse(batch, report, counts)
                merged, keys, reserved = _merge(batch, stage)
                _publish(batch, progress=70)
                golden.apply_batch(
                    batch=batch,
                    keys=keys,
                    reserved=reserved,
                    progress=_throttled(batch, start=70, span=29, report=progress),
                )
                ImportBatch.objects.filter(pk=batch.pk).update(
                    status=BatchStatus.LOADED,
                    encoding=batch.encoding,
                    started_at=batch.started_at,
                    rows_total=counts[0],
                    rows_ok=counts[0],
                    rows_failed=0,
                    rows_new=merged["new"],
                    rows_changed=merged["changed"],
                    rows_unchanged=merged["same"],
                    error_report=report.as_json(),
                    message=_loaded_message(counts, merged, report),
                    progress=100,
                    finished_at=timezone.now(),
                )
    except ImportRefused as refused:
        for problem in refused.row_errors:
            report.error(problem)
        return _refuse(batch, report, (0, 0))
    except Exception:
        logger.exception("registry batch %s failed", batch.pk)
        close_old_connections()
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.FAILED,
            message=_("导入出错，未写入任何数据；请联系系统管理员查看日志"),
            finished_at=timezone.now(),
        )
        raise
    batch.refresh_from_db()
    return batch


def _loaded_message(counts: tuple[int, int], merged: dict[str, int], report: _Report) -> str:
    text = _("共 %(total)d 行：新增 %(new)d，变更 %(changed)d，未变 %(same)d") % {
        "total": counts[0],
        "new": merged["new"],
        "changed": merged["changed"],
        "same": merged["same"],
    }
    if counts[1]:
        text += _("；15 位身份证号升位 %(n)d 个") % {"n": counts[1]}
    if report.warnings:
        text += _("；警告 %(n)d 条（无有效主键的记录待关联）") % {"n": len(report.warnings)}
    return text


def _refuse(batch: ImportBatch, report: _Report, counts: tuple[int, int]) -> ImportBatch:
    failed = len(report.failed_rows - {0})
    total = max(counts[0], failed)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.REFUSED,
        encoding=batch.encoding,
        started_at=batch.started_at,
        rows_total=total,
        rows_ok=max(total - failed, 0),
        rows_failed=failed,
        error_report=report.as_json(),
        message=_("批次被拒绝，未写入任何数据：%(n)d 个问题，见错误报告")
        % {"n": report.error_count},
        progress=100,
        finished_at=timezone.now(),
    )
    batch.refresh_from_db()
    return batch


# ---------------------------------------------------------------------------
# Validation and staging
# ---------------------------------------------------------------------------


def _context(source: Source) -> ParseContext:
    ctx = ParseContext(
        today=timezone.localdate(),
        division_codes=frozenset(Division.objects.values_list("code", flat=True)),
    )
    if source.entity == Entity.ORGANIZATION:
        ctx.org_code_to_uscc = dict(
            Organization.objects.exclude(org_code="").values_list("org_code", "uscc")
        )
    return ctx


def _check_headers(source: Source, read: Table, report: _Report) -> None:
    mapping = source.mapping
    seen: set[str] = set()
    for header in read.headers:
        if header in seen:
            report.error(RowError(1, header, _("表头重复：同一列名出现两次")))
        seen.add(header)
        if header not in mapping:
            report.error(
                RowError(
                    1,
                    header or _("（空列名）"),
                    _("多出列：不在来源「%(source)s」的字段映射中") % {"source": source.name},
                )
            )
    for header in mapping:
        if header not in seen:
            report.error(
                RowError(
                    1,
                    header,
                    _("缺少列：来源「%(source)s」的字段映射要求此列") % {"source": source.name},
                )
            )


def _validate_and_stage(
    batch: ImportBatch,
    source: Source,
    read: Table,
    stage: str,
    report: _Report,
    progress: Progress | None,
) -> tuple[int, int]:
    """Validate every row; stage the good ones while no error was found. Returns
    (rows read, 15-digit IDs upgraded)."""
    if batch.format != BatchFormat.API and batch.format != BatchFormat.JSON:
        _check_headers(source, read, report)
        if report.error_count:
            raise ImportRefused(report.errors)
    ctx = _context(source)
    normalise = _row_normaliser(source, ctx)
    total_hint = max(read.total, 1)
    buffer: list[tuple[Any, ...]] = []
    rows = 0
    last_pct = 0

    def flush() -> None:
        if buffer and not report.error_count:
            write_rows(stage, STAGE_WRITE, buffer)
        buffer.clear()

    for row_no, raw, problems in read.rows:
        rows += 1
        for problem in problems:
            report.error(problem)
        if problems:
            continue
        staged = normalise(row_no, raw, report)
        if staged is not None and not report.error_count:
            buffer.append(staged)
        if len(buffer) >= STAGE_CHUNK:
            flush()
        if rows % 5000 == 0:
            if progress:
                progress("validate", rows, read.total)
            pct = min(59, 1 + rows * 58 // total_hint)
            if pct >= last_pct + 5:
                last_pct = pct
                _publish(batch, progress=pct)
    flush()
    if progress:
        progress("validate", rows, rows)
    if rows == 0:
        report.error(RowError(0, _("文件"), _("文件没有数据行")))
    return rows, ctx.upgraded


def _row_normaliser(
    source: Source, ctx: ParseContext
) -> Callable[[int, dict[str, str], _Report], tuple[Any, ...] | None]:
    specs = FIELDS[source.entity]
    key_field = source.key_field
    columns = [
        (header, field, specs.get(field, _TEXT_SPEC), parser_for(specs.get(field, _TEXT_SPEC)))
        for header, field in source.mapping.items()
    ]
    is_person = source.entity == Entity.PERSON
    key_label = next((h for h, f, _s, _p in columns if f == key_field), key_field)
    json_bool = db_value(True, "bool"), db_value(False, "bool")

    def normalise(row_no: int, raw: dict[str, str], report: _Report) -> tuple[Any, ...] | None:
        data: dict[str, str] = {}
        bad = False
        key: str | None = None
        for header, field, spec, parse in columns:
            value = (raw.get(header) or "").strip()
            if not value:
                continue
            if field == key_field:
                try:
                    key = parse(spec, value, ctx)
                    data[field] = key
                except ValidationError as exc:  # a key problem is a warning, not an error
                    data[field] = value.upper()
                    report.warn(
                        RowError(row_no, header, _message(exc) + _("；该行作为无主键记录待关联"))
                    )
                continue
            try:
                data[field] = parse(spec, value, ctx)
            except ValidationError as exc:
                report.error(RowError(row_no, header, _message(exc)))
                bad = True
        if key is None and not is_person and "org_code" in data:
            mapped = ctx.org_code_to_uscc.get(data["org_code"])
            if mapped:
                key = mapped
                data[key_field] = mapped
        if key is None and not data.get("name"):
            report.error(
                RowError(
                    row_no,
                    key_label,
                    _("没有有效的%(key)s，也没有名称（姓名）：无法关联到任何对象")
                    % {"key": key_label},
                )
            )
            bad = True
        if bad:
            return None
        text = dumps(data)
        row_hash = hashlib.sha256(text.encode()).hexdigest()
        return (
            row_no,
            key,
            json_bool[0] if key else json_bool[1],
            row_hash,
            dumps(raw),
            text,
        )

    return normalise


def _message(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    return "；".join(str(m) for m in messages) if messages else str(exc)


def _find_duplicates(stage: str, source: Source, report: _Report) -> None:
    key_label = next((h for h, f in source.mapping.items() if f == source.key_field), "")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.row_no, f.first_row FROM {stage} s JOIN ("  # noqa: S608 — our identifiers
            f"SELECT row_hash, MIN(row_no) AS first_row FROM {stage} GROUP BY row_hash "
            f"HAVING COUNT(*) > 1) f ON s.row_hash = f.row_hash "
            f"WHERE s.row_no <> f.first_row ORDER BY s.row_no"
        )
        for row_no, first in cursor.fetchall():
            report.error(
                RowError(
                    row_no, _("整行"), _("重复行：与第 %(first)d 行内容相同") % {"first": first}
                )
            )
        cursor.execute(
            f"SELECT s.row_no, f.first_row FROM {stage} s JOIN ("  # noqa: S608 — our identifiers
            f"SELECT key, MIN(row_no) AS first_row FROM {stage} WHERE key IS NOT NULL "
            f"GROUP BY key HAVING COUNT(*) > 1) f ON s.key = f.key "
            f"JOIN {stage} s0 ON s0.row_no = f.first_row "
            f"WHERE s.row_no <> f.first_row AND s.row_hash <> s0.row_hash ORDER BY s.row_no"
        )
        for row_no, first in cursor.fetchall():
            report.error(
                RowError(
                    row_no,
                    key_label,
                    _(
                        "主键重复：与第 %(first)d 行相同而其他内容不同，"
                        "同一批次中一个对象只能出现一次"
                    )
                    % {"first": first},
                )
            )


# ---------------------------------------------------------------------------
# Merge into the source records
# ---------------------------------------------------------------------------


def _merge(batch: ImportBatch, stage: str) -> tuple[dict[str, int], list[str], dict[str, int]]:
    """Staging rows → SourceRecord versions, all in SQL, without rewriting the staging
    rows. Returns the counts new/changed/same and the valid keys whose rows are new or
    changed (the golden records to rebuild)."""
    rec = SourceRecord._meta.db_table
    src = batch.source_id
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            # Temporary tables are never auto-analysed; the planner needs their size to
            # choose hash joins over nested loops.
            c.execute(f"ANALYZE {stage} (key, row_hash)")
        c.execute(
            f"SELECT COUNT(*) FROM {stage} s WHERE EXISTS (SELECT 1 FROM {rec} r "  # noqa: S608
            f"WHERE r.source_id = %s AND r.is_current AND r.row_hash = s.row_hash)",
            [src],
        )
        same = c.fetchone()[0]
        # A current version whose key comes again with other content is superseded.
        c.execute(
            f"UPDATE {rec} SET is_current = false WHERE source_id = %s AND is_current "  # noqa: S608
            f"AND key IN (SELECT key FROM {stage} WHERE key IS NOT NULL) "
            f"AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.row_hash = {rec}.row_hash)",
            [src],
        )
        changed = max(c.rowcount, 0)
        # Golden rows for keys the registry has not seen get their ids now, so that the
        # records are linked as they are inserted (no UPDATE of every new record after).
        spec = golden.SPECS[batch.source.entity]
        target = spec.model._meta.db_table
        c.execute(
            f"SELECT DISTINCT s.key FROM {stage} s WHERE s.key IS NOT NULL AND s.key_valid "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {target} g WHERE g.{spec.key} = s.key)"
        )
        new_keys = [row[0] for row in c.fetchall()]
        reserved = dict(zip(new_keys, reserve_ids(spec.model, len(new_keys)), strict=True))
        with staging_table(STAGE_KEYS, [("key", "text"), ("id", "int")]) as keys_table:
            write_rows(keys_table, ["key", "id"], reserved.items())
            if connection.vendor == "postgresql":
                c.execute(f"ANALYZE {keys_table}")
            c.execute(
                f"INSERT INTO {rec} (source_id, batch_id, row_no, key, key_valid, row_hash, "  # noqa: S608
                f"raw, data, is_current, {spec.fk}_id, link_method) "
                f"SELECT %s, %s, s.row_no, s.key, s.key_valid, s.row_hash, s.raw, s.data, true, "
                f"COALESCE(g.id, k.id), CASE WHEN COALESCE(g.id, k.id) IS NULL THEN %s ELSE %s END "
                f"FROM {stage} s LEFT JOIN {target} g ON s.key_valid AND g.{spec.key} = s.key "
                f"LEFT JOIN {keys_table} k ON k.key = s.key "
                f"WHERE NOT EXISTS (SELECT 1 FROM {rec} r WHERE r.source_id = %s AND r.is_current "
                f"AND r.row_hash = s.row_hash)",
                [src, batch.pk, LinkMethod.NONE, LinkMethod.EXACT, src],
            )
            inserted = max(c.rowcount, 0)
        analyze_if_grown(rec, inserted, RECORD_LOOKUP_COLUMNS)
        if changed:
            c.execute(
                f"UPDATE {rec} AS o SET superseded_by_id = n.id FROM {rec} AS n "  # noqa: S608
                f"WHERE o.source_id = %s AND NOT o.is_current AND o.superseded_by_id IS NULL "
                f"AND n.source_id = %s AND n.batch_id = %s AND n.key = o.key",
                [src, src, batch.pk],
            )
        c.execute(
            f"SELECT DISTINCT key FROM {rec} WHERE source_id = %s AND batch_id = %s "  # noqa: S608
            f"AND key_valid ORDER BY key",
            [src, batch.pk],
        )
        keys = [row[0] for row in c.fetchall()]
        if same:
            # The batch that last delivered a version (after the keys above were read:
            # unchanged rows rebuild nothing).
            c.execute(
                f"UPDATE {rec} SET batch_id = %s WHERE source_id = %s AND is_current "  # noqa: S608
                f"AND batch_id <> %s AND row_hash IN (SELECT row_hash FROM {stage})",
                [batch.pk, src, batch.pk],
            )
    return {"new": inserted - changed, "changed": changed, "same": same}, keys, reserved


def iter_chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
