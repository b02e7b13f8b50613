"""Probabilistic linkage of source records without a valid key (Splink on DuckDB).

The exact pass (registry.imports / golden) links every record whose ID number is valid.
What is left — a missing ID, a mistyped one (wrong check digit), an old record — is
linked here to the golden persons with a Fellegi-Sunter model (Splink 5, DuckDB
in-process; docs/registry.md "Linkage (Splink)"):

1. `build_linkage_frames` reads the unkeyed current records and the golden persons into
   two frames of `LinkRow` (name and its pinyin, birth date, sex, county code, address,
   phone, ID number as far as it goes).
2. `predict_links` trains the model on the data itself — u by random sampling, m by
   expectation maximisation on two blocking rules, with fixed seeds and no sampling in
   EM, so the same data gives the same model; rare levels have priors and no m or u may
   be zero — and scores the pairs that the blocking rules (birth date; name pinyin +
   birth year; surname pinyin + birth year + sex; phone) let through. Each record keeps
   its best person; a record whose runner-up is also in the review band is ambiguous
   and never linked automatically.
3. `link_unkeyed` applies the thresholds of settings: at or above DC_REGISTRY_LINK_AUTO
   the record is merged into the person (link_method probabilistic, with provenance);
   in [DC_REGISTRY_LINK_REVIEW, auto) it becomes a LinkCandidate for the review queue
   (registry.review).

Nothing is downloaded at run time: Splink needs no model files, only these settings.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext_lazy as _
from pypinyin import lazy_pinyin

from digitalcity.core.ids import citizen_id_check_char

logger = logging.getLogger(__name__)

# Two-character surnames: their pinyin is the first two syllables, not the first one.
_COMPOUND = (
    "欧阳司马诸葛上官东方皇甫尉迟公孙慕容令狐长孙宇文司徒夏侯端木呼延"
    "南宫西门独孤轩辕澹台钟离闻人万俟申屠太史赫连濮阳百里东郭南门羊舌微生"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND[i : i + 2] for i in range(0, len(_COMPOUND), 2))

# Seeds and sizes of the training steps: fixed so that the same data gives the same model.
U_SEED = 20261122
U_MAX_PAIRS = 300_000
M_FLOOR = 1e-4
U_FLOOR = 1e-7

# Level codes (label_for_charts in Splink's settings) → what the review page says.
LEVEL_LABELS: dict[str, Any] = {
    "null": _("缺失"),
    "else": _("不同"),
    "name_exact": _("姓名相同"),
    "name_pinyin_exact": _("姓名拼音相同（同音字）"),
    "name_surname_given_close": _("姓相同，名的拼音相近"),
    "name_pinyin_close": _("姓名拼音相近（错别字）"),
    "birth_exact": _("出生日期相同"),
    "birth_transposed": _("出生日期月日颠倒"),
    "birth_one_digit": _("出生日期差一位数字"),
    "birth_same_month": _("出生年月相同"),
    "sex_exact": _("性别相同"),
    "address_exact": _("住址相同"),
    "address_close": _("住址相近"),
    "division_county": _("同一县区"),
    "division_city": _("同一城市"),
    "phone_exact": _("电话相同"),
    "id_one_edit": _("身份证号仅差一位"),
    "id_two_edits": _("身份证号差两位"),
}
COMPARISON_LABELS: dict[str, Any] = {
    "name": _("姓名"),
    "birth": _("出生日期"),
    "sex": _("性别"),
    "address": _("住址"),
    "division": _("区划"),
    "phone": _("电话"),
    "id": _("身份证号"),
}


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One side of a comparison: a source record (`r<pk>`) or a golden person (`p<pk>`).

    Empty values are None, never "": Splink's null levels test IS NULL.
    """

    unique_id: str
    name: str | None
    name_py: str | None
    surname_py: str | None
    given_py: str | None
    birth_date: str | None  # ISO yyyy-mm-dd
    birth_year: str | None
    birth_ym: str | None
    sex: str | None
    division: str | None  # the 6-digit county code
    address: str | None
    phone: str | None
    id_number: str | None  # 18 characters where it can be made so; mistyped ones stay wrong


