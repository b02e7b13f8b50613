"""Imports: formats and encodings, whole-or-nothing with the per-row report, idempotence."""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from digitalcity.core.imports import error_report_xlsx

from ..choices import BatchStatus
from ..imports import batch_row_errors
from ..models import ImportBatch, Person, SourceRecord
from .factories import POLICE_HEADERS, City, csv_bytes, person_id, police_row

Load = Callable[..., ImportBatch]


def _problems(batch: ImportBatch, level: str = "error") -> list[tuple[int, str, str]]:
    return [(p["row"], p["field"], p["rule"]) for p in batch.error_report if p["level"] == level]


def test_it_imports_a_gbk_csv_saved_by_a_spreadsheet(load: Load) -> None:
    # Excel "CSV (逗号分隔)" in a Chinese locale: GBK bytes, CRLF, no BOM, dates as 2026/1/2.
    rows = [
        police_row(
            person_id(1), 姓名="欧阳娜", 出生日期="1980/1/2", 户籍地址="示范市中心区府前街8号"
        ),
        police_row(person_id(2), 姓名="张伟", 婚姻状况="已婚"),
    ]
    content = csv_bytes(rows, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # the test really feeds GBK bytes
    batch = load("police", content)
    assert batch.status == BatchStatus.LOADED, batch.error_report
    assert batch.encoding == "GBK"
    person = Person.objects.get(id_number=person_id(1))
    assert person.name == "欧阳娜"
    assert person.name_pinyin == "ou yang na"
    assert person.registered_address == "示范市中心区府前街8号"
    assert person.birth_date == datetime.date(1980, 1, 2)
    assert Person.objects.get(id_number=person_id(2)).marital_status == "married"
    record = SourceRecord.objects.get(key=person_id(1))
    assert record.raw["出生日期"] == "1980/1/2"  # kept as received
    assert record.data["birth_date"] == "1980-01-02"


def test_it_detects_gb18030_and_utf8_with_bom(load: Load) -> None:
    # 䶮 (U+4DAE) is in GB 18030 but not in GBK.
    gb = load("police", csv_bytes([police_row(person_id(3), 姓名="刘䶮")], encoding="gb18030"))
    assert gb.status == BatchStatus.LOADED
    assert gb.encoding == "GB18030"
    bom = load("police", csv_bytes([police_row(person_id(4), 姓名="李娜")], encoding="utf-8-sig"))
    assert bom.status == BatchStatus.LOADED
    assert "BOM" in bom.encoding
    assert Person.objects.get(id_number=person_id(3)).name == "刘䶮"


def test_it_refuses_bytes_in_no_known_encoding(load: Load) -> None:
    content = csv_bytes([police_row(person_id(5))]) + b"\xff\xfe\xff\x00\x81"
    batch = load("police", content)
    assert batch.status == BatchStatus.REFUSED
    assert "编码无法识别" in batch.error_report[0]["rule"]
    assert not SourceRecord.objects.exists()


def test_it_reads_dates_in_common_chinese_spellings(load: Load) -> None:
    spellings = ["2026-01-02", "2026/1/2", "20260102", "2026年1月2日"]
    rows = [police_row(person_id(10 + i), 死亡日期=s) for i, s in enumerate(spellings)]
    batch = load("police", csv_bytes(rows))
    assert batch.status == BatchStatus.LOADED, batch.error_report
    deaths = set(Person.objects.values_list("death_date", flat=True))
    assert deaths == {datetime.date(2026, 1, 2)}
    assert set(Person.objects.values_list("status", flat=True)) == {"deceased"}


def test_a_bad_row_refuses_the_whole_batch_with_a_per_row_report(load: Load) -> None:
    rows = [
        police_row(person_id(20)),
        police_row(person_id(21), 出生日期="2023-02-30"),
        police_row(person_id(22), 户籍地区划代码="999999"),
        police_row(person_id(23), 婚姻状况="保密"),
    ]
    batch = load("police", csv_bytes(rows))
    assert batch.status == BatchStatus.REFUSED
    assert (batch.rows_total, batch.rows_failed) == (4, 3)
    problems = _problems(batch)
    assert (3, "出生日期", "日期不存在：2023 年 2 月 30 日") in problems
    assert any(
        row == 4 and field == "户籍地区划代码" and "999999" in rule for row, field, rule in problems
    )
    assert any(row == 5 and field == "婚姻状况" and "保密" in rule for row, field, rule in problems)
    assert not Person.objects.exists()
    assert not SourceRecord.objects.exists()
    # The department's downloadable report names row, column and rule.
    book = load_workbook(io.BytesIO(error_report_xlsx(batch_row_errors(batch))))
    cells = [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert cells[0] == ("行号", "列", "问题")
    assert (3, "出生日期", "日期不存在：2023 年 2 月 30 日") in cells


def test_missing_and_extra_columns_are_named(load: Load) -> None:
    headers = [h for h in POLICE_HEADERS if h != "姓名"] + ["备注"]
    batch = load("police", csv_bytes([police_row(person_id(30))], headers=headers))
    assert batch.status == BatchStatus.REFUSED
    problems = _problems(batch)
    assert any(field == "姓名" and "缺少列" in rule for _r, field, rule in problems)
    assert any(field == "备注" and "多出列" in rule for _r, field, rule in problems)


def test_duplicate_rows_and_keys_are_reported(load: Load) -> None:
    rows = [
        police_row(person_id(40)),
        police_row(person_id(40)),
        police_row(person_id(41)),
        police_row(person_id(41), 姓名="张四"),
    ]
    batch = load("police", csv_bytes(rows))
    assert batch.status == BatchStatus.REFUSED
    problems = _problems(batch)
    assert (3, "整行", "重复行：与第 2 行内容相同") in problems
    assert any(
        row == 5 and field == "公民身份号码" and "第 4 行" in rule for row, field, rule in problems
    )


def test_a_file_cut_short_is_refused(load: Load) -> None:
    whole = csv_bytes([police_row(person_id(50)), police_row(person_id(51))], encoding="gbk")
    cut = whole[: whole.rindex(b",")]  # the last row stops mid-way
    batch = load("police", cut)
    assert batch.status == BatchStatus.REFUSED
    assert any("列数不足" in rule for _r, _f, rule in _problems(batch))
    half_char = whole[: whole.index("正常".encode("gbk")) + 1]  # stops inside a character
    batch = load("police", half_char)
    assert batch.status == BatchStatus.REFUSED
    assert "截断" in batch.error_report[0]["rule"]
    quoted = (
        csv_bytes([police_row(person_id(52))]) + b'"' + person_id(53).encode() + b',"unterminated'
    )
    batch = load("police", quoted)
    assert batch.status == BatchStatus.REFUSED
    assert any("截断" in rule for _r, _f, rule in _problems(batch))
    assert not SourceRecord.objects.exists()


def test_reimporting_the_same_file_changes_nothing(load: Load) -> None:
    content = csv_bytes([police_row(person_id(60)), police_row(person_id(61))])
    first = load("police", content)
    versions = list(Person.objects.values_list("id_number", "version"))
    again = load("police", content)
    assert again.pk == first.pk
    assert ImportBatch.objects.count() == 1
    assert SourceRecord.objects.count() == 2
    assert list(Person.objects.values_list("id_number", "version")) == versions


def test_the_same_rows_in_another_file_only_move_the_batch_pointer(load: Load) -> None:
    rows = [police_row(person_id(62)), police_row(person_id(63))]
    load("police", csv_bytes(rows))
    second = load("police", csv_bytes(rows, encoding="gbk"))
    assert (second.rows_new, second.rows_changed, second.rows_unchanged) == (0, 0, 2)
    assert SourceRecord.objects.count() == 2
    assert set(SourceRecord.objects.values_list("batch_id", flat=True)) == {second.pk}
    assert set(Person.objects.values_list("version", flat=True)) == {1}


def test_a_changed_row_is_a_new_version_and_the_old_one_is_kept(load: Load) -> None:
    first = load("police", csv_bytes([police_row(person_id(64))]))
    second = load(
        "police", csv_bytes([police_row(person_id(64), 户籍地址="示范市东城区东关路2号")])
    )
    assert (second.rows_new, second.rows_changed) == (0, 1)
    old, new = SourceRecord.objects.order_by("id")
    assert (old.batch_id, old.is_current, old.superseded_by_id) == (first.pk, False, new.pk)
    assert (new.batch_id, new.is_current) == (second.pk, True)


def test_15_digit_ids_are_upgraded(load: Load) -> None:
    batch = load("police", csv_bytes([police_row("110105491231002")]))
    assert batch.status == BatchStatus.LOADED
    assert "升位 1" in batch.message
    assert Person.objects.get().id_number == "11010519491231002X"


def test_a_mistyped_id_is_kept_without_a_key_for_linkage(load: Load) -> None:
    wrong = person_id(70)[:-1] + ("0" if person_id(70)[-1] != "0" else "1")
    batch = load("police", csv_bytes([police_row(person_id(71)), police_row(wrong, 姓名="王五")]))
    assert batch.status == BatchStatus.LOADED
    warnings = _problems(batch, "warning")
    assert warnings[0][:2] == (3, "公民身份号码")
    assert "校验码" in warnings[0][2]
    record = SourceRecord.objects.get(key__isnull=True)
    assert (record.key_valid, record.person_id, record.data["id_number"]) == (False, None, wrong)
    assert Person.objects.count() == 1


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_it_imports_excel_with_date_cells(load: Load) -> None:
    header = list(POLICE_HEADERS)
    row = police_row(person_id(80))
    values: list[Any] = [row[h] for h in header]
    # openpyxl hands back naive datetimes for date cells; Excel has no time zones.
    values[header.index("出生日期")] = datetime.datetime(1980, 1, 2)  # noqa: DTZ001
    batch = load("police", _xlsx([header, values, [None] * len(header)]), name="公安.xlsx")
    assert batch.status == BatchStatus.LOADED, batch.error_report
    assert batch.format == "xlsx"
    assert Person.objects.get().birth_date == datetime.date(1980, 1, 2)


def test_an_id_stored_as_an_excel_number_is_refused(load: Load) -> None:
    header = list(POLICE_HEADERS)
    values: list[Any] = [police_row(person_id(81))[h] for h in header]
    values[0] = float(person_id(81)[:-1] + "0")  # Excel rounds an 18-digit number
    batch = load("police", _xlsx([header, values]), name="公安.xlsx")
    assert batch.status == BatchStatus.REFUSED
    assert any("数值格式" in rule for _r, _f, rule in _problems(batch))


def test_a_truncated_workbook_is_refused(load: Load) -> None:
    content = _xlsx([list(POLICE_HEADERS), [police_row(person_id(82))[h] for h in POLICE_HEADERS]])
    batch = load("police", content[: len(content) // 2], name="公安.xlsx")
    assert batch.status == BatchStatus.REFUSED
    assert "Excel" in batch.error_report[0]["rule"]


def test_it_imports_json_and_names_missing_fields(load: Load, city: City) -> None:
    good = [police_row(person_id(90))]
    batch = load("police", json.dumps(good, ensure_ascii=False).encode(), name="p.json")
    assert batch.status == BatchStatus.LOADED
    bad = [police_row(person_id(91)), {"公民身份号码": person_id(92), "昵称": "x"}]
    refused = load("police", json.dumps(bad, ensure_ascii=False).encode(), name="p.json")
    assert refused.status == BatchStatus.REFUSED
    problems = _problems(refused)
    assert (2, "昵称", "多出字段：不在来源的字段映射中") in problems
    assert any(row == 2 and field == "姓名" for row, field, _rule in problems)
    cut = load("police", json.dumps(good, ensure_ascii=False).encode()[:-5], name="q.json")
    assert cut.status == BatchStatus.REFUSED
    assert "截断" in cut.error_report[0]["rule"]
