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
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

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


class Level(NamedTuple):
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
        return [level._asdict() for level in self.levels]


@lru_cache(maxsize=200_000)
def name_pinyin(name: str) -> tuple[str, str, str]:
    """(full, surname, given) pinyin of a Chinese name, lower-case, no tones or spaces.

    Homophones (张伟/章玮) have the same pinyin; that is the point. The whole name is
    read at once, as the golden record's pinyin is (registry.golden), and cut after the
    surname; a name that does not give one syllable per character is read in two parts.
    """
    name = "".join(name.split())
    cut = 2 if name[:2] in COMPOUND_SURNAMES else 1
    syllables = lazy_pinyin(name)
    if len(syllables) == len(name):
        surname, given = "".join(syllables[:cut]).lower(), "".join(syllables[cut:]).lower()
    else:
        surname = "".join(lazy_pinyin(name[:cut])).lower()
        given = "".join(lazy_pinyin(name[cut:])).lower()
    return surname + given, surname, given


def _split_pinyin(name: str, spaced: str) -> tuple[str, str, str]:
    """`name_pinyin` for a golden name whose pinyin is stored syllable by syllable."""
    syllables = spaced.lower().split()
    if len(syllables) != len(name):  # not one syllable per character: recompute
        return name_pinyin(name)
    cut = 2 if name[:2] in COMPOUND_SURNAMES else 1
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
    known: dict[str, tuple[str | None, str | None, str | None]] | None = None,
) -> LinkRow:
    """Build a `LinkRow` from the values of a record or a person, deriving the pinyin
    (or splitting `pinyin`, the golden record's space-separated syllables, or taking it
    from `known`: name → (full, surname, given) of the golden persons)."""
    name = "".join(name.split()) if name else None
    full = surname = given = None
    if name:
        split = known.get(name) if known else None
        if split is not None:
            full, surname, given = split
        else:
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

# Blocking rules that generate the pairs to score. Every rule is an equality join on
# keys specific enough that the pairs per record stay few as the city grows (a birth
# date alone, or a surname and a birth year, are shared by more people the bigger the
# city); a filter after the join narrows one further. Each catches what the others miss:
# - same birth date and surname, or birth date and given name (a typo in the other
#   part of the name), or birth date and address;
# - same name pinyin and birth year (a typo in the birth date);
# - same surname pinyin, birth year and sex, the given name's pinyin starting or ending
#   the same (one character of a two-character given name mistyped leaves the other),
#   and the birth date one digit off or with month and day swapped (same month, same
#   day, or month = the other's day): a typo in the given name and in the birth date;
# - same phone;
# - an ID number one typed digit away: a wrong digit leaves either the county and birth
#   date (its first 14 characters) or the sequence number intact.
_DATE_CLOSE = (
    "(substr(l.birth_date, 6, 2) = substr(r.birth_date, 6, 2) "
    "OR substr(l.birth_date, 9, 2) = substr(r.birth_date, 9, 2) "
    "OR substr(l.birth_date, 6, 2) = substr(r.birth_date, 9, 2))"
)
_SURNAME_YEAR = "l.surname_py = r.surname_py AND l.birth_year = r.birth_year AND l.sex = r.sex"
PREDICT_RULES: list[str] = [
    "l.birth_date = r.birth_date AND l.surname_py = r.surname_py",
    "l.birth_date = r.birth_date AND l.given_py = r.given_py",
    "l.name_py = r.name_py AND l.birth_year = r.birth_year",
    f"{_SURNAME_YEAR} AND substr(l.given_py, 1, 2) = substr(r.given_py, 1, 2) AND {_DATE_CLOSE}",
    f"{_SURNAME_YEAR} AND right(l.given_py, 2) = right(r.given_py, 2) AND {_DATE_CLOSE}",
    "l.phone = r.phone",
    "l.birth_date = r.birth_date AND l.address = r.address",
    "substr(l.id_number, 1, 14) = substr(r.id_number, 1, 14)",
    "l.birth_date = r.birth_date AND substr(l.id_number, 15, 3) = substr(r.id_number, 15, 3)",
]
# EM needs rules where matches are a fair share of the pairs; each leaves the compared
# columns of its own block untrained, so together they train every comparison.
TRAINING_BLOCKS: list[tuple[str, ...]] = [("birth_date",), ("name_py", "sex")]
# EM learns from a bounded, deterministic sample of the records (every n-th one): its
# pairs then stay about the same however many records wait, and the m probabilities
# it learns do not need more.
EM_MAX_RECORDS = 6000


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


COLUMNS = tuple(f.name for f in fields(LinkRow))


