"""Registry benchmark: a synthetic city loaded through the real import path.

    .venv/bin/python bench/registry.py [--records 1000000] [--db sqlite|postgres]

1. Generates a city of about records/3.4 people and their records in 7 departments'
   CSV files (police, civil affairs, education, social security, health, tax,
   statistics; each with its own headers, date spellings and sex codes; two in GBK) with
   realistic noise: ~2% missing ID numbers, ~1% mistyped (one digit changed, so a wrong
   check digit), old 15-digit IDs, homophones and typos in names, address variants, a
   month/day swapped now and then. The generator keeps the truth: whose row is which.
2. Imports the files through registry.imports (a batch per file: validation, source
   records, the exact pass on valid IDs, golden records, conflicts) and runs the
   probabilistic linkage (registry.linkage.link_unkeyed) on the records without a valid
   key. That is the measured time.
3. Loads the same rows raw as the reference: COPY (PostgreSQL) or batched executemany
   (SQLite) of the decoded CSV rows into a plain table.
4. Prints the figures, then on its last line `name=value` pairs: records, seconds
   (import + linkage), import_s, linkage_s, cpu_s (CPU seconds of this process and of
   its PostgreSQL backend over the same span — what the work cost whatever else the
   shared machine ran; the goal is about the wall time), import_cpu_s (the same for the
   imports alone, without the linkage), import_server_cpu_s (the PostgreSQL backend's
   part of import_cpu_s: what the server spends on the rows the import writes),
   records_per_s, ratio_to_raw (the import's rate over the raw load's), linkage
   precision / recall / f1 against the generator's truth (a link counts when the
   record went to the right person, automatically or into the review queue as the best
   match) and the load average.

Goals on 2 cores: 1M records in under 60 s on PostgreSQL, ≥ 0.4 of the raw rate, linear to
5M; linkage F1 ≥ 0.98. Needs the `bench` extra (Faker, for zh_CN names and places).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import build_schema, database_urls, pairs, setup_django

SEED = 20261122
CITY_PREFIX = "1405"  # 晋城市 (数字晋城): its counties are the registered divisions
COUNTIES = ("140502", "140521", "140522", "140524", "140525", "140581")
TOWNS = (
    "北街街道",
    "南街街道",
    "东街街道",
    "西街街道",
    "钟家庄街道",
    "北石店镇",
    "金村镇",
    "巴公镇",
)
STREETS = ("建设路", "泽州路", "凤台街", "红星街", "书院街", "文昌街", "新市街", "太行路", "白水街")

# Same sound, other character: what a clerk types from hearing a name.
HOMOPHONES = {
    "伟": "玮",
    "丽": "莉",
    "静": "婧",
    "敏": "民",
    "军": "君",
    "杰": "洁",
    "涛": "滔",
    "明": "铭",
    "华": "桦",
    "霞": "侠",
    "平": "萍",
    "刚": "钢",
    "辉": "晖",
    "芳": "方",
    "燕": "艳",
    "红": "虹",
    "玲": "铃",
    "娟": "涓",
    "英": "瑛",
    "峰": "锋",
    "鹏": "朋",
    "斌": "彬",
    "志": "智",
    "建": "健",
    "文": "雯",
    "林": "琳",
    "波": "博",
    "宇": "雨",
    "浩": "昊",
    "婷": "亭",
    "晶": "菁",
    "磊": "垒",
    "超": "潮",
    "勇": "永",
    "秀": "绣",
}
# Looks alike, sounds different: what a clerk misreads from a form.
LOOKALIKES = {
    "王": "玉",
    "未": "末",
    "己": "已",
    "日": "曰",
    "人": "入",
    "大": "太",
    "土": "士",
    "天": "夫",
    "刀": "力",
    "田": "由",
    "永": "水",
    "贝": "见",
    "牛": "午",
    "干": "千",
}


@dataclass(frozen=True, slots=True)
class Person:
    id_number: str
    name: str
    sex: str  # M / F
    birth: date
    county: str
    address: str
    phone: str
    marital: str
    education: str
    insurance: str


@dataclass(frozen=True, slots=True)
class SourceSpec:
    code: str
    name: str
    department: str
    encoding: str
    columns: dict[str, str]  # header -> our field
    date_style: str
    sex_style: str
    share: float  # probability that a person appears in this source
    old_ids: float  # share of 15-digit IDs among people born before 1985


SOURCES = (
    SourceSpec(
        "police",
        "公安户籍人口",
        "市公安局",
        "utf-8",
        {
            "公民身份号码": "id_number",
            "姓名": "name",
            "性别": "sex",
            "出生日期": "birth_date",
            "户籍地址": "registered_address",
            "户籍区划代码": "division",
        },
        "iso",
        "zh",
        1.0,
        0.0,
    ),
    SourceSpec(
        "civil",
        "民政婚姻登记",
        "市民政局",
        "gbk",
        {
            "身份证号": "id_number",
            "姓名": "name",
            "性别": "sex",
            "出生日期": "birth_date",
            "婚姻状况": "marital_status",
        },
        "slash",
        "zh",
        0.4,
        0.0,
    ),
    SourceSpec(
        "education",
        "教育学籍学历",
        "市教育局",
        "utf-8",
        {"证件号码": "id_number", "姓名": "name", "出生日期": "birth_date", "学历": "education"},
        "compact",
        "zh",
        0.4,
        0.0,
    ),
    SourceSpec(
        "social",
        "人社参保登记",
        "市人力资源和社会保障局",
        "utf-8",
        {
            "社会保障号码": "id_number",
            "姓名": "name",
            "性别": "sex",
            "出生日期": "birth_date",
            "参保状态": "insurance_status",
            "联系电话": "phone",
        },
        "iso",
        "digit",
        0.4,
        0.0,
    ),
    SourceSpec(
        "health",
        "卫健居民健康档案",
        "市卫生健康委员会",
        "gbk",
        {
            "身份证号": "id_number",
            "姓名": "name",
            "性别": "sex",
            "出生日期": "birth_date",
            "现住址": "registered_address",
            "联系电话": "phone",
        },
        "chinese",
        "zh",
        0.4,
        0.0,
    ),
    SourceSpec(
        "tax",
        "税务自然人登记",
        "市税务局",
        "utf-8",
        {
            "证件号码": "id_number",
            "纳税人姓名": "name",
            "出生日期": "birth_date",
            "联系电话": "phone",
            "联系地址": "registered_address",
        },
        "iso",
        "zh",
        0.4,
        0.0,
    ),
    SourceSpec(
        "stats",
        "统计人口抽样",
        "市统计局",
        "utf-8",
        {
            "身份证号": "id_number",
            "姓名": "name",
            "性别": "sex",
            "出生日期": "birth_date",
            "区划代码": "division",
            "学历": "education",
        },
        "slash",
        "zh",
        0.4,
        0.25,
    ),
)
PEOPLE_PER_RECORD = 1 / (1 + sum(s.share for s in SOURCES[1:]))


def check_char(body17: str) -> str:
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body17))
    return "10X98765432"[total % 11]


class City:
    """The generator: people, then each department's rows with noise, and the truth."""

    def __init__(self, n_people: int, seed: int = SEED) -> None:
        from faker.providers.person.zh_CN import Provider as Names

        self.rng = random.Random(seed)
        self.surnames = list(Names.last_names.keys())
        self.surname_weights = list(Names.last_names.values())
        given = {c for name in Names.first_names for c in name}
        given |= set(HOMOPHONES) | set(HOMOPHONES.values()) - {"方"}
        self.given_chars = sorted(given)
        self.people = self._people(n_people)

    def _people(self, n: int) -> list[Person]:
        rng = self.rng
        seen: set[str] = set()
        people: list[Person] = []
        start = date(1930, 1, 1).toordinal()
        span = date(2025, 12, 31).toordinal() - start
        surnames = rng.choices(self.surnames, weights=self.surname_weights, k=n)
        while len(people) < n:
            sex = rng.choice("MF")
            birth = date.fromordinal(start + rng.randrange(span))
            county = rng.choice(COUNTIES)
            seq = rng.randrange(500) * 2 + (1 if sex == "M" else 0)
            body = f"{county}{birth:%Y%m%d}{seq:03d}"
            id_number = body + check_char(body)
            if id_number in seen:
                continue
            seen.add(id_number)
            length = 1 if rng.random() < 0.3 else 2
            name = surnames[len(people)] + "".join(
                rng.choice(self.given_chars) for _ in range(length)
            )
            address = (
                f"晋城市{rng.choice(TOWNS)}{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
                f"{rng.randrange(1, 20)}栋{rng.randrange(1, 6)}单元"
                f"{rng.randrange(1, 30)}0{rng.randrange(1, 5)}"
            )
            people.append(
                Person(
                    id_number=id_number,
                    name=name,
                    sex=sex,
                    birth=birth,
                    county=county,
                    address=address,
                    phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                    marital=rng.choice(("未婚", "已婚", "已婚", "已婚", "离婚", "丧偶")),
                    education=rng.choice(
                        ("小学", "初中", "高中", "大学专科", "大学本科", "硕士研究生")
                    ),
                    insurance=rng.choice(("参保", "参保", "参保", "暂停参保", "终止参保")),
                )
            )
        return people

    # --- noise ----------------------------------------------------------------------

    def _name(self, name: str) -> str:
        r = self.rng.random()
        if r < 0.04:
            return name[0] + "".join(HOMOPHONES.get(c, c) for c in name[1:])
        if r < 0.05:
            return "".join(LOOKALIKES.get(c, c) for c in name)
        return name

    def _id(self, person: Person, spec: SourceSpec) -> tuple[str, str]:
        """(the ID as written, what it is: ok / old / missing / mistyped)."""
        rng = self.rng
        r = rng.random()
        if r < 0.02:
            return "", "missing"
        if r < 0.03:
            pos = rng.randrange(17)
            digit = str((int(person.id_number[pos]) + rng.randrange(1, 10)) % 10)
            return person.id_number[:pos] + digit + person.id_number[pos + 1 :], "mistyped"
        if spec.old_ids and person.birth.year < 1985 and rng.random() < spec.old_ids:
            return person.id_number[:6] + person.id_number[8:17], "old"
        return person.id_number, "ok"

    def _birth(self, birth: date, spec: SourceSpec) -> str:
        rng = self.rng
        if (
            spec.code != "police"
            and rng.random() < 0.005
            and birth.day <= 12
            and birth.day != birth.month
        ):
            birth = birth.replace(month=birth.day, day=birth.month)
        if spec.date_style == "slash":
            return f"{birth.year}/{birth.month}/{birth.day}"
        if spec.date_style == "compact":
            return f"{birth:%Y%m%d}"
        if spec.date_style == "chinese":
            return f"{birth.year}年{birth.month}月{birth.day}日"
        return birth.isoformat()

    def _address(self, address: str) -> str:
        r = self.rng.random()
        if r < 0.3:
            return address.removeprefix("晋城市")
        if r < 0.4:
            return address.replace("栋", "号楼").replace("单元", "-")
        return address

    def _sex(self, sex: str, spec: SourceSpec) -> str:
        if spec.sex_style == "digit":
            return "1" if sex == "M" else "2"
        return "男" if sex == "M" else "女"

    def rows(self, spec: SourceSpec) -> Iterator[tuple[list[str], str, str]]:
        """(cells, the person's true ID, what happened to the written ID) per row."""
        rng = self.rng
        for person in self.people:
            if spec.share < 1.0 and rng.random() >= spec.share:
                continue
            id_text, id_kind = self._id(person, spec)
            values = {
                "id_number": id_text,
                "name": person.name if spec.code == "police" else self._name(person.name),
                "sex": self._sex(person.sex, spec),
                "birth_date": self._birth(person.birth, spec),
                "registered_address": person.address
                if spec.code == "police"
                else self._address(person.address),
                "division": person.county,
                "marital_status": person.marital,
                "education": person.education,
                "insurance_status": person.insurance,
                "phone": person.phone if rng.random() < 0.9 else "",
            }
            yield [values[f] for f in spec.columns.values()], person.id_number, id_kind

    def write(self, spec: SourceSpec, folder: Path, truth: dict[tuple[str, int], str]) -> Path:
        path = folder / f"{spec.code}.csv"
        with path.open("w", encoding=spec.encoding, newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(list(spec.columns))
            for row_no, (cells, true_id, _kind) in enumerate(self.rows(spec), start=2):
                writer.writerow(cells)
                truth[(spec.code, row_no)] = true_id
        return path


# --- the registry side -------------------------------------------------------------------


def setup_registry() -> None:
    """Divisions of the city, the 7 departments and their sources, the field rules."""
    from digitalcity.core.divisions import get_division, load_divisions
    from digitalcity.core.models import Department, DepartmentKind
    from digitalcity.registry.choices import Entity
    from digitalcity.registry.models import FieldRule, Source

    load_divisions(prefix=CITY_PREFIX)
    city = get_division(CITY_PREFIX + "00")
    for spec in SOURCES:
        department, _created = Department.objects.get_or_create(
            code=f"bench-{spec.code}",
            defaults={"name": spec.department, "kind": DepartmentKind.BUREAU, "division": city},
        )
        Source.objects.update_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "department": department,
                "entity": Entity.PERSON,
                "mapping": spec.columns,
                "key_field": "id_number",
            },
        )
    rules = {
        # The police register first, then every other source that has the field: a
        # person whose police row lost its ID still gets a golden name to compare with.
        "name": ["police", "social", "tax", "health", "civil", "education", "stats"],
        "sex": ["police", "social", "health", "civil", "stats"],
        "birth_date": ["police", "social", "education", "health", "civil", "tax", "stats"],
        "registered_address": ["police", "health", "tax"],
        "division": ["police", "stats"],
        "marital_status": ["civil"],
        "education": ["education", "stats"],
        "insurance_status": ["social"],
    }
    for field_name, order in rules.items():
        FieldRule.objects.update_or_create(
            entity=Entity.PERSON, field=field_name, defaults={"sources": order}
        )