@dataclass(frozen=True, slots=True)
class Level:
    """The level a comparison reached for one pair, and the match weight it carried."""

    comparison: str
    level: str
    weight: float


@dataclass(slots=True)
class Candidate:
    """A proposed link: `record_id` (SourceRecord pk) is `person_id` (Person pk)."""

    record_id: int
    person_id: int
    probability: float
    match_weight: float
    levels: list[Level] = field(default_factory=list)
    ambiguous: bool = False  # another person is also in the review band for this record

    def explanation(self) -> list[dict[str, Any]]:
        """The JSON stored on LinkCandidate.explanation and shown on the review page."""
        return [asdict(level) for level in self.levels]


@lru_cache(maxsize=200_000)
def name_pinyin(name: str) -> tuple[str, str, str]:
    """(full, surname, given) pinyin of a Chinese name, lower-case, no tones or spaces.

    Homophones (张/章, 伟/玮) have the same pinyin; that is the point.
    """
    name = "".join(name.split())
    cut = 2 if name[:2] in COMPOUND_SURNAMES else 1
    surname = "".join(lazy_pinyin(name[:cut])).lower()
    given = "".join(lazy_pinyin(name[cut:])).lower()
    return surname + given, surname, given


@lru_cache(maxsize=200_000)
def _split_pinyin(name: str, spaced: str) -> tuple[str, str, str]:
    """`name_pinyin` for a golden name whose pinyin is stored syllable by syllable."""
    syllables = spaced.lower().split()
    cut = 2 if name[:2] in COMPOUND_SURNAMES else 1
    if len(syllables) != len(name):  # not one syllable per character: recompute
        return name_pinyin(name)
    surname, given = "".join(syllables[:cut]), "".join(syllables[cut:])
    return surname + given, surname, given


def normalise_id_for_comparison(text: str | None) -> str | None:
    """An unkeyed record's ID number as far as it can be compared digit by digit.

    A 15-digit old number is widened to 18 (century 19, computed check) so that its
    distance to the person's number counts only the mistyped digits.
    """
    if not text:
        return None
    text = "".join(text.split()).upper()
    if len(text) == 15 and text.isdigit():
        body = text[:6] + "19" + text[6:]
        return body + citizen_id_check_char(body)
    return text or None


def make_row(
    *,
    unique_id: str,
    name: str | None,
    birth_date: date | str | None,
    sex: str | None,
    division: str | None,
    address: str | None,
    phone: str | None,
    id_number: str | None,
    pinyin: str | None = None,
) -> LinkRow:
    """Build a `LinkRow` from the values of a record or a person, deriving the pinyin
    (or splitting `pinyin`, the golden record's space-separated syllables)."""
    name = "".join(name.split()) if name else None
    full = surname = given = None
    if name:
        full, surname, given = _split_pinyin(name, pinyin) if pinyin else name_pinyin(name)
    iso = birth_date.isoformat() if isinstance(birth_date, date) else (birth_date or None)
    division = (division or "")[:6] or None
    return LinkRow(
        unique_id=unique_id,
        name=name,
        name_py=full or None,
        surname_py=surname or None,
        given_py=given or None,
        birth_date=iso,
        birth_year=iso[:4] if iso else None,
        birth_ym=iso[:7] if iso else None,
        sex=sex or None,
        division=division,
        address="".join(address.split()) if address else None,
        phone=phone or None,
        id_number=normalise_id_for_comparison(id_number),
    )