class Frame:
    """LinkRows held as columns (name → values): a city's golden persons are too many
    to build an object each for, and DuckDB takes columns anyway."""

    __slots__ = ("_arrow", "columns")

    def __init__(self, columns: dict[str, list[str | None]]) -> None:
        self.columns = columns
        self._arrow: Any = None

    def arrow(self) -> Any:
        """The frame as an Arrow table of strings (built once: training and scoring
        both register it with DuckDB)."""
        if self._arrow is None:
            import pyarrow as pa

            self._arrow = pa.table(
                {name: pa.array(self.columns[name], type=pa.string()) for name in COLUMNS},
                schema=pa.schema([(name, pa.string()) for name in COLUMNS]),
            )
        return self._arrow

    @classmethod
    def of(cls, rows: Iterable[LinkRow]) -> Frame:
        rows = list(rows)
        return cls({name: [getattr(row, name) for row in rows] for name in COLUMNS})

    def __len__(self) -> int:
        return len(self.columns["unique_id"])

    def __iter__(self) -> Iterator[LinkRow]:
        for values in zip(*(self.columns[name] for name in COLUMNS), strict=True):
            yield LinkRow(*values)

    def every_nth(self, limit: int) -> Frame:
        """At most `limit` rows, every n-th one: a sample that is the same every run."""
        step = max(1, math.ceil(len(self) / max(limit, 1)))
        return Frame({name: values[::step] for name, values in self.columns.items()})

    def __add__(self, other: Frame) -> Frame:
        return Frame({name: self.columns[name] + other.columns[name] for name in COLUMNS})


Rows = Sequence[LinkRow] | Frame


def _frame(rows: Rows) -> Frame:
    return rows if isinstance(rows, Frame) else Frame.of(rows)


def _settings(n_persons: int) -> Any:
    from splink import SettingsCreator
    from splink.blocking_rule_library import CustomRule
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
        blocking_rules_to_generate_predictions=[CustomRule(sql) for sql in PREDICT_RULES],
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


def train_model(records: Rows, persons: Rows, *, training_records: Rows = ()) -> dict[str, Any]:
    """Train the model on the data itself; returns Splink's model (settings with the
    trained m and u), which `score_links` applies.

    u by random sampling (U_MAX_PAIRS pairs, fixed seed) of `records` and `persons`; m by
    expectation maximisation on TRAINING_BLOCKS, from every n-th of `records` (at most
    EM_MAX_RECORDS) plus `training_records` (e.g. a sample of records the exact pass
    linked, their ID number left out: a few hundred unkeyed records alone give EM too
    little to learn from). No sampling inside Splink, so the same data gives the same
    model. The unique_ids must be `r<pk>` for records and `p<pk>` for persons.
    """
    from splink import DuckDBAPI, Linker, block_on

    records, persons, training = _frame(records), _frame(persons), _frame(training_records)
    db_api = DuckDBAPI(":memory:")
    try:
        with _quiet_splink():
            right = db_api.register(persons.arrow(), table_name="dc_persons")
            # u from all records: the sample of pairs is bounded by U_MAX_PAIRS anyway,
            # and drawn from every record it varies less than from a few.
            everyone = db_api.register((records + training).arrow(), table_name="dc_records")
            linker = Linker([everyone, right], _settings(len(persons)), log_level=None)
            linker.training.estimate_u_using_random_sampling(
                max_pairs=U_MAX_PAIRS, seed=U_SEED, min_count_per_level=None, num_chunks=1
            )
            model = linker.misc.save_model_to_json()
            sample = records.every_nth(EM_MAX_RECORDS) + training
            left = db_api.register(sample.arrow(), table_name="dc_sample")
            linker = Linker([left, right], copy.deepcopy(model), log_level=None)
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
    finally:
        db_api.duckdb_con.close()
    return _floored(copy.deepcopy(model))


def score_links(
    records: Rows, persons: Rows, model: dict[str, Any], *, threshold: float = 0.5
) -> list[Candidate]:
    """Score the pairs PREDICT_RULES let through with `model`; return each record's best
    person at or above `threshold` (ambiguous if the runner-up is too)."""
    records, persons = _frame(records), _frame(persons)
    if not len(records) or not len(persons):
        return []
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(":memory:")
    try:
        with _quiet_splink():
            left = db_api.register(records.arrow(), table_name="dc_unkeyed")
            right = db_api.register(persons.arrow(), table_name="dc_persons")
            scorer = Linker([left, right], copy.deepcopy(model), log_level=None)
            predictions = scorer.inference.predict(
                threshold_match_probability=threshold, warning_mode="never"
            )
            rows = db_api.duckdb_con.execute(_BEST_SQL.format(table=predictions.physical_name))
            candidates = _candidates(rows.fetchall())
    finally:
        db_api.duckdb_con.close()
    return candidates


