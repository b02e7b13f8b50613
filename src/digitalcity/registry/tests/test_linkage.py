"""Probabilistic linkage of records without a valid ID number (registry.linkage).

A small city with known truth: 160 people in the police register, most of them also in
the social-insurance source with a valid ID (the exact pass links those), and a few
social-insurance rows without a valid ID written the ways clerks get them wrong.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
from dataclasses import dataclass

import pytest

from digitalcity.core.ids import citizen_id_check_char

from ..choices import LinkMethod, LinkState, VersionCause
from ..imports import import_rows
from ..linkage import (
    Candidate,
    Level,
    LinkRow,
    _person_frame,
    _write_candidates,
    build_linkage_frames,
    link_unkeyed,
    make_row,
    name_pinyin,
    normalise_id_for_comparison,
    predict_links,
)
from ..models import LinkCandidate, Person, PersonVersion, SourceRecord
from .factories import City, field_origin

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅文建国志海波辉鹏宇浩"
DIVISIONS = ("149801", "149802", "149803")
HRSS = ("社会保障号码", "姓名", "性别", "出生日期", "参保状态", "联系电话")


@dataclass(frozen=True)
class Someone:
    id_number: str
    name: str
    sex: str
    birth: datetime.date
    division: str
    address: str
    phone: str


def _person_id(division: str, birth: datetime.date, seq: int) -> str:
    body = f"{division}{birth:%Y%m%d}{seq:03d}"
    return body + citizen_id_check_char(body)


def people(n: int = 160, seed: int = 5) -> list[Someone]:
    """`n` people, deterministic; the first three are the ones the tests talk about."""
    rng = random.Random(seed)
    fixed = [
        # The homophone's person, and another person born the same day.
        ("张伟", "M", datetime.date(1985, 3, 12)),
        ("王芳", "F", datetime.date(1985, 3, 12)),
        # The mistyped ID's person.
        ("刘建国", "M", datetime.date(1962, 11, 3)),
    ]
    out = []
    for i in range(n):
        if i < len(fixed):
            name, sex, birth = fixed[i]
        else:
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
            )
            sex = rng.choice("MF")
            birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(30000))
        division = DIVISIONS[i % 3]
        seq = 2 * i + (1 if sex == "M" else 0)
        out.append(
            Someone(
                id_number=_person_id(division, birth, seq % 1000),
                name=name,
                sex=sex,
                birth=birth,
                division=division,
                address=f"示范市中心区{rng.choice('东西南北')}大街{rng.randrange(1, 200)}号",
                phone=f"139{rng.randrange(10**8):08d}",
            )
        )
    return out


def _hrss(
    who: Someone, *, id_number: str, name: str | None = None, phone: str | None = None
) -> dict[str, str]:
    return {
        "社会保障号码": id_number,
        "姓名": name or who.name,
        "性别": "男" if who.sex == "M" else "女",
        "出生日期": who.birth.isoformat(),
        "参保状态": "参保",
        "联系电话": who.phone if phone is None else phone,
    }


def police_row(p: Someone) -> dict[str, str]:
    """`p` as the police register delivers them (the demo source's headers)."""
    return {
        "公民身份号码": p.id_number,
        "姓名": p.name,
        "性别": "男" if p.sex == "M" else "女",
        "出生日期": p.birth.isoformat(),
        "户籍地址": p.address,
        "户籍地区划代码": p.division,
        "婚姻状况": "",
        "户籍状态": "正常",
        "死亡日期": "",
    }


def mistyped(number: str) -> str:
    """One body digit changed: the check character no longer fits."""
    digit = str((int(number[9]) + 3) % 10)
    return number[:9] + digit + number[10:]


STRANGER = Someone(
    id_number="",
    name="李娜",
    sex="F",
    birth=datetime.date(1985, 3, 12),
    division="149801",
    address="示范市新区湖滨路8号",
    phone="13700000001",
)


def unkeyed_rows(city_people: list[Someone]) -> dict[str, dict[str, str]]:
    """The records the tests follow, by role."""
    zhang, _wang, liu = city_people[:3]
    return {
        # 章玮 sounds exactly like 张伟; same birth date, sex and phone; no ID number.
        "homophone": _hrss(zhang, id_number="", name="章玮"),
        # 刘建国 with one digit of the ID number mistyped.
        "mistyped": _hrss(liu, id_number=mistyped(liu.id_number)),
        # Someone not in the register, born the same day as 张伟 and 王芳.
        "stranger": _hrss(STRANGER, id_number=""),
    }


def load_small_city(city: City) -> tuple[list[Someone], dict[str, SourceRecord]]:
    """Police register for everyone, valid social-insurance rows for most, then the
    unkeyed rows; returns the people and the unkeyed records by role."""
    everyone = people()
    police = [police_row(p) for p in everyone]
    batch = import_rows(source=city.sources["police"], rows=police)
    assert batch.status == "loaded", batch.error_report
    keyed = [_hrss(p, id_number=p.id_number) for p in everyone[3:140]]
    roles = unkeyed_rows(everyone)
    batch = import_rows(source=city.sources["hrss"], rows=keyed + list(roles.values()))
    assert batch.status == "loaded", batch.error_report
    first = len(keyed) + 1
    records = {
        role: SourceRecord.objects.get(batch=batch, row_no=first + offset)
        for offset, role in enumerate(roles)
    }
    assert all(not r.key_valid for r in records.values())
    return everyone, records


# --- pure functions ----------------------------------------------------------------------


def test_homophones_have_the_same_pinyin_and_compound_surnames_split_right() -> None:
    assert name_pinyin("张伟")[0] == name_pinyin("章玮")[0] == "zhangwei"
    assert name_pinyin("欧阳娜娜") == ("ouyangnana", "ouyang", "nana")
    assert name_pinyin("王 芳") == ("wangfang", "wang", "fang")


def test_an_old_fifteen_digit_number_is_widened_for_comparison() -> None:
    assert normalise_id_for_comparison("110105491231002") == "11010519491231002X"
    assert normalise_id_for_comparison(" 11010519491231002x ") == "11010519491231002X"
    assert normalise_id_for_comparison("") is None


# --- the model on frames (no database) ---------------------------------------------------


def _row(uid: str, who: Someone, **override: str) -> LinkRow:
    values = {
        "name": who.name,
        "birth_date": who.birth.isoformat(),
        "sex": who.sex,
        "division": who.division,
        "address": who.address,
        "phone": who.phone,
        "id_number": who.id_number,
    } | override
    return make_row(
        unique_id=uid,
        name=values["name"],
        birth_date=values["birth_date"],
        sex=values["sex"],
        division=values["division"],
        address=values["address"],
        phone=values["phone"],
        id_number=values["id_number"],
    )


@pytest.fixture(scope="module")
def predicted() -> dict[str, Candidate | None]:
    # A bigger town than the database tests': the prior odds of a match, 1 in the
    # number of persons, should not be what decides.
    everyone = people(2000)
    persons = [_row(f"p{i}", p, phone="") for i, p in enumerate(everyone)]
    training = [_row(f"r{10_000 + i}", p, id_number="") for i, p in enumerate(everyone[3:1500])]
    zhang, _wang, liu = everyone[:3]
    records = [
        _row("r1", zhang, name="章玮", id_number="", address="", division=""),
        _row("r2", liu, id_number=mistyped(liu.id_number)),
        _row("r3", STRANGER, id_number=""),
        # A lookalike typo (国 → 图), the month and day swapped, and nothing else.
        _row(
            "r4",
            liu,
            name="刘建图",
            birth_date="1962-03-11",
            id_number="",
            address="",
            division="",
            phone="",
        ),
    ]
    by_record = {
        c.record_id: c
        for c in predict_links(records, persons, threshold=0.01, training_records=training)
    }
    roles = {1: "homophone", 2: "mistyped", 3: "stranger", 4: "typo"}
    return {role: by_record.get(n) for n, role in roles.items()}


def test_a_homophone_links_to_the_right_person_above_the_review_threshold(
    predicted: dict[str, Candidate | None],
) -> None:
    candidate = predicted["homophone"]
    assert candidate is not None
    assert candidate.person_id == 0  # 张伟, not 王芳 born the same day
    # Name by sound, birth date and sex, nothing else: for a person to confirm.
    assert 0.5 <= candidate.probability < 0.99
    levels = {level.comparison: level.level for level in candidate.levels}
    assert levels["name"] == "name_pinyin_exact"
    assert levels["birth"] == "birth_exact"


def test_a_mistyped_id_number_links_automatically_and_says_why(
    predicted: dict[str, Candidate | None],
) -> None:
    candidate = predicted["mistyped"]
    assert candidate is not None
    assert candidate.person_id == 2
    assert candidate.probability >= 0.99
    levels = {level.comparison: level for level in candidate.levels}
    assert levels["id"].level == "id_one_edit"
    assert levels["id"].weight > 0


def test_a_typo_with_swapped_birth_month_lands_in_the_review_band_for_the_right_person(
    predicted: dict[str, Candidate | None],
) -> None:
    candidate = predicted["typo"]
    assert candidate is not None
    assert candidate.person_id == 2
    assert 0.5 <= candidate.probability < 0.99
    assert {lv.comparison: lv.level for lv in candidate.levels}["birth"] == "birth_transposed"


def test_a_different_person_with_the_same_birth_date_is_not_proposed(
    predicted: dict[str, Candidate | None],
) -> None:
    candidate = predicted["stranger"]
    assert candidate is None or candidate.probability < 0.5


# --- the registry run (both databases) ---------------------------------------------------


@pytest.mark.slow
def test_unkeyed_records_are_linked_automatically_with_provenance(city: City) -> None:
    everyone, records = load_small_city(city)
    result = link_unkeyed()

    assert result.records == 3
    mistyped_record = SourceRecord.objects.get(pk=records["mistyped"].pk)
    liu = Person.objects.get(id_number=everyone[2].id_number)
    assert mistyped_record.person == liu
    assert mistyped_record.link_method == LinkMethod.PROBABILISTIC
    assert mistyped_record.link_probability is not None
    assert mistyped_record.link_probability >= 0.99
    auto = LinkCandidate.objects.get(record=mistyped_record)
    assert auto.state == LinkState.AUTO_LINKED
    assert auto.person == liu
    assert any(lv["level"] == "id_one_edit" for lv in auto.explanation["levels"])
    assert PersonVersion.objects.filter(person=liu, cause=VersionCause.LINK).exists()
    # The golden record now has records from both sources.
    assert set(liu.records.values_list("source__code", flat=True)) == {"police", "hrss"}
    assert field_origin(liu, "insurance_status").source == "hrss"

    # The stranger born the same day as 张伟 and 王芳 is left alone.
    stranger = SourceRecord.objects.get(pk=records["stranger"].pk)
    assert stranger.person is None
    assert not LinkCandidate.objects.filter(record=stranger, probability__gte=0.5).exists()

    # The homophone went to 张伟: linked outright or waiting for review.
    homophone = SourceRecord.objects.get(pk=records["homophone"].pk)
    zhang = Person.objects.get(id_number=everyone[0].id_number)
    assert (
        homophone.person == zhang
        or LinkCandidate.objects.filter(
            record=homophone, person=zhang, state=LinkState.PENDING
        ).exists()
    )


@pytest.mark.slow
def test_a_second_run_does_not_propose_a_rejected_pair_again(city: City, settings: object) -> None:
    _everyone, records = load_small_city(city)
    settings.DC_REGISTRY_LINK_AUTO = 1.01  # type: ignore[attr-defined]  # everything to review
    link_unkeyed()
    candidate = LinkCandidate.objects.get(record=records["mistyped"], state=LinkState.PENDING)
    LinkCandidate.objects.filter(pk=candidate.pk).update(
        state=LinkState.REJECTED, reason="不是本人"
    )

    again = link_unkeyed()

    assert all(c.record_id != records["mistyped"].pk for c in again.candidates)
    assert LinkCandidate.objects.filter(record=records["mistyped"]).count() == 1
    assert SourceRecord.objects.get(pk=records["mistyped"].pk).person is None


def test_frames_leave_out_records_already_waiting_for_review(city: City) -> None:
    _everyone, records = load_small_city(city)
    person = Person.objects.first()
    assert person is not None
    LinkCandidate.objects.create(record=records["stranger"], person=person, probability=0.6)

    unkeyed, persons, training = build_linkage_frames(training_sample=10)

    ids = {row.unique_id for row in unkeyed}
    assert ids == {f"r{records['homophone'].pk}", f"r{records['mistyped'].pk}"}
    assert len(persons) == 160
    assert 0 < len(training) <= 10
    assert all(row.id_number is None for row in training)
    mistyped_row = next(r for r in unkeyed if r.unique_id == f"r{records['mistyped'].pk}")
    assert mistyped_row.id_number == mistyped(people()[2].id_number)


def test_the_person_frame_has_pinyin_and_a_linked_record_s_phone(city: City) -> None:
    everyone, _records = load_small_city(city)
    someone = everyone[5]  # in the police register and, keyed, in social insurance
    person = Person.objects.get(id_number=someone.id_number)

    frame = _person_frame(None)
    assert len(frame) == 160
    row = next(r for r in frame if r.unique_id == f"p{person.pk}")
    assert row.name_py == name_pinyin(someone.name)[0]
    assert row.birth_date == someone.birth.isoformat()
    assert row.phone == someone.phone  # the police register has none; social insurance has
    assert row.id_number == someone.id_number

    only = list(_person_frame([person.pk]))
    assert only == [row]
    # The second pass knows the phones already and reads no record for them.
    (given,) = _person_frame([person.pk], phones={person.pk: "13900000000"})
    assert given == dataclasses.replace(row, phone="13900000000")


def test_candidates_are_written_at_once_and_a_pair_already_there_is_kept(city: City) -> None:
    everyone, records = load_small_city(city)
    zhang = Person.objects.get(id_number=everyone[0].id_number)
    wang = Person.objects.get(id_number=everyone[1].id_number)
    LinkCandidate.objects.create(record=records["homophone"], person=zhang, probability=0.6)
    levels = [Level("name", "name_pinyin_exact", 6.3), Level("birth", "birth_exact", 7.1)]

    _write_candidates(
        [
            (
                [
                    Candidate(records["homophone"].pk, zhang.pk, 0.7, 2.0, levels),
                    Candidate(records["stranger"].pk, wang.pk, 0.55, 0.3, levels, ambiguous=True),
                ],
                LinkState.PENDING,
            )
        ]
    )

    kept = LinkCandidate.objects.get(record=records["homophone"])
    assert kept.probability == pytest.approx(0.6)
    new = LinkCandidate.objects.get(record=records["stranger"])
    assert (new.person, new.state, new.reason) == (wang, LinkState.PENDING, "")
    assert new.probability == pytest.approx(0.55)
    assert new.match_weight == pytest.approx(0.3)
    assert new.explanation == {
        "levels": [
            {"comparison": "name", "level": "name_pinyin_exact", "weight": 6.3},
            {"comparison": "birth", "level": "birth_exact", "weight": 7.1},
        ],
        "ambiguous": True,
    }
    assert new.created_at is not None