def _level(code: str, sql: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": code, **extra}


def _null(*cols: str) -> dict[str, Any]:
    sql = " AND ".join(f"({c}_l IS NULL OR {c}_r IS NULL)" for c in cols)
    return _level("null", sql, is_null_level=True)


ELSE = _level("else", "ELSE")

# Each comparison: its name (→ gamma_<name>, mw_<name>) and its levels, most specific
# first. Splink numbers the non-null levels from n-1 down to 0 and the null level -1.
COMPARISONS: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "name",
        [
            _null("name"),
            _level(
                "name_exact",
                "name_l = name_r",
                tf_adjustment_column="name",
                tf_adjustment_weight=1.0,
            ),
            _level("name_pinyin_exact", "name_py_l = name_py_r"),
            _level(
                "name_surname_given_close",
                "surname_py_l = surname_py_r "
                "AND jaro_winkler_similarity(given_py_l, given_py_r) >= 0.88",
            ),
            _level("name_pinyin_close", "jaro_winkler_similarity(name_py_l, name_py_r) >= 0.9"),
            ELSE,
        ],
    ),
    (
        "birth",
        [
            _null("birth_date"),
            _level("birth_exact", "birth_date_l = birth_date_r"),
            _level(
                "birth_transposed",
                "birth_year_l = birth_year_r "
                "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
                "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)",
                # Rare among true matches, so EM may never see one: a prior, not learnt.
                m_probability=0.01,
                fix_m_probability=True,
            ),
            _level(
                "birth_one_digit",
                "damerau_levenshtein(birth_date_l, birth_date_r) <= 1",
                m_probability=0.02,
                fix_m_probability=True,
            ),
            _level("birth_same_month", "birth_ym_l = birth_ym_r"),
            ELSE,
        ],
    ),
    ("sex", [_null("sex"), _level("sex_exact", "sex_l = sex_r"), ELSE]),
    (
        "address",
        [
            _null("address"),
            _level("address_exact", "address_l = address_r"),
            _level("address_close", "jaro_winkler_similarity(address_l, address_r) >= 0.9"),
            ELSE,
        ],
    ),
    (
        "division",
        [
            _null("division"),
            _level("division_county", "division_l = division_r"),
            _level("division_city", "substr(division_l, 1, 4) = substr(division_r, 1, 4)"),
            ELSE,
        ],
    ),
    ("phone", [_null("phone"), _level("phone_exact", "phone_l = phone_r"), ELSE]),
    (
        "id",
        [
            _null("id_number"),
            # Two different people's 18-digit numbers within one or two edits are too rare
            # for random sampling to count: u is set from the number's structure (a
            # shared county and birth date leave ~1000 sequence numbers) instead.
            _level(
                "id_one_edit",
                "damerau_levenshtein(id_number_l, id_number_r) <= 1",
                u_probability=1e-7,
                fix_u_probability=True,
            ),
            _level(
                "id_two_edits",
                "damerau_levenshtein(id_number_l, id_number_r) <= 2",
                u_probability=1e-6,
                fix_u_probability=True,
            ),
            ELSE,
        ],
    ),
]

# Blocking rules that generate the pairs to score. Each catches what the others miss: a
# typo in the name (birth date), in the birth date (name + year), in both (surname, year
# and sex; phone).
PREDICT_BLOCKS: list[tuple[str, ...]] = [
    ("birth_date",),
    ("name_py", "birth_year"),
    ("surname_py", "birth_year", "sex"),
    ("phone",),
]
# EM needs rules where matches are a fair share of the pairs; each leaves the compared
# columns of its own block untrained, so together they train every comparison.
TRAINING_BLOCKS: list[tuple[str, ...]] = [("birth_date",), ("name_py", "sex")]


def _gamma_codes() -> dict[str, dict[int, str]]:
    codes: dict[str, dict[int, str]] = {}
    for name, levels in COMPARISONS:
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        mapping = {-1: "null"}
        for index, lv in enumerate(non_null):
            mapping[len(non_null) - 1 - index] = lv["label_for_charts"]
        codes[name] = mapping
    return codes


GAMMA_CODES = _gamma_codes()