# Each record's best person (highest probability, then lowest person id: the same every
# run) among the predictions, all of which are at or above the threshold: a record
# with more than one is ambiguous.
_BEST_SQL = (
    "SELECT record, person, match_probability, match_weight, pairs, "  # noqa: S608 — our identifiers
    + ", ".join(f"gamma_{name}, mw_{name}" for name, _levels in COMPARISONS)
    + " FROM (SELECT *, count(*) OVER (PARTITION BY record) AS pairs, row_number() OVER "
    "(PARTITION BY record ORDER BY match_probability DESC, person) AS rank FROM ("
    "SELECT *, CASE WHEN unique_id_l LIKE 'r%' THEN unique_id_l ELSE unique_id_r END "
    "AS record, CASE WHEN unique_id_l LIKE 'r%' THEN unique_id_r ELSE unique_id_l END "
    "AS person FROM {table})) WHERE rank = 1 ORDER BY record"
)


def _candidates(rows: Iterable[Sequence[Any]]) -> list[Candidate]:
    codes = [(name, GAMMA_CODES[name]) for name, _levels in COMPARISONS]
    candidates = []
    for record, person, probability, weight, pairs, *levels in rows:
        probability = float(probability)
        candidates.append(
            Candidate(
                record_id=int(record[1:]),
                person_id=int(person[1:]),
                probability=probability if math.isfinite(probability) else 0.0,
                match_weight=round(float(weight), 3),
                levels=[
                    Level(name, code.get(int(gamma), "else"), round(float(mw or 0.0), 2))
                    for (name, code), gamma, mw in zip(
                        codes, levels[0::2], levels[1::2], strict=True
                    )
                ],
                ambiguous=pairs > 1,
            )
        )
    candidates.sort(key=lambda c: c.record_id)
    return candidates


