"""Golden records from source records, by rules kept as data (一数一源、多元校核、动态更新).

Functions other parts call (R2's review queue among them):

- `apply_record(record, *, cause=VersionCause.LINK)`: rebuild the golden record the
  source record belongs to (after linkage set `record.person`), with provenance.
- `rebuild_person(person, *, cause=VersionCause.REBUILD)` and
  `rebuild_organization(organization, *, cause=…)`: rebuild one golden record.
- `rebuild(entity=, keys=, batch=None, cause=…, valid_from=None)`: the same for many keys.
- `apply_batch(batch=, stage=, progress=None)`: called by the importer inside its
  transaction for the keys a batch touched.

Steps of one build, per chunk of `chunk_size()` keys (a few queries per chunk, never per
row; keys travel as one array parameter, `bulk.any_of`):
1. Load the chunk's current source records (keyed by the ID number / credit code, plus
   keyless records linked to the subject), the golden rows, their open versions (with
   the fields' provenance) and conflicts, in one query each.
2. In memory, per subject: for each field, the first source in the FieldRule's order
   that has a value wins (fallback order); a correction decided on a conflict stands
   while the authoritative record it was decided against is still current. Derived:
   birth date and sex from the ID number when no source gives them, status deceased
   when a death date is known, the pinyin of the name.
3. Each other source's differing value is a conflict for the rule's department (unless
   that department already confirmed the golden value against exactly that value).
4. Write in bulk (COPY / executemany / UPDATE … FROM): new and changed golden rows, a new
   version with the fields' provenance (the previous one closed at the new one's start;
   a change of provenance alone updates the open version's provenance in place),
   population events (birth, death, move, move out, name change, marital change),
   conflicts opened, updated or dismissed, and the exact links of the records.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from pypinyin import lazy_pinyin

from digitalcity.core.models import Division

from .bulk import (
    analyze_if_grown,
    any_of,
    db_value,
    dumps,
    fetch,
    insert_rows,
    loads,
    update_rows,
)
from .choices import ConflictState, Entity, EventKind, LinkMethod, PersonStatus, VersionCause
from .fields import GOLDEN_FIELDS
from .models import (
    Conflict,
    FieldRule,
    ImportBatch,
    Organization,
    OrganizationVersion,
    Person,
    PersonVersion,
    PopulationEvent,
    Source,
    SourceRecord,
)

__all__ = [
    "CHUNK",
    "BuildStats",
    "apply_batch",
    "apply_record",
    "load_rules",
    "lock_entity",
    "name_pinyin",
    "rebuild",
    "rebuild_organization",
    "rebuild_person",
]

CHUNK = 50000  # subjects built per round of queries on PostgreSQL (a few kB each)
SQLITE_CHUNK = 10000  # SQLite: at most 32,766 parameters per statement
PINYIN_CACHE = 200000  # names whose pinyin one rebuild keeps (≈ 30 MB)


def chunk_size() -> int:
    return CHUNK if connection.vendor == "postgresql" else SQLITE_CHUNK


AUTO_DISMISS = "来源数据已一致，自动撤销"


@dataclass(frozen=True)
class Spec:
    entity: str
    model: type[Model]
    version_model: type[Model]
    key: str  # the golden row's key column
    fk: str  # the FK name on records, values, versions, conflicts
    fields: tuple[str, ...]
    date_fields: frozenset[str]


SPECS: dict[str, Spec] = {
    Entity.PERSON: Spec(
        Entity.PERSON,
        Person,
        PersonVersion,
        "id_number",
        "person",
        GOLDEN_FIELDS[Entity.PERSON],
        frozenset({"birth_date", "death_date"}),
    ),
    Entity.ORGANIZATION: Spec(
        Entity.ORGANIZATION,
        Organization,
        OrganizationVersion,
        "uscc",
        "organization",
        GOLDEN_FIELDS[Entity.ORGANIZATION],
        frozenset({"established_on"}),
    ),
}


@dataclass
class Rules:
    order: dict[str, list[int]]  # field -> source ids, authoritative first
    department: dict[str, int]  # field -> responsible department id
    source_ids: list[int]  # every source of the entity
    fields: list[tuple[str, list[int]]] = field(default_factory=list)  # golden fields with a rule


def load_rules(entity: str) -> Rules:
    """The FieldRules of `entity` resolved to source ids (unknown codes are skipped)."""
    sources = {s.code: s for s in Source.objects.filter(entity=entity)}
    order: dict[str, list[int]] = {}
    department: dict[str, int] = {}
    for rule in FieldRule.objects.filter(entity=entity):
        ids = [sources[code].pk for code in rule.sources if code in sources]
        if not ids:
            continue
        order[rule.field] = ids
        first = next(s for s in sources.values() if s.pk == ids[0])
        department[rule.field] = rule.department_id or first.department_id
    fields = [(name, order[name]) for name in GOLDEN_FIELDS[entity] if name in order]
    return Rules(order, department, [s.pk for s in sources.values()], fields)


@functools.lru_cache(maxsize=65536)
def name_pinyin(name: str) -> str:
    """Space-separated toneless pinyin (张三 → "zhang san"), for search and blocking."""
    return " ".join(lazy_pinyin(name)) if name else ""


class _Lookups:
    """What one rebuild looks up per subject: division ids by code, and the pinyin of
    each name — computed once per distinct name of the rebuild (pypinyin costs tens of
    microseconds a name; a bounded cache thrashed at a million records), seeded with the
    pinyin the golden rows already store for their names."""

    def __init__(self) -> None:
        self.divisions: dict[str, int] = dict(Division.objects.values_list("code", "id"))
        self.pinyins: dict[str, str] = {"": ""}

    def pinyin(self, name: str) -> str:
        got = self.pinyins.get(name)
        if got is None:
            got = self.pinyins[name] = " ".join(lazy_pinyin(name))
        return got


@dataclass
class BuildStats:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    conflicts_opened: int = 0
    events: int = 0


@dataclass(frozen=True)
class _Correction:
    value: str
    against: int | None  # the golden record the decision overruled
    source: int
    record: int | None


@dataclass
class _Built:
    key: str
    snapshot: dict[str, str]
    provenance: dict[str, tuple[int, int | None, int | None]]  # field -> source, batch, record
    conflicts: dict[tuple[str, int], tuple[str, int, str, int | None]] = field(
        default_factory=dict
    )  # (field, source) -> (other value, other record, golden value, golden record)


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------


def apply_batch(
    *,
    batch: ImportBatch,
    keys: Sequence[str],
    reserved: dict[str, int],
    progress: Callable[[int], None] | None = None,
) -> BuildStats:
    """Rebuild the golden records of the keys `batch` delivered new or changed rows for.
    The importer already linked the batch's records (to existing golden rows, or to the
    `reserved` ids of the rows created here)."""
    return rebuild(
        entity=batch.source.entity,
        keys=keys,
        batch=batch,
        cause=VersionCause.BATCH,
        valid_from=batch.data_date,
        progress=progress,
        link=False,
        reserved=reserved,
    )


def lock_entity(entity: str) -> None:
    """Serialise writers of one entity's golden records until the transaction ends: the
    merge compares with current rows, two batches must not both create the golden row of
    a new key, and version numbers must not be taken twice. (SQLite already has a single
    writer; PostgreSQL locks the entity's source rows.)"""
    list(
        Source.objects.select_for_update()
        .filter(entity=entity)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def rebuild(
    *,
    entity: str,
    keys: Sequence[str],
    batch: ImportBatch | None = None,
    cause: str = VersionCause.REBUILD,
    valid_from: datetime.date | None = None,
    progress: Callable[[int], None] | None = None,
    link: bool = True,
    reserved: dict[str, int] | None = None,
) -> BuildStats:
    """Rebuild the golden records of `keys` (ID numbers / credit codes) in one transaction.

    `link`: also link the keys' records exactly. `reserved`: primary keys already given
    to the golden rows of new keys (the importer links its records to them on insert).
    """
    spec = SPECS[entity]
    rules = load_rules(entity)
    lookups = _Lookups()
    stats = BuildStats()
    day = valid_from or timezone.localdate()
    size = chunk_size()
    with transaction.atomic(), _index_lookups(len(keys) > size):
        lock_entity(entity)
        for start in range(0, len(keys), size):
            chunk = list(keys[start : start + size])
            _build_chunk(spec, rules, lookups, chunk, batch, cause, day, stats, reserved or {})
            if link:
                _link_records(spec, chunk)
            if progress:
                progress(min(100, (start + size) * 100 // max(len(keys), 1)))
        analyze_if_grown(spec.model._meta.db_table, stats.created, [spec.key])
        analyze_if_grown(
            spec.version_model._meta.db_table,
            stats.created + stats.changed,
            [f"{spec.fk}_id", "valid_to"],
        )
    return stats


@contextlib.contextmanager
def _index_lookups(chunked: bool) -> Iterator[None]:
    """PostgreSQL, a build of several chunks: the lookups go through the indexes.

    A chunk of 50,000 subjects is a large share of the records and versions at a million
    records, and the planner then chose a sequential scan of the whole table — for every
    chunk, so the cost grew with (table size × chunks): not linearly. Index lookups cost
    the same per subject whatever the table's size. A build of one chunk scans at most
    once and keeps the planner's choice (cheaper on small tables). Restored when the
    build ends (the importer's transaction goes on); after an error the rollback to the
    build's savepoint restores it (a statement in the failed transaction would hide the
    error).
    """
    if not chunked or connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        before = cursor.fetchone()[0]
        cursor.execute("SET LOCAL enable_seqscan = off")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [before])


def rebuild_person(person: Person, *, cause: str = VersionCause.REBUILD) -> Person:
    rebuild(entity=Entity.PERSON, keys=[person.id_number], cause=cause)
    person.refresh_from_db()
    return person


def rebuild_organization(
    organization: Organization, *, cause: str = VersionCause.REBUILD
) -> Organization:
    rebuild(entity=Entity.ORGANIZATION, keys=[organization.uscc], cause=cause)
    organization.refresh_from_db()
    return organization


def apply_record(record: SourceRecord, *, cause: str = VersionCause.LINK) -> Model | None:
    """Rebuild the golden record `record` belongs to: its linked person/organization, or
    the one its valid key names. Returns that golden row (None: not linked, no key)."""
    subject: Person | Organization | None = record.person or record.organization
    entity: str
    if subject is not None:
        key = subject.id_number if isinstance(subject, Person) else subject.uscc
        entity = Entity.PERSON if isinstance(subject, Person) else Entity.ORGANIZATION
    elif record.key_valid and record.key:
        key, entity = record.key, record.source.entity
    else:
        return None
    rebuild(entity=entity, keys=[key], cause=cause)
    spec = SPECS[entity]
    return spec.model._default_manager.filter(**{spec.key: key}).first()


# ---------------------------------------------------------------------------
# One chunk
# ---------------------------------------------------------------------------


def _build_chunk(
    spec: Spec,
    rules: Rules,
    lookups: _Lookups,
    keys: list[str],
    batch: ImportBatch | None,
    cause: str,
    day: datetime.date,
    stats: BuildStats,
    reserved: dict[str, int],
) -> None:
    fk = f"{spec.fk}_id"
    target = spec.model._meta.db_table
    rec = SourceRecord._meta.db_table
    where_key, key_params = any_of(spec.key, keys)
    existing: dict[str, int] = {}
    if spec.entity == Entity.PERSON:
        if len(lookups.pinyins) > PINYIN_CACHE:
            lookups.pinyins.clear()
        # The stored pinyin of the stored names: a name that stays needs no pypinyin.
        for key, pk, name, pinyin in fetch(
            f"SELECT {spec.key}, id, name, name_pinyin FROM {target} WHERE {where_key}",  # noqa: S608
            key_params,
        ):
            existing[key] = pk
            if name:
                lookups.pinyins[name] = pinyin
    else:
        existing.update(fetch(f"SELECT {spec.key}, id FROM {target} WHERE {where_key}", key_params))  # noqa: S608
    key_of_id = {pk: key for key, pk in existing.items()}
    # Subjects created by this chunk have no versions, provenance or conflicts yet.
    known = [pk for key, pk in existing.items() if key not in reserved]
    open_versions: dict[int, dict[str, Any]] = {}
    if known:
        where_id, id_params = any_of(fk, known)
        for pk, subject, number, valid_from, snapshot, origin in fetch(
            f"SELECT id, {fk}, version, valid_from, snapshot, provenance "  # noqa: S608
            f"FROM {spec.version_model._meta.db_table} WHERE {where_id} AND valid_to IS NULL",
            id_params,
        ):
            open_versions[subject] = {
                "id": pk,
                "version": number,
                "valid_from": _as_date(valid_from),
                "snapshot": _as_json(snapshot),
                "provenance": _as_json(origin),
            }
    wanted = set(keys)
    records: dict[str, list[tuple[int, int, int, bool, dict[str, str]]]] = defaultdict(list)
    # No condition on the source in SQL: with one, a planner short of statistics (right
    # after a bulk load) walks the (source, key) index of every source instead of
    # looking the keys up. Every source of the entity counts anyway.
    sources = set(rules.source_ids)
    where_rkey, rkey_params = any_of("key", keys)
    sql = (
        f"SELECT id, source_id, batch_id, key, key_valid, data, {fk} FROM {rec} "  # noqa: S608
        f"WHERE {where_rkey} AND is_current AND key_valid"
    )
    params = rkey_params
    if known:
        # Keyless records linked to the subjects (linkage, review): the partial index
        # on the link of records without a valid key finds them.
        where_linked, linked_params = any_of(fk, known)
        sql += (
            f" UNION ALL SELECT id, source_id, batch_id, key, key_valid, data, {fk} FROM {rec} "  # noqa: S608
            f"WHERE {where_linked} AND NOT key_valid AND is_current"
        )
        params = [*params, *linked_params]
    for rid, sid, bid, key, key_valid, data, linked in fetch(sql, params):
        subject_key = key if key_valid and key in wanted else key_of_id.get(linked)
        if subject_key is None or sid not in sources:
            continue
        records[subject_key].append((rid, sid, bid, bool(key_valid), _as_json(data)))
    corrections = _corrections(spec, known)
    confirmed = _confirmed(spec, known)
    built = [
        _build_one(
            spec, rules, key, records.get(key, []), existing.get(key), corrections, confirmed
        )
        for key in keys
        if records.get(key)
    ]
    now = timezone.now()
    _write(
        spec,
        rules,
        lookups,
        built,
        existing,
        open_versions,
        batch,
        cause,
        day,
        now,
        stats,
        reserved,
    )


def _as_json(value: Any) -> Any:
    """A JSON column read by raw SQL: parsed by psycopg, text under SQLite."""
    return loads(value) if isinstance(value, str) else value


def _as_date(value: Any) -> datetime.date:
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _corrections(spec: Spec, ids: list[int]) -> dict[tuple[int, str], _Correction]:
    """(subject, field) -> the latest correction decided on a conflict of that field."""
    fk = f"{spec.fk}_id"
    out: dict[tuple[int, str], _Correction] = {}
    if not ids:
        return out
    where, params = any_of(f"c.{fk}", ids)
    rows = fetch(
        f"SELECT c.{fk}, c.field, c.resolution_value, c.golden_record_id, g.source_id, "  # noqa: S608
        f"c.other_value, c.other_source_id, c.other_record_id "
        f"FROM {Conflict._meta.db_table} c "
        f"LEFT JOIN {SourceRecord._meta.db_table} g ON g.id = c.golden_record_id "
        f"WHERE {where} AND c.state = %s ORDER BY c.resolved_at, c.id",
        [*params, ConflictState.CORRECTED],
    )
    for subject, fld, value, against, golden_source, other, other_source, other_record in rows:
        # Provenance of a corrected value: the other source when the department took its
        # value, else the department's decision on the overruled source's field.
        if value == other:
            source, record = other_source, other_record
        else:
            source, record = golden_source or other_source, None
        out[(subject, fld)] = _Correction(value, against, source, record)
    return out


def _confirmed(spec: Spec, ids: list[int]) -> set[tuple[int, str, int, str, str]]:
    """Disagreements already decided for the golden value: not raised again."""
    fk = f"{spec.fk}_id"
    if not ids:
        return set()
    where, params = any_of(fk, ids)
    return set(
        fetch(
            f"SELECT {fk}, field, other_source_id, other_value, golden_value "  # noqa: S608
            f"FROM {Conflict._meta.db_table} WHERE {where} AND state IN (%s, %s)",
            [*params, ConflictState.CONFIRMED, ConflictState.DISMISSED],
        )
    )


def _record_order(record: tuple[int, int, int, bool, dict[str, str]]) -> tuple[bool, int]:
    return record[3], record[0]


def _build_one(
    spec: Spec,
    rules: Rules,
    key: str,
    recs: list[tuple[int, int, int, bool, dict[str, str]]],
    subject_id: int | None,
    corrections: dict[tuple[int, str], _Correction],
    confirmed: set[tuple[int, str, int, str, str]],
) -> _Built:
    # One record per source: the keyed one, else the latest linked one.
    by_source: dict[int, tuple[int, int, dict[str, str]]] = {}
    for rid, sid, bid, _key_valid, data in (
        sorted(recs, key=_record_order) if len(recs) > 1 else recs
    ):
        by_source[sid] = (rid, bid, data)
    snapshot: dict[str, str] = {spec.key: key}
    provenance: dict[str, tuple[int, int | None, int | None]] = {}
    built = _Built(key, snapshot, provenance)
    conflicts = built.conflicts
    corrected = bool(corrections) and subject_id is not None
    decided = bool(confirmed) and subject_id is not None
    for fld, order in rules.fields:
        winner: tuple[int, int | None, int | None] | None = None
        for sid in order:
            got = by_source.get(sid)
            if got is not None:
                value = got[2].get(fld)
                if value:
                    snapshot[fld] = value
                    winner = provenance[fld] = (sid, got[1], got[0])
                    break
        overruled = None
        if corrected:
            correction = corrections.get((subject_id, fld))  # type: ignore[arg-type]
            if correction and (winner is None or winner[2] == correction.against):
                snapshot[fld] = correction.value
                provenance[fld] = (correction.source, None, correction.record)
                overruled = correction.against
        golden_value = snapshot.get(fld, "")
        if not golden_value:
            continue
        golden_source, _batch, golden_record = provenance[fld]
        if overruled is not None:
            golden_record = overruled
        for sid, (rid, _bid, data) in by_source.items():
            if sid == golden_source or rid == overruled:
                continue
            other = data.get(fld)
            if not other or other == golden_value:
                continue
            if decided and (subject_id, fld, sid, other, golden_value) in confirmed:
                continue
            conflicts[(fld, sid)] = (other, rid, golden_value, golden_record)
    _derive(spec, key, snapshot)
    return built


def _derive(spec: Spec, key: str, snapshot: dict[str, str]) -> None:
    if spec.entity == Entity.PERSON:
        # The ID number encodes both (GB 11643-1999): a fallback, never a conflict.
        snapshot.setdefault("birth_date", f"{key[6:10]}-{key[10:12]}-{key[12:14]}")
        snapshot.setdefault("sex", "M" if int(key[16]) % 2 else "F")
        if snapshot.get("death_date"):
            snapshot["status"] = PersonStatus.DECEASED
        snapshot.setdefault("status", PersonStatus.LIVING)
    else:
        snapshot.setdefault("org_code", key[8:17])
        snapshot.setdefault("status", "active")


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

_PERSON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "text"),
    ("name_pinyin", "text"),
    ("sex", "text"),
    ("birth_date", "date"),
    ("registered_address", "text"),
    ("division_id", "int"),
    ("marital_status", "text"),
    ("education", "text"),
    ("insurance_status", "text"),
    ("death_date", "date"),
    ("status", "text"),
    ("version", "int"),
    ("updated_at", "timestamp"),
)
_ORG_COLUMNS: tuple[tuple[str, str], ...] = (
    ("org_code", "text"),
    ("name", "text"),
    ("legal_representative", "text"),
    ("registered_address", "text"),
    ("division_id", "int"),
    ("status", "text"),
    ("established_on", "date"),
    ("tax_status", "text"),
    ("version", "int"),
    ("updated_at", "timestamp"),
)


def _row_values(
    spec: Spec, snapshot: dict[str, str], lookups: _Lookups, version: int, now: Any
) -> list[Any]:
    """The golden row's column values (the columns of _PERSON_COLUMNS / _ORG_COLUMNS)."""
    get = snapshot.get
    if spec.entity == Entity.PERSON:
        return [
            get("name", ""),
            lookups.pinyin(get("name", "")),
            get("sex", ""),
            get("birth_date") or None,
            get("registered_address", ""),
            lookups.divisions.get(get("division", "")),
            get("marital_status", ""),
            get("education", ""),
            get("insurance_status", ""),
            get("death_date") or None,
            get("status", ""),
            version,
            now,
        ]
    return [
        get("org_code", ""),
        get("name", ""),
        get("legal_representative", ""),
        get("registered_address", ""),
        lookups.divisions.get(get("division", "")),
        get("status", ""),
        get("established_on") or None,
        get("tax_status", ""),
        version,
        now,
    ]


def _write(
    spec: Spec,
    rules: Rules,
    lookups: _Lookups,
    built: list[_Built],
    existing: dict[str, int],
    open_versions: dict[int, dict[str, Any]],
    batch: ImportBatch | None,
    cause: str,
    day: datetime.date,
    now: datetime.datetime,
    stats: BuildStats,
    reserved: dict[str, int],
) -> None:
    columns = _PERSON_COLUMNS if spec.entity == Entity.PERSON else _ORG_COLUMNS
    now_db = db_value(now, "timestamp")
    fk = f"{spec.fk}_id"
    new = [b for b in built if b.key not in existing]
    stamp = now.isoformat()
    origins: dict[str, dict[str, list[Any]]] = {}
    changed: list[tuple[_Built, dict[str, Any]]] = []
    moved: list[tuple[int, str]] = []  # open versions whose provenance alone changed
    for b in built:
        pk = existing.get(b.key)
        current = open_versions.get(pk) if pk is not None else None
        origins[b.key] = origin = _origin(b, current, stamp)
        if pk is None:
            continue
        if current is None or current["snapshot"] != b.snapshot:
            changed.append(
                (b, current or {"version": 0, "snapshot": {}, "valid_from": day, "id": None})
            )
        elif current["provenance"] != origin:
            moved.append((current["id"], dumps(origin)))
    stats.created += len(new)
    stats.changed += len(changed)
    stats.unchanged += len(built) - len(new) - len(changed)
    given = [b for b in new if b.key in reserved]
    if given:
        insert_rows(
            spec.model,
            ["id", spec.key, *(c for c, _k in columns), "created_at"],
            (
                [
                    reserved[b.key],
                    b.key,
                    *_row_values(spec, b.snapshot, lookups, 1, now_db),
                    now_db,
                ]
                for b in given
            ),
        )
        existing.update((b.key, reserved[b.key]) for b in given)
    plain = [b for b in new if b.key not in reserved]
    if plain:
        insert_rows(
            spec.model,
            [spec.key, *(c for c, _k in columns), "created_at"],
            ([b.key, *_row_values(spec, b.snapshot, lookups, 1, now_db), now_db] for b in plain),
        )
        created = dict(
            spec.model._default_manager.filter(
                **{f"{spec.key}__in": [b.key for b in plain]}
            ).values_list(spec.key, "id")
        )
        existing.update(created)
    if changed:
        update_rows(
            spec.model,
            columns,
            (
                [
                    existing[b.key],
                    *_row_values(spec, b.snapshot, lookups, cur["version"] + 1, now_db),
                ]
                for b, cur in changed
            ),
        )
    # Versions: close the open one where the new one starts; a batch dated before the
    # open version's start still starts no earlier than it (time does not run backwards).
    starts: dict[int, datetime.date] = {}
    closing = []
    for b, cur in changed:
        start = max(day, cur["valid_from"]) if cur["id"] else day
        starts[existing[b.key]] = start
        if cur["id"]:
            closing.append((cur["id"], db_value(start, "date")))
    if closing:
        update_rows(spec.version_model, [("valid_to", "date")], closing)
    version_rows = [(existing[b.key], 1, day, b) for b in new] + [
        (existing[b.key], cur["version"] + 1, starts[existing[b.key]], b) for b, cur in changed
    ]
    if version_rows:
        insert_rows(
            spec.version_model,
            [
                fk,
                "version",
                "valid_from",
                "snapshot",
                "provenance",
                "cause",
                "batch_id",
                "recorded_at",
            ],
            (
                [
                    pk,
                    version,
                    db_value(start, "date"),
                    dumps(b.snapshot),
                    dumps(origins[b.key]),
                    cause,
                    batch.pk if batch else None,
                    now_db,
                ]
                for pk, version, start, b in version_rows
            ),
        )
    # A value can keep its text but change its source: provenance of the open version.
    if moved:
        update_rows(spec.version_model, [("provenance", "json")], moved)
    if spec.entity == Entity.PERSON:
        stats.events += _write_events(changed, new, existing, batch, day, now_db)
    stats.conflicts_opened += _write_conflicts(
        spec, rules, built, existing, now_db, {b.key for b in new}
    )


def _origin(b: _Built, current: dict[str, Any] | None, stamp: str) -> dict[str, list[Any]]:
    """The version's provenance: field -> [source, batch, record, time]. A field whose
    value, source and record are unchanged keeps its entry (batch and time included)."""
    if not current or not current["provenance"]:
        return {
            fld: [s, batch_id, record, stamp] for fld, (s, batch_id, record) in b.provenance.items()
        }
    old = current["provenance"]
    old_snapshot = current["snapshot"]
    snapshot = b.snapshot
    out: dict[str, list[Any]] = {}
    for fld, (source, batch_id, record) in b.provenance.items():
        have = old.get(fld)
        if (
            have
            and have[0] == source
            and have[2] == record
            and old_snapshot.get(fld, "") == snapshot.get(fld, "")
        ):
            out[fld] = have
        else:
            out[fld] = [source, batch_id, record, stamp]
    return out


def _write_events(
    changed: list[tuple[_Built, dict[str, Any]]],
    new: list[_Built],
    existing: dict[str, int],
    batch: ImportBatch | None,
    day: datetime.date,
    now_db: Any,
) -> int:
    """Population dynamics from golden changes: a person first seen with a birth date in
    the year before the data date was born; later changes of death date, division or
    address, status, name and marital status are deaths, moves, name changes …"""
    rows: list[list[Any]] = []
    batch_id = batch.pk if batch else None

    def add(pk: int, kind: str, date: str | datetime.date, details: dict[str, Any]) -> None:
        rows.append(
            [
                pk,
                kind,
                db_value(date, "date") if isinstance(date, datetime.date) else date,
                dumps(details),
                batch_id,
                now_db,
            ]
        )

    year_before = (day - datetime.timedelta(days=366)).isoformat()
    for b in new:
        born = b.snapshot.get("birth_date", "")
        if born and year_before <= born <= day.isoformat():
            add(
                existing[b.key], EventKind.BIRTH, born, {"division": b.snapshot.get("division", "")}
            )
        if b.snapshot.get("death_date"):
            add(existing[b.key], EventKind.DEATH, b.snapshot["death_date"], {})
    for b, cur in changed:
        old = cur["snapshot"]
        if not old:
            continue
        new_s = b.snapshot
        pk = existing[b.key]
        if new_s.get("death_date") and not old.get("death_date"):
            add(pk, EventKind.DEATH, new_s["death_date"], {})
        if (
            new_s.get("status") == PersonStatus.MOVED_OUT
            and old.get("status") != PersonStatus.MOVED_OUT
        ):
            add(pk, EventKind.MOVE_OUT, day, {"from": old.get("registered_address", "")})
        elif (new_s.get("division"), new_s.get("registered_address")) != (
            old.get("division"),
            old.get("registered_address"),
        ) and old.get("registered_address"):
            add(
                pk,
                EventKind.MOVE,
                day,
                {
                    "from_division": old.get("division", ""),
                    "to_division": new_s.get("division", ""),
                    "from_address": old.get("registered_address", ""),
                    "to_address": new_s.get("registered_address", ""),
                },
            )
        if old.get("name") and new_s.get("name") != old.get("name"):
            add(pk, EventKind.NAME_CHANGE, day, {"from": old["name"], "to": new_s.get("name", "")})
        if old.get("marital_status") and new_s.get("marital_status") != old.get("marital_status"):
            add(
                pk,
                EventKind.MARRIAGE,
                day,
                {"from": old["marital_status"], "to": new_s.get("marital_status", "")},
            )
    if rows:
        insert_rows(
            PopulationEvent,
            ["person_id", "kind", "date", "details", "batch_id", "created_at"],
            rows,
        )
    return len(rows)


def _write_conflicts(
    spec: Spec,
    rules: Rules,
    built: list[_Built],
    existing: dict[str, int],
    now_db: Any,
    fresh: set[str],
) -> int:
    fk = f"{spec.fk}_id"
    # Subjects created in this chunk cannot have open conflicts yet: skip their lookup.
    ids = [existing[b.key] for b in built if b.key not in fresh]
    if not ids and not any(b.conflicts for b in built):
        return 0
    where, params = any_of(fk, ids)
    open_rows = {
        (subject, fld, source): (pk, other, golden)
        for pk, subject, fld, source, other, golden in fetch(
            f"SELECT id, {fk}, field, other_source_id, other_value, golden_value "  # noqa: S608
            f"FROM {Conflict._meta.db_table} WHERE {where} AND state = %s",
            [*params, ConflictState.OPEN],
        )
    }
    wanted: dict[tuple[int, str, int], tuple[str, int, str, int | None]] = {}
    for b in built:
        for (fld, source), conflict in b.conflicts.items():
            wanted[(existing[b.key], fld, source)] = conflict
    dismiss = [pk for k, (pk, _o, _g) in open_rows.items() if k not in wanted]
    if dismiss:
        Conflict.objects.filter(pk__in=dismiss).update(
            state=ConflictState.DISMISSED, reason=AUTO_DISMISS, resolved_at=timezone.now()
        )
    updates = []
    inserts = []
    for (subject, fld, source), (other, record, golden, golden_record) in wanted.items():
        have = open_rows.get((subject, fld, source))
        if have is None:
            inserts.append(
                [
                    spec.entity,
                    subject,
                    fld,
                    golden,
                    other,
                    source,
                    record,
                    golden_record,
                    rules.department[fld],
                    ConflictState.OPEN,
                    "",
                    "",
                    now_db,
                    now_db,
                ]
            )
        elif (have[1], have[2]) != (other, golden):
            updates.append([have[0], other, golden, record, golden_record, now_db])
    if inserts:
        insert_rows(
            Conflict,
            [
                "entity",
                fk,
                "field",
                "golden_value",
                "other_value",
                "other_source_id",
                "other_record_id",
                "golden_record_id",
                "department_id",
                "state",
                "resolution_value",
                "reason",
                "created_at",
                "updated_at",
            ],
            inserts,
        )
    if updates:
        update_rows(
            Conflict,
            [
                ("other_value", "text"),
                ("golden_value", "text"),
                ("other_record_id", "int"),
                ("golden_record_id", "int"),
                ("updated_at", "timestamp"),
            ],
            updates,
        )
    return len(inserts)


def _link_records(spec: Spec, keys: Iterable[str]) -> None:
    """Exact links: current records whose valid key names the golden row."""
    rec = SourceRecord._meta.db_table
    target = spec.model._meta.db_table
    fk = f"{spec.fk}_id"
    keys = list(keys)
    with connection.cursor() as cursor:
        size = chunk_size()
        for start in range(0, len(keys), size):
            where, params = any_of(f"{rec}.key", keys[start : start + size])
            cursor.execute(
                f"UPDATE {rec} SET {fk} = g.id, link_method = %s FROM {target} AS g "  # noqa: S608
                f"WHERE {where} AND {rec}.key_valid "
                f"AND g.{spec.key} = {rec}.key AND ({rec}.{fk} IS NULL OR {rec}.{fk} <> g.id)",
                [LinkMethod.EXACT, *params],
            )