def _arrow_table(rows: Sequence[LinkRow]) -> Any:
    import pyarrow as pa

    columns: dict[str, list[Any]] = {f.name: [] for f in fields(LinkRow)}
    for row in rows:
        for name in columns:
            columns[name].append(getattr(row, name))
    schema = pa.schema([(name, pa.string()) for name in columns])
    return pa.table(columns, schema=schema)


def _settings(n_persons: int) -> Any:
    from splink import SettingsCreator, block_on
    from splink.comparison_library import CustomComparison

    # Link-only prior: at most one person per record is the right one.
    prior = min(0.5, 1.0 / max(n_persons, 1))
    return SettingsCreator(
        link_type="link_only",
        comparisons=[
            # Splink keeps what it is given: a copy keeps COMPARISONS as written.
            CustomComparison(
                comparison_levels=copy.deepcopy(list[Any](levels)), output_column_name=name
            )
            for name, levels in COMPARISONS
        ],
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in PREDICT_BLOCKS],
        probability_two_random_records_match=prior,
        retain_intermediate_calculation_columns=True,
        max_iterations=25,
    )


@contextmanager
def _quiet_splink() -> Iterator[None]:
    """Splink logs every training step at INFO and warns about levels a small data set
    never shows; the figures that matter are returned, so keep the log for errors."""
    splink_logger = logging.getLogger("splink")
    before = splink_logger.level
    splink_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        splink_logger.setLevel(before)


def _floored(model: dict[str, Any]) -> dict[str, Any]:
    """The trained model with no m below M_FLOOR and no u below U_FLOOR.

    EM sets m to zero for a level it saw only among non-matches (a month/day swap in a
    small batch, say); a zero would make that level a veto (weight −∞) for every later
    pair. A floor keeps such evidence weak instead of impossible.
    """
    for comparison in model.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            for key, floor in (("m_probability", M_FLOOR), ("u_probability", U_FLOOR)):
                value = level.get(key)
                if value is not None and value < floor:
                    level[key] = floor
    return model


def predict_links(
    records: Sequence[LinkRow],
    persons: Sequence[LinkRow],
    *,
    threshold: float = 0.5,
    training_records: Sequence[LinkRow] = (),
) -> list[Candidate]:
    """Score `records` against `persons`; return each record's best person ≥ `threshold`.

    `training_records` (e.g. a sample of records the exact pass linked) are added to the
    records for training only: EM learns the m probabilities from the pairs the training
    blocks produce, and a few hundred unkeyed records alone give it too little to learn
    from. Their own candidates are not returned. The unique_ids must be `r<pk>` for
    records and `p<pk>` for persons.
    """
    if not records or not persons:
        return []
    from splink import DuckDBAPI, Linker, block_on

    train_left = list(records) + list(training_records)
    wanted = {row.unique_id for row in records}
    db_api = DuckDBAPI(":memory:")
    try:
        with _quiet_splink():
            left = db_api.register(_arrow_table(train_left), table_name="dc_records")
            right = db_api.register(_arrow_table(persons), table_name="dc_persons")
            linker = Linker([left, right], _settings(len(persons)), log_level=None)
            linker.training.estimate_u_using_random_sampling(
                max_pairs=U_MAX_PAIRS, seed=U_SEED, min_count_per_level=None, num_chunks=1
            )
            model = linker.misc.save_model_to_json()
            for cols in TRAINING_BLOCKS:
                try:
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        block_on(*cols), record_sample_proportion=1.0
                    )
                except Exception:
                    # Splink raises when a training block yields no pairs (a tiny batch),
                    # and leaves the linker without the comparisons the block set aside:
                    # carry on from the model as it was before this session (m keeps
                    # its prior there). Logged, since anything else failing here would
                    # show in the scores too.
                    logger.warning("linkage: EM on %s failed", cols, exc_info=True)
                    linker = Linker(
                        [left, right], copy.deepcopy(model), log_level=None, validate_settings=False
                    )
                else:
                    model = linker.misc.save_model_to_json()
            model = _floored(copy.deepcopy(model))
            # Scored: the records asked about, not the training sample.
            asked = db_api.register(_arrow_table(records), table_name="dc_unkeyed")
            scorer = Linker([asked, right], model, log_level=None, validate_settings=False)
            predictions = scorer.inference.predict(
                threshold_match_probability=threshold, warning_mode="never"
            )
            rows = predictions.as_record_list()
    finally:
        db_api.duckdb_con.close()
    return _best_per_record(rows, wanted, threshold)


