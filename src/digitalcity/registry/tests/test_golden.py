"""Golden records: authority and fallback, provenance, history and as-of reads, events,
conflicts routed to the responsible department and resolved."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from digitalcity.core.models import AuditEntry

from ..choices import ConflictState, EventKind, VersionCause
from ..conflicts import conflict_confirm, conflict_correct, conflict_counts
from ..golden import apply_record, rebuild_person
from ..models import Conflict, ImportBatch, Person, SourceRecord
from ..queries import person_as_of
from .factories import City, csv_bytes, field_origin, person_id, police_row

Load = Callable[..., ImportBatch]
D1, D2, D3 = datetime.date(2025, 1, 1), datetime.date(2025, 6, 1), datetime.date(2026, 3, 1)


def hrss_row(number: str, **values: str) -> dict[str, str]:
    row = {
        "社会保障号码": number,
        "姓名": "张三",
        "性别": "男",
        "出生日期": "",
        "参保状态": "参保",
        "联系电话": "13800000000",
    }
    row.update(values)
    return row


def civil_row(number: str, **values: str) -> dict[str, str]:
    row = {"身份证号": number, "姓名": "张三", "婚姻状况": "已婚"}
    row.update(values)
    return row


def _source_of(person: Person, field: str) -> str:
    return field_origin(person, field).source


def test_the_authoritative_source_wins_and_others_are_the_fallback(load: Load) -> None:
    number = person_id(1)
    load("hrss", csv_bytes([hrss_row(number, 姓名="张叁")]), data_date=D1)
    person = Person.objects.get(id_number=number)
    # No police record yet: the name falls back to social security, with its provenance.
    assert person.name == "张叁"
    assert _source_of(person, "name") == "hrss"
    assert person.insurance_status == "insured"
    batch = load("police", csv_bytes([police_row(number, 姓名="张三")]), data_date=D2)
    person.refresh_from_db()
    assert person.name == "张三"
    value = field_origin(person, "name")
    assert (value.source, value.batch_id) == ("police", batch.pk)
    assert value.record_id == SourceRecord.objects.get(source__code="police").pk
    assert _source_of(person, "insurance_status") == "hrss"  # police has no say there
    assert person.version == 2
    assert SourceRecord.objects.filter(person=person).count() == 2


def test_a_disagreement_goes_to_the_responsible_department(load: Load, city: City) -> None:
    number = person_id(2)
    load("police", csv_bytes([police_row(number, 婚姻状况="未婚")]), data_date=D1)
    load("civil-affairs", csv_bytes([civil_row(number)]), data_date=D2)
    person = Person.objects.get(id_number=number)
    # Civil affairs is authoritative for marital status; the police value disagrees.
    assert person.marital_status == "married"
    conflict = Conflict.objects.get(field="marital_status")
    assert conflict.other_source.code == "police"
    assert (conflict.golden_value, conflict.other_value) == ("married", "unmarried")
    assert conflict.department == city.departments["civil-affairs"]
    counts = {c.department.code: c.open for c in conflict_counts()}
    assert counts == {"civil-affairs": 1}


def test_the_same_disagreement_is_not_queued_twice(load: Load) -> None:
    number = person_id(3)
    load("police", csv_bytes([police_row(number, 婚姻状况="未婚")]))
    load("civil-affairs", csv_bytes([civil_row(number)]))
    load("police", csv_bytes([police_row(number, 婚姻状况="未婚", 户籍地址="示范市东城区1号")]))
    assert Conflict.objects.filter(state=ConflictState.OPEN).count() == 1


def test_a_conflict_is_confirmed_by_its_department_only(load: Load, city: City) -> None:
    number = person_id(4)
    load("police", csv_bytes([police_row(number, 婚姻状况="未婚")]))
    load("civil-affairs", csv_bytes([civil_row(number)]))
    conflict = Conflict.objects.get()
    with pytest.raises(PermissionDenied):
        conflict_confirm(conflict=conflict, actor=city.police_clerk, reason="看过")
    with pytest.raises(ValidationError):
        conflict_confirm(conflict=conflict, actor=city.civil_clerk, reason="  ")
    conflict_confirm(conflict=conflict, actor=city.civil_clerk, reason="婚姻登记档案核实为已婚")
    conflict.refresh_from_db()
    assert (conflict.state, conflict.resolved_by) == (ConflictState.CONFIRMED, city.civil_clerk)
    assert AuditEntry.objects.filter(reason="婚姻登记档案核实为已婚").exists()
    # The police record comes again unchanged in a new file: not queued again.
    load("police", csv_bytes([police_row(number, 婚姻状况="未婚", 户籍地址="示范市新区2号")]))
    assert not Conflict.objects.filter(state=ConflictState.OPEN).exists()
    counts = {c.department.code: (c.open, c.confirmed) for c in conflict_counts()}
    assert counts == {"civil-affairs": (0, 1)}


def test_a_correction_changes_the_golden_record_with_a_version(load: Load, city: City) -> None:
    number = person_id(5)
    load("police", csv_bytes([police_row(number, 姓名="张三")]), data_date=D1)
    load("hrss", csv_bytes([hrss_row(number, 姓名="张珊")]), data_date=D2)
    conflict = Conflict.objects.get(field="name")
    assert conflict.department == city.departments["police"]
    conflict_correct(
        conflict=conflict, actor=city.police_clerk, value="张珊", reason="户籍底册有误，已更正"
    )
    person = Person.objects.get(id_number=number)
    assert person.name == "张珊"
    assert person.versions.order_by("-version")[0].cause == VersionCause.CONFLICT
    assert _source_of(person, "name") == "hrss"
    assert not Conflict.objects.filter(state=ConflictState.OPEN).exists()
    # Until the police deliver a new version of their record, the correction stands.
    rebuild_person(person)
    person.refresh_from_db()
    assert person.name == "张珊"
    load("police", csv_bytes([police_row(number, 姓名="张珊")]), data_date=D3)
    person.refresh_from_db()
    assert person.name == "张珊"
    assert _source_of(person, "name") == "police"


def test_a_correction_is_checked_like_an_import(load: Load, city: City) -> None:
    number = person_id(6)
    load("police", csv_bytes([police_row(number, 婚姻状况="未婚")]))
    load("civil-affairs", csv_bytes([civil_row(number)]))
    conflict = Conflict.objects.get()
    with pytest.raises(ValidationError) as caught:
        conflict_correct(conflict=conflict, actor=city.civil_clerk, value="保密", reason="x")
    assert "婚姻状况" in str(caught.value)


def test_as_of_reads_before_and_after_a_move(load: Load) -> None:
    number = person_id(7)
    load("police", csv_bytes([police_row(number)]), data_date=D1)
    moved = police_row(number, 户籍地址="示范市东城区东关路9号", 户籍地区划代码="149802")
    batch = load("police", csv_bytes([moved]), data_date=D3)
    before = person_as_of(number, D2)
    after = person_as_of(number, datetime.date(2026, 4, 1))
    assert before is not None
    assert after is not None
    assert (before["division"], before["registered_address"]) == ("149801", "示范市中心区人民路1号")
    assert (after["division"], after["registered_address"]) == ("149802", "示范市东城区东关路9号")
    assert person_as_of(number, datetime.date(2024, 12, 31)) is None
    person = Person.objects.get(id_number=number)
    assert person.division is not None
    assert person.division.code == "149802"
    first, second = person.versions.order_by("version")
    assert (first.valid_from, first.valid_to, second.valid_from, second.valid_to) == (
        D1,
        D3,
        D3,
        None,
    )
    move = person.events.get(kind=EventKind.MOVE)
    assert (move.date, move.batch_id) == (D3, batch.pk)
    assert move.details["to_division"] == "149802"


def test_deaths_births_and_name_changes_are_events(load: Load) -> None:
    adult, baby = person_id(8), person_id(9, birth=datetime.date(2026, 2, 1))
    load("police", csv_bytes([police_row(adult, 姓名="李四")]), data_date=D1)
    load("police", csv_bytes([police_row(adult, 姓名="李思")]), data_date=D2)
    health = {
        "身份证号码": adult,
        "姓名": "李思",
        "性别": "男",
        "出生日期": "",
        "死亡日期": "2026-02-20",
    }
    newborn = {
        "身份证号码": baby,
        "姓名": "李小宝",
        "性别": "女",
        "出生日期": "2026-02-01",
        "死亡日期": "",
    }
    load("health", csv_bytes([health, newborn]), data_date=D3)
    person = Person.objects.get(id_number=adult)
    assert person.status == "deceased"
    kinds = {
        (e.person.id_number, e.kind)
        for e in person.events.all() | Person.objects.get(id_number=baby).events.all()
    }
    assert kinds == {
        (adult, EventKind.NAME_CHANGE),
        (adult, EventKind.DEATH),
        (baby, EventKind.BIRTH),
    }


def test_apply_record_rebuilds_the_linked_person(load: Load) -> None:
    number = person_id(10)
    load("police", csv_bytes([police_row(number)]))
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    load("hrss", csv_bytes([hrss_row(wrong, 参保状态="暂停参保")]))
    record = SourceRecord.objects.get(key__isnull=True)
    person = Person.objects.get(id_number=number)
    assert person.insurance_status == ""
    record.person = person
    record.save(update_fields=["person"])
    apply_record(record)
    person.refresh_from_db()
    assert person.insurance_status == "suspended"
    value = field_origin(person, "insurance_status")
    assert (value.source, value.record_id) == ("hrss", record.pk)
    assert person.versions.order_by("-version")[0].cause == VersionCause.LINK


def test_a_conflict_is_dismissed_when_the_source_comes_to_agree(load: Load) -> None:
    number = person_id(11)
    load("police", csv_bytes([police_row(number, 婚姻状况="未婚")]))
    load("civil-affairs", csv_bytes([civil_row(number)]))
    load("police", csv_bytes([police_row(number, 婚姻状况="已婚")]))
    conflict = Conflict.objects.get()
    assert (conflict.state, conflict.reason) == (
        ConflictState.DISMISSED,
        "来源数据已一致，自动撤销",
    )


def test_a_backdated_batch_does_not_start_before_the_current_version(load: Load) -> None:
    number = person_id(12)
    load("police", csv_bytes([police_row(number)]), data_date=D3)
    load("police", csv_bytes([police_row(number, 姓名="张叁")]), data_date=D1)
    first, second = Person.objects.get().versions.order_by("version")
    assert (first.valid_from, first.valid_to, second.valid_from) == (D3, D3, D3)
    assert person_as_of(number, D3) == second.snapshot


def test_the_pinyin_follows_the_name_and_is_kept_when_the_name_stays(load: Load) -> None:
    first, second = person_id(21), person_id(22)
    load("police", csv_bytes([police_row(first, 姓名="李四"), police_row(second, 姓名="李四")]))
    load(
        "police",
        csv_bytes(
            [police_row(first, 姓名="李思"), police_row(second, 姓名="李四", 户籍地址="新址")]
        ),
        data_date=D2,
    )
    changed, kept = Person.objects.get(id_number=first), Person.objects.get(id_number=second)
    assert (changed.name, changed.name_pinyin) == ("李思", "li si")
    assert (kept.name, kept.name_pinyin, kept.version) == ("李四", "li si", 2)
    load("hrss", csv_bytes([hrss_row(person_id(23), 姓名="欧阳娜")]), data_date=D2)
    assert Person.objects.get(id_number=person_id(23)).name_pinyin == "ou yang na"


def test_a_build_of_several_chunks_restores_the_planner_setting(
    load: Load, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection, transaction

    from .. import golden

    if connection.vendor != "postgresql":
        pytest.skip("enable_seqscan is a PostgreSQL planner setting")
    first, second = person_id(24), person_id(25)
    load("police", csv_bytes([police_row(first), police_row(second)]), data_date=D1)
    monkeypatch.setattr(golden, "CHUNK", 1)  # two keys: two chunks, index lookups
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = on")
        stats = golden.rebuild(entity="person", keys=[first, second])
        cursor.execute("SELECT current_setting('enable_seqscan')")
        assert cursor.fetchone()[0] == "on"
    assert stats.unchanged == 2