def cpu_seconds() -> float:
    """CPU time of this process plus, on PostgreSQL, of its server backend (read from
    /proc when the server runs on this machine): what the work cost, whatever else the
    shared machine was doing meanwhile (the wall time is what the goal is about)."""
    return time.process_time() + server_cpu_seconds()


def server_cpu_seconds() -> float:
    """CPU time of this process's PostgreSQL backend (0 on SQLite or a remote server)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def import_files(files: list[tuple[SourceSpec, Path]]) -> dict[str, Any]:
    """Each file through the registry's import, one batch per file; then the linkage."""
    from digitalcity.registry import imports
    from digitalcity.registry.linkage import link_unkeyed
    from digitalcity.registry.models import Source

    figures: dict[str, Any] = {}
    cpu = cpu_seconds()
    server = server_cpu_seconds()
    started = time.perf_counter()
    for spec, path in files:
        t0 = time.perf_counter()
        batch = imports.import_file(source=Source.objects.get(code=spec.code), path=path)
        figures[f"import_{spec.code}_s"] = round(time.perf_counter() - t0, 2)
        print(
            f"  {spec.code:<10} {batch.rows_total:>9} rows  ok {batch.rows_ok:>9}  "
            f"failed {batch.rows_failed:>6}  {figures[f'import_{spec.code}_s']:>7.2f} s",
            flush=True,
        )
    figures["import_s"] = time.perf_counter() - started
    figures["import_cpu_s"] = cpu_seconds() - cpu
    figures["import_server_cpu_s"] = server_cpu_seconds() - server
    t0 = time.perf_counter()
    result = link_unkeyed()
    figures["linkage_s"] = time.perf_counter() - t0
    figures["seconds"] = time.perf_counter() - started
    figures["cpu_s"] = cpu_seconds() - cpu
    figures["linkage_phases"] = {k: round(v, 1) for k, v in result.seconds.items()}
    figures["unkeyed"] = result.records
    figures["auto_linked"] = result.auto_linked
    figures["queued"] = result.queued
    return figures