def _best_per_record(
    rows: Iterable[dict[str, Any]], wanted: set[str], threshold: float
) -> list[Candidate]:
    by_record: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        left, right = row["unique_id_l"], row["unique_id_r"]
        if not left.startswith("r"):
            left, right = right, left
        if left not in wanted:
            continue
        row["_record"], row["_person"] = left, right
        by_record.setdefault(left, []).append(row)
    candidates = []
    for record_uid, pairs in by_record.items():
        pairs.sort(key=lambda r: (-float(r["match_probability"]), r["_person"]))
        best = pairs[0]
        levels = [
            Level(
                comparison=name,
                level=GAMMA_CODES[name].get(int(best[f"gamma_{name}"]), "else"),
                weight=round(float(best.get(f"mw_{name}") or 0.0), 2),
            )
            for name, _levels in COMPARISONS
        ]
        probability = float(best["match_probability"])
        candidates.append(
            Candidate(
                record_id=int(record_uid[1:]),
                person_id=int(best["_person"][1:]),
                probability=probability if math.isfinite(probability) else 0.0,
                match_weight=round(float(best["match_weight"]), 3),
                levels=levels,
                ambiguous=len(pairs) > 1 and float(pairs[1]["match_probability"]) >= threshold,
            )
        )
    candidates.sort(key=lambda c: c.record_id)
    return candidates


# --- The registry side: frames from the database, thresholds, candidates ---------------