def predict_links(
    records: Rows,
    persons: Rows,
    *,
    threshold: float = 0.5,
    training_records: Rows = (),
) -> list[Candidate]:
    """Train on the data (`train_model`) and score `records` against `persons`
    (`score_links`): each record's best person ≥ `threshold`. The training records'
    own candidates are not returned."""
    if not len(records) or not len(persons):
        return []
    model = train_model(records, persons, training_records=training_records)
    return score_links(records, persons, model, threshold=threshold)


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
    *,
    pk: int,
    data: dict[str, Any],
    raw: dict[str, Any],
    mapping: dict[str, str],
    key: str | None,
    known: dict[str, tuple[str | None, str | None, str | None]] | None = None,
) -> LinkRow:
    """The `LinkRow` of one unkeyed source record (normalised data, raw ID as a fallback;
    `known`: see `make_row`)."""
    return make_row(
        known=known,
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
    *,
    record_ids: Iterable[int] | None = None,
    person_ids: Iterable[int] | None = None,
    training_sample: int = 2000,
) -> tuple[list[LinkRow], Frame, list[LinkRow]]:
    """(records, persons, training records) for `predict_links`, read from the registry.

    records: current person-source records without a valid key and not yet linked, that
    have no pending or accepted candidate (`record_ids` narrows them). persons: every
    golden person (or those of `person_ids`), with a phone number taken from a record
    linked to them (the golden record keeps none), as a `Frame`. training records: up to
    `training_sample` records the exact pass linked, with their ID number left out so
    they look like the unkeyed ones to EM.
    """
    from django.db.models import Exists, OuterRef
    from django.db.models.functions import Mod

    from .choices import Entity, LinkState
    from .models import LinkCandidate, SourceRecord

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
    persons = _person_frame(None if person_ids is None else list(person_ids))
    # Most records carry a name some golden person has: its pinyin is read already.
    columns = persons.columns
    known = {
        name: (full, surname, given)
        for name, full, surname, given in zip(
            columns["name"],
            columns["name_py"],
            columns["surname_py"],
            columns["given_py"],
            strict=True,
        )
        if name
    }
    records = [
        record_row(
            pk=pk, data=data or {}, raw=raw or {}, mapping=mapping or {}, key=key, known=known
        )
        for pk, data, raw, mapping, key in unkeyed.order_by("pk")
        .values_list("pk", "data", "raw", "source__mapping", "key")
        .iterator(chunk_size=5000)
    ]

    training: list[LinkRow] = []
    if training_sample > 0:
        # Every n-th linked record rather than ORDER BY random(): the same data gives
        # the same sample, so the same model.
        keyed = SourceRecord.objects.filter(is_current=True, person__isnull=False, key_valid=True)
        step = max(1, keyed.count() // training_sample)
        sample = keyed.alias(bucket=Mod("pk", step)).filter(bucket=0).order_by("pk")
        for pk, data in sample.values_list("pk", "data")[:training_sample]:
            data = {k: v for k, v in (data or {}).items() if k != "id_number"}
            training.append(record_row(pk=pk, data=data, raw={}, mapping={}, key=None, known=known))
    return records, persons, training


def _person_frame(
    person_ids: list[int] | None, *, phones: dict[int, str | None] | None = None
) -> Frame:
    """The golden persons (all, or `person_ids`) as a `Frame` ordered by pk, in one query
    per 10,000: each with a phone number from the records linked to them (the smallest,
    so the same one every run), or the one `phones` gives (then no record is read)."""
    from django.db import connection

    from digitalcity.core.models import Division

    from .bulk import any_of, is_postgres, table
    from .models import Person, SourceRecord

    phone = "r.data ->> 'phone'" if is_postgres() else "json_extract(r.data, '$.phone')"
    queries: list[tuple[str, list[Any]]] = []
    ids = [None] if person_ids is None else sorted(set(person_ids))
    for start in range(0, len(ids), 10_000):
        where_person, where_record, params = "", "", []
        if person_ids is not None:
            chunk = [pk for pk in ids[start : start + 10_000] if pk is not None]
            sql, values = any_of("p.id", chunk)
            where_person = f"WHERE {sql}"
            sql, more = any_of("r.person_id", chunk)
            where_record = f"AND {sql}"
            params = values if phones is not None else more + values
        phone_column = "NULL" if phones is not None else "ph.phone"
        linked = (
            ""
            if phones is not None
            else f"LEFT JOIN (SELECT r.person_id, MIN({phone}) AS phone "  # noqa: S608 — our identifiers
            f"FROM {table(SourceRecord)} r WHERE r.is_current AND r.person_id IS NOT NULL "
            f"AND {phone} <> '' {where_record} GROUP BY r.person_id) ph ON ph.person_id = p.id"
        )
        queries.append(
            (
                "SELECT p.id, p.name, p.name_pinyin, p.birth_date, p.sex, d.code, "  # noqa: S608 — our identifiers
                f"p.registered_address, p.id_number, {phone_column} "
                f"FROM {table(Person)} p LEFT JOIN {table(Division)} d ON d.id = p.division_id "
                f"{linked} {where_person}",
                params,
            )
        )
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for query, params in queries:
            cursor.execute(query, params)
            rows.extend(cursor.fetchall())
    # Sorted here, not by the database: ORDER BY would make it walk the primary key
    # index instead of reading the table straight through.
    rows.sort(key=itemgetter(0))
    if phones is not None:
        rows = [(*row[:-1], phones.get(row[0])) for row in rows]
    columns: dict[str, list[str | None]] = {name: [] for name in COLUMNS}
    out = [columns[name] for name in COLUMNS]  # in LinkRow's field order
    for pk, name, spaced, birth, sex, division, address, id_number, tel in rows:
        name = "".join(name.split()) if name else None
        full = surname = given = None
        if name:
            full, surname, given = _split_pinyin(name, spaced) if spaced else name_pinyin(name)
        iso = (birth.isoformat() if isinstance(birth, date) else birth) or None
        row = (
            f"p{pk}",
            name,
            full or None,
            surname or None,
            given or None,
            iso,
            iso[:4] if iso else None,
            iso[:7] if iso else None,
            sex or None,
            (division or "")[:6] or None,
            "".join(address.split()) if address else None,
            tel or None,
            normalise_id_for_comparison(id_number),
        )
        for column, value in zip(out, row, strict=True):
            column.append(value)
    return Frame(columns)


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
    model: dict[str, Any] | None = None
    touched: dict[int, str | None] | None = None  # person → phone
    left: list[LinkRow] | None = None
    for number in range(max(1, passes)):
        result, model, touched, left = _link_pass(
            record_ids=ids,
            records=left,
            persons=touched,
            model=model,
            actor=actor,
            training_sample=training_sample,
        )
        if number == 0:
            total.records, total.persons = result.records, result.persons
        total.auto_linked += result.auto_linked
        total.queued += result.queued
        total.candidates += result.candidates
        for step, seconds in result.seconds.items():
            total.seconds[step] = total.seconds.get(step, 0.0) + seconds
        if not result.auto_linked or result.auto_linked + result.queued >= result.records:
            break
        # Only the persons the merges changed can score differently now: the next pass
        # compares the records still without a candidate with those, under the same model.
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


def _link_pass(
    *,
    record_ids: list[int] | None,
    records: list[LinkRow] | None,
    persons: dict[int, str | None] | None,
    model: dict[str, Any] | None,
    actor: Any,
    training_sample: int,
) -> tuple[LinkRunResult, dict[str, Any] | None, dict[int, str | None], list[LinkRow]]:
    """One pass of `link_unkeyed`: its result, the model it used (trained here unless
    `model` is given), the persons its automatic links changed (with their phone) and
    the records it found no candidate for. `records` and `persons`: the previous pass's
    records left and persons changed (everything read from the registry if None)."""
    from django.conf import settings
    from django.db import transaction

    from digitalcity.core.context import acting_as

    from .choices import LinkMethod, LinkState
    from .models import LinkCandidate
    from .review import merge_records

    auto = float(settings.DC_REGISTRY_LINK_AUTO)
    review = float(settings.DC_REGISTRY_LINK_REVIEW)
    started = time.perf_counter()
    if records is None or persons is None:
        records, frame, training = build_linkage_frames(
            record_ids=record_ids, training_sample=training_sample if model is None else 0
        )
    else:
        frame, training = _person_frame(list(persons), phones=persons), []
    result = LinkRunResult(records=len(records), persons=len(frame))
    result.seconds["frames"] = time.perf_counter() - started
    started = time.perf_counter()
    candidates: list[Candidate] = []
    if records and len(frame):
        if model is None:
            model = train_model(records, frame, training_records=training)
        candidates = score_links(records, frame, model, threshold=review)
    result.seconds["model"] = time.perf_counter() - started
    started = time.perf_counter()
    if candidates:
        # Rejections are a reviewer's work: few, whatever the size of the registry.
        rejected = set(
            LinkCandidate.objects.filter(state=LinkState.REJECTED).values_list(
                "record_id", "person_id"
            )
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
        _write_candidates(((automatic, LinkState.AUTO_LINKED), (queued, LinkState.PENDING)))
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
    handled = {c.record_id for c in candidates}
    left = [row for row in records if int(row.unique_id[1:]) not in handled]
    return result, model, _phones_after(frame, records, automatic), left


def _phones_after(
    persons: Frame, records: Sequence[LinkRow], linked: Sequence[Candidate]
) -> dict[int, str | None]:
    """The phone each person `linked` went to has now: the smallest of the one it had and
    those of the records just linked to it (what `_person_frame` would read)."""
    had = dict(zip(persons.columns["unique_id"], persons.columns["phone"], strict=True))
    phone_of = {int(row.unique_id[1:]): row.phone for row in records}
    phones: dict[int, str | None] = {}
    for candidate in linked:
        pid = candidate.person_id
        found = [
            p for p in (phones.get(pid, had.get(f"p{pid}")), phone_of.get(candidate.record_id)) if p
        ]
        phones[pid] = min(found) if found else None
    return phones


def _write_candidates(groups: Iterable[tuple[list[Candidate], str]]) -> None:
    """Insert the LinkCandidates in one statement (through a staging table, so that a
    pair already there is skipped, not an error)."""
    from django.db import connection
    from django.utils import timezone

    from .bulk import db_value, dumps, is_postgres, staging_table, table, write_rows
    from .models import LinkCandidate

    now = db_value(timezone.now(), "timestamp")
    rows = [
        (
            c.record_id,
            c.person_id,
            repr(float(c.probability)),
            repr(float(c.match_weight)),
            state,
            dumps({"levels": c.explanation(), "ambiguous": c.ambiguous}),
            now,
        )
        for group, state in groups
        for c in group
    ]
    if not rows:
        return
    real = "double precision" if is_postgres() else "real"
    columns = [
        ("record_id", "int"),
        ("person_id", "int"),
        ("probability", "text"),
        ("match_weight", "text"),
        ("state", "text"),
        ("explanation", "json"),
        ("created_at", "timestamp"),
    ]
    with staging_table("stage_registry_candidates", columns) as stage:
        write_rows(stage, [c for c, _kind in columns], rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table(LinkCandidate)} (record_id, person_id, probability, "  # noqa: S608 — our identifiers
                "match_weight, state, reason, explanation, created_at) "
                f"SELECT record_id, person_id, CAST(probability AS {real}), "
                f"CAST(match_weight AS {real}), state, '', explanation, created_at "
                f"FROM {stage} WHERE 1 = 1 ON CONFLICT DO NOTHING"
            )
