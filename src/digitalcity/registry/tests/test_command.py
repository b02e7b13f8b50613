"""`digitalcity registry …` commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ..models import ImportBatch, Person, Source
from ..services import source_for_token
from .factories import City, csv_bytes, person_id, police_row


def test_registry_import_loads_a_file_and_says_what_changed(city: City, tmp_path: Path) -> None:
    path = tmp_path / "公安.csv"
    path.write_bytes(
        csv_bytes([police_row(person_id(1)), police_row("110105491231002")], encoding="gbk")
    )
    out = io.StringIO()
    call_command(
        "registry",
        "import",
        "police",
        str(path),
        "--date",
        "2026-01-02",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "新增 2" in out.getvalue()
    assert "GBK" in out.getvalue()
    assert Person.objects.filter(id_number="11010519491231002X").exists()
    assert ImportBatch.objects.get().data_date.isoformat() == "2026-01-02"


def test_registry_import_reports_a_refusal(city: City, tmp_path: Path) -> None:
    path = tmp_path / "公安.csv"
    path.write_bytes(csv_bytes([police_row(person_id(2), 出生日期="1990-02-30")]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="被拒绝"):
        call_command("registry", "import", "police", str(path), stdout=io.StringIO(), stderr=err)
    assert "第 2 行「出生日期」：日期不存在" in err.getvalue()
    report = tmp_path / "报告.xlsx"
    call_command(
        "registry", "report", str(ImportBatch.objects.get().pk), str(report), stdout=io.StringIO()
    )
    assert report.read_bytes()[:2] == b"PK"
    with pytest.raises(CommandError, match="数据来源不存在"):
        call_command("registry", "import", "nope", str(path))


def test_registry_sources_seeds_once(city: City) -> None:
    out = io.StringIO()
    call_command("registry", "sources", "--seed", stdout=out)
    assert "已创建 0 个数据来源" in out.getvalue()  # the city fixture seeded them already
    assert "police\t公安户籍人口" in out.getvalue()
    assert Source.objects.count() == 7


def test_registry_token_issues_a_working_token(city: City) -> None:
    out = io.StringIO()
    call_command("registry", "token", "police", stdout=out)
    token = out.getvalue().rsplit("：", 1)[1].strip()
    assert source_for_token(token) == city.sources["police"]