@dataclass(slots=True)
class LinkRunResult:
    """What one linkage run did."""

    records: int = 0  # unkeyed records considered
    persons: int = 0
    auto_linked: int = 0
    queued: int = 0  # new LinkCandidates for review
    unmatched: int = 0
    candidates: list[Candidate] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # frames / model / write


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _first(data: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = _text(data.get(name))
        if value:
            return value
    return None


def _raw_id(source_mapping: dict[str, str], raw: dict[str, Any]) -> str | None:
    """The ID number as the department wrote it, before the import threw it out."""
    for column, ours in source_mapping.items():
        if ours == "id_number":
            return _text(raw.get(column))
    return None


def record_row(
    *, pk: int, data: dict[str, Any], raw: dict[str, Any], mapping: dict[str, str], key: str | None
) -> LinkRow:
    """The `LinkRow` of one unkeyed source record (normalised data, raw ID as a fallback)."""
    return make_row(
        unique_id=f"r{pk}",
        name=_first(data, "name"),
        birth_date=_first(data, "birth_date"),
        sex=_first(data, "sex"),
        division=_first(data, "division", "division_code"),
        address=_first(data, "registered_address", "address"),
        phone=_first(data, "phone", "mobile"),
        id_number=_first(data, "id_number") or key or _raw_id(mapping, raw),
    )


def build_linkage_frames(
    *, record_ids: Iterable[int] | None = None, training_sample: int = 2000
) -> tuple[list[LinkRow], list[LinkRow], list[LinkRow]]:
    """(records, persons, training records) for `predict_links`, read from the registry.

    records: current person-source records without a valid key and not yet linked, that
    have no pending or accepted candidate (`record_ids` narrows them). persons: every
    golden person, with a phone number taken from a record linked to them (the golden
    record keeps none). training records: up to `training_sample` records the exact pass
    linked, with their ID number left out so they look like the unkeyed ones to EM.
    """
    from django.db.models import Exists, OuterRef
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Mod

    from .choices import Entity, LinkState
    from .models import LinkCandidate, Person, SourceRecord

    busy = LinkCandidate.objects.filter(
        record=OuterRef("pk"), state__in=[LinkState.PENDING, LinkState.ACCEPTED]
    )
    unkeyed = SourceRecord.objects.filter(
        is_current=True,
        key_valid=False,
        person__isnull=True,
        source__entity=Entity.PERSON,
    ).exclude(Exists(busy))
    if record_ids is not None:
        unkeyed = unkeyed.filter(pk__in=list(record_ids))
    records = [
        record_row(pk=pk, data=data or {}, raw=raw or {}, mapping=mapping or {}, key=key)
        for pk, data, raw, mapping, key in unkeyed.order_by("pk")
        .values_list("pk", "data", "raw", "source__mapping", "key")
        .iterator(chunk_size=5000)
    ]

    phones: dict[int, str] = {}
    linked = SourceRecord.objects.filter(is_current=True, person__isnull=False)
    for person_id, phone in (
        linked.filter(data__has_key="phone")
        .annotate(phone=KeyTextTransform("phone", "data"))
        .order_by("pk")  # the same record's phone every run
        .values_list("person_id", "phone")
        .iterator(chunk_size=20000)
    ):
        if phone:
            phones.setdefault(person_id, phone)
    persons = [
        make_row(
            unique_id=f"p{pk}",
            name=name,
            birth_date=birth,
            sex=sex,
            division=division,
            address=address,
            phone=phones.get(pk),
            id_number=id_number,
            pinyin=pinyin,
        )
        for pk, name, pinyin, birth, sex, division, address, id_number in Person.objects.order_by(
            "pk"
        )
        .values_list(
            "pk",
            "name",
            "name_pinyin",
            "birth_date",
            "sex",
            "division__code",
            "registered_address",
            "id_number",
        )
        .iterator(chunk_size=20000)
    ]

    training: list[LinkRow] = []
    if training_sample > 0:
        # Every n-th linked record rather than ORDER BY random(): the same data gives
        # the same sample, so the same model.
        keyed = linked.filter(key_valid=True)
        step = max(1, keyed.count() // training_sample)
        sample = keyed.alias(bucket=Mod("pk", step)).filter(bucket=0).order_by("pk")
        for pk, data in sample.values_list("pk", "data")[:training_sample]:
            data = {k: v for k, v in (data or {}).items() if k != "id_number"}
            training.append(record_row(pk=pk, data=data, raw={}, mapping={}, key=None))
    return records, persons, training


def link_unkeyed(
    *,
    record_ids: Iterable[int] | None = None,
    actor: Any = None,
    training_sample: int = 2000,
    passes: int = 2,
) -> LinkRunResult:
    """Link the records without a valid key (all, or `record_ids`) to golden persons.

    Each pass:
    1. Frames from the registry and Splink's prediction (outside any transaction: the
       model runs in DuckDB, seconds to a minute).
    2. In one transaction: each record's best person at or above DC_REGISTRY_LINK_AUTO,
       unless ambiguous, is merged into that person (link method probabilistic, the
       probability kept on the record, a LinkCandidate auto_linked with the explanation
       as provenance); from DC_REGISTRY_LINK_REVIEW up to that, or ambiguous, it becomes
       a pending LinkCandidate. A pair once rejected is never proposed again.

    A merge can fill a golden field the person lacked (the authoritative source's row
    was itself unkeyed), which gives the records still left something to compare with:
    so another pass runs on them, up to `passes`, while the last one linked anything.
    """
    ids = None if record_ids is None else list(record_ids)
    _refresh_statistics()
    total = LinkRunResult()
    for number in range(max(1, passes)):
        result = _link_pass(record_ids=ids, actor=actor, training_sample=training_sample)
        if number == 0:
            total.records, total.persons = result.records, result.persons
        total.auto_linked += result.auto_linked
        total.queued += result.queued
        total.candidates += result.candidates
        for step, seconds in result.seconds.items():
            total.seconds[step] = total.seconds.get(step, 0.0) + seconds
        if not result.auto_linked or result.auto_linked + result.queued >= result.records:
            break
    total.unmatched = total.records - total.auto_linked - total.queued
    return total


def _refresh_statistics() -> None:
    """ANALYZE the tables linkage reads and the golden rebuild writes (PostgreSQL).

    Linkage runs right after bulk imports, before autovacuum has caught up: with the
    planner still believing the tables small, the rebuild's key lookups become sequential
    scans (measured at 1M records: 2.5 s instead of 0.9 s per 3,000 persons). ANALYZE
    samples a fixed number of rows, about a second at that size.
    """
    from django.db import connection

    from .bulk import is_postgres, table
    from .imports import RECORD_LOOKUP_COLUMNS
    from .models import Person, PersonVersion, SourceRecord

    if not is_postgres():
        return
    names = ", ".join(
        [
            f"{table(SourceRecord)} ({', '.join(RECORD_LOOKUP_COLUMNS)})",
            f"{table(Person)} (id_number, name_pinyin, birth_date)",
            f"{table(PersonVersion)} (person_id, valid_to)",
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {names}")


def _link_pass(*, record_ids: list[int] | None, actor: Any, training_sample: int) -> LinkRunResult:
    """One pass of `link_unkeyed`."""
    from django.conf import settings
    from django.db import transaction

    from digitalcity.core.context import acting_as

    from .choices import LinkMethod, LinkState
    from .models import LinkCandidate
    from .review import merge_records

    auto = float(settings.DC_REGISTRY_LINK_AUTO)
    review = float(settings.DC_REGISTRY_LINK_REVIEW)
    started = time.perf_counter()
    records, persons, training = build_linkage_frames(
        record_ids=record_ids, training_sample=training_sample
    )
    result = LinkRunResult(records=len(records), persons=len(persons))
    result.seconds["frames"] = time.perf_counter() - started
    started = time.perf_counter()
    candidates = predict_links(records, persons, threshold=review, training_records=training)
    result.seconds["model"] = time.perf_counter() - started
    started = time.perf_counter()
    rejected = set(
        LinkCandidate.objects.filter(
            state=LinkState.REJECTED, record_id__in=[c.record_id for c in candidates]
        ).values_list("record_id", "person_id")
    )
    candidates = [c for c in candidates if (c.record_id, c.person_id) not in rejected]
    result.candidates = candidates
    automatic = [c for c in candidates if c.probability >= auto and not c.ambiguous]
    queued = [c for c in candidates if c.probability < auto or c.ambiguous]
    label = "" if actor is not None else "system:registry linkage"
    with transaction.atomic(), acting_as(actor, label=label, reason=str(_("概率匹配自动关联"))):
        result.auto_linked = merge_records(
            links=[(c.record_id, c.person_id, c.probability) for c in automatic],
            method=LinkMethod.PROBABILISTIC,
        )
        rows = [
            LinkCandidate(
                record_id=c.record_id,
                person_id=c.person_id,
                probability=c.probability,
                match_weight=c.match_weight,
                state=state,
                explanation={"levels": c.explanation(), "ambiguous": c.ambiguous},
            )
            for group, state in ((automatic, LinkState.AUTO_LINKED), (queued, LinkState.PENDING))
            for c in group
        ]
        LinkCandidate.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    result.queued = len(queued)
    result.unmatched = result.records - len(candidates)
    result.seconds["write"] = time.perf_counter() - started
    logger.info(
        "linkage: %d unkeyed records, %d persons: %d linked automatically, %d queued "
        "(frames %.1f s, model %.1f s, write %.1f s)",
        result.records,
        result.persons,
        result.auto_linked,
        result.queued,
        result.seconds["frames"],
        result.seconds["model"],
        result.seconds["write"],
    )
    return result