def load_raw(files: list[tuple[SourceSpec, Path]]) -> tuple[int, float]:
    """The reference: the decoded CSV rows into a plain table, set-based, no checks."""
    from django.db import connection, transaction

    from digitalcity.registry.bulk import write_rows

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw")
        cursor.execute("CREATE TABLE bench_raw (source text, row_no integer, raw text)")
    count = 0
    started = time.perf_counter()
    with transaction.atomic():
        for spec, path in files:
            with path.open(encoding=spec.encoding, newline="") as handle:
                reader = csv.reader(handle)
                headers = next(reader)
                rows = (
                    (
                        spec.code,
                        row_no,
                        json.dumps(dict(zip(headers, cells, strict=False)), ensure_ascii=False),
                    )
                    for row_no, cells in enumerate(reader, start=2)
                )
                count += write_rows("bench_raw", ["source", "row_no", "raw"], rows)
    return count, time.perf_counter() - started


def score_linkage(truth: dict[tuple[str, int], str]) -> dict[str, float]:
    """Precision / recall / F1 of the links made to records without a valid key.

    A prediction is a record's best person, auto-linked or queued for review. A true link
    exists when the record's person has a golden record (someone else's valid key made
    it); a record whose person has none should stay unlinked.
    """
    from digitalcity.registry.choices import LinkMethod, LinkState
    from digitalcity.registry.models import LinkCandidate, Person, SourceRecord

    golden = dict(Person.objects.values_list("id_number", "pk"))
    predicted: dict[int, int] = {}
    unkeyed = SourceRecord.objects.filter(key_valid=False, is_current=True)
    for pk, person_id in unkeyed.filter(link_method=LinkMethod.PROBABILISTIC).values_list(
        "pk", "person_id"
    ):
        predicted[pk] = person_id
    for record_id, person_id in LinkCandidate.objects.filter(state=LinkState.PENDING).values_list(
        "record_id", "person_id"
    ):
        predicted.setdefault(record_id, person_id)
    expected: dict[int, int] = {}
    for pk, code, row_no in unkeyed.values_list("pk", "source__code", "row_no"):
        golden_id = golden.get(truth.get((code, row_no), ""))
        if golden_id is not None:
            expected[pk] = golden_id
    true_pos = sum(1 for pk, person_id in predicted.items() if expected.get(pk) == person_id)
    precision = true_pos / len(predicted) if predicted else 1.0
    recall = true_pos / len(expected) if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "links_expected": len(expected),
        "links_predicted": len(predicted),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()

    which = "pg" if args.db == "postgres" else "sqlite"
    url = database_urls(which, pg_name="dc_bench_registry")[which]
    setup_django(url)
    how = build_schema()
    load = os.getloadavg()[0]
    print(f"registry bench on {args.db} ({how}); load average {load:.2f}", flush=True)

    folder = Path(tempfile.mkdtemp(prefix="dc-bench-registry-"))
    t0 = time.perf_counter()
    city = City(max(10, round(args.records * PEOPLE_PER_RECORD)))
    truth: dict[tuple[str, int], str] = {}
    files = [(spec, city.write(spec, folder, truth)) for spec in SOURCES]
    records = len(truth)
    print(
        f"generated {len(city.people)} people, {records} records in {len(files)} files "
        f"({time.perf_counter() - t0:.1f} s) under {folder}",
        flush=True,
    )
    setup_registry()

    figures = import_files(files)
    raw_count, raw_seconds = load_raw(files)
    linkage = score_linkage(truth)
    rate = records / figures["seconds"]
    raw_rate = raw_count / raw_seconds
    load_after = os.getloadavg()[0]
    print(
        f"import {figures['import_s']:.1f} s + linkage {figures['linkage_s']:.1f} s "
        f"{figures['linkage_phases']} = {figures['seconds']:.1f} s ({rate:.0f} records/s); "
        f"raw load {raw_seconds:.1f} s "
        f"({raw_rate:.0f} records/s); unkeyed {figures['unkeyed']}, auto-linked "
        f"{figures['auto_linked']}, queued {figures['queued']}; links expected "
        f"{linkage['links_expected']}, predicted {linkage['links_predicted']}; "
        f"CPU {figures['cpu_s']:.1f} s (this process + its database backend); "
        f"load average {load:.2f} → {load_after:.2f}",
        flush=True,
    )
    print(
        pairs(
            {
                "db": args.db,
                "records": records,
                "seconds": figures["seconds"],
                "import_s": figures["import_s"],
                "linkage_s": figures["linkage_s"],
                "cpu_s": figures["cpu_s"],
                "import_cpu_s": figures["import_cpu_s"],
                "import_server_cpu_s": figures["import_server_cpu_s"],
                "records_per_s": rate,
                "raw_records_per_s": raw_rate,
                "ratio_to_raw": rate / raw_rate,
                "precision": f"{linkage['precision']:.5f}",
                "recall": f"{linkage['recall']:.5f}",
                "f1": f"{linkage['f1']:.5f}",
                "load": load_after,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
