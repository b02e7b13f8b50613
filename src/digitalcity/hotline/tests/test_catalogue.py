"""The dispatch catalogue: matching, the backstop, versions, Excel in and out."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from digitalcity.core.imports import ImportRefused
from digitalcity.hotline.models import CatalogueVersion, Category
from digitalcity.hotline.services import (
    CatalogueRow,
    catalogue_export,
    catalogue_import,
    catalogue_publish,
    suggest_dispatch,
)

from .factories import make_order


def _xlsx(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(["分类代码", "分类名称", "区划代码", "主办部门代码", "协办部门代码"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def test_without_a_catalogue_the_district_government_is_the_backstop(hw):
    order = make_order(hw, division=hw.district)
    suggestion = suggest_dispatch(order)
    assert suggestion.backstop
    assert suggestion.lead == hw.district_gov


def test_the_most_specific_row_wins(hw):
    noise = Category.objects.get(code="040101")
    pollution = Category.objects.get(code="04")
    catalogue_publish(
        rows=[
            CatalogueRow(pollution, hw.p.department_b),
            CatalogueRow(noise, hw.p.department_a, co_handlers=(hw.p.department_b,)),
            CatalogueRow(noise, hw.district_gov, division=hw.district),
        ],
        actor=hw.center_head,
    )
    city_wide = suggest_dispatch(make_order(hw))
    assert city_wide.lead == hw.p.department_a
    assert city_wide.co_handlers == [hw.p.department_b]
    in_district = suggest_dispatch(make_order(hw, division=hw.district))
    assert in_district.lead == hw.district_gov
    smoke = suggest_dispatch(make_order(hw, category="040102"))
    assert smoke.lead == hw.p.department_b


def test_a_new_version_takes_over_from_its_valid_from(hw):
    noise = Category.objects.get(code="040101")
    catalogue_publish(rows=[CatalogueRow(noise, hw.p.department_a)], actor=hw.center_head)
    later = timezone.now() + timedelta(days=1)
    v2 = catalogue_publish(
        rows=[CatalogueRow(noise, hw.p.department_b)], actor=hw.center_head, valid_from=later
    )
    order = make_order(hw)
    assert suggest_dispatch(order).lead == hw.p.department_a
    assert suggest_dispatch(order, at=later).lead == hw.p.department_b
    assert v2.number == 2


def test_excel_round_trip_makes_a_new_version(hw):
    noise = Category.objects.get(code="040101")
    catalogue_publish(
        rows=[CatalogueRow(noise, hw.p.department_a, co_handlers=(hw.p.department_b,))],
        actor=hw.center_head,
    )
    out = io.BytesIO()
    assert catalogue_export(out) == 1
    out.seek(0)
    sheet = load_workbook(out).active
    assert [c.value for c in sheet[2]] == ["040101", "噪声扰民", None, "dept-a", "dept-b"]
    out.seek(0)
    version = catalogue_import(out, actor=hw.center_head, note="原样导入")
    assert version.number == 2
    assert version.rules.get().lead == hw.p.department_a


def test_a_bad_file_is_refused_whole_with_every_row_error(hw):
    source = _xlsx(
        [
            ["040101", "噪声扰民", "", "dept-a", ""],
            ["999999", "", "", "dept-a", ""],
            ["020101", "", "110199", "nope", "dept-b,ghost"],
            ["040101", "", "", "dept-b", ""],
        ]
    )
    with pytest.raises(ImportRefused) as refused:
        catalogue_import(source, actor=hw.center_head)
    rows = sorted({(e.row, e.column) for e in refused.value.row_errors})
    assert rows == [
        (3, "分类代码"),
        (4, "主办部门代码"),
        (4, "区划代码"),
        (4, "协办部门代码"),
        (5, "分类代码"),
    ]
    assert not CatalogueVersion.objects.exists()


def test_the_catalogue_page_imports_and_exports(client, hw):
    client.force_login(hw.agent)
    response = client.post(
        "/workbench/hotline/catalogue/",
        {"file": _named(_xlsx([["040101", "", "", "dept-a", ""]])), "note": "首版"},
    )
    assert response.status_code == 302
    export = client.get("/workbench/hotline/catalogue/export.xlsx")
    assert export.status_code == 200
    assert load_workbook(io.BytesIO(export.content)).active["D2"].value == "dept-a"
    bad = client.post(
        "/workbench/hotline/catalogue/",
        {"file": _named(_xlsx([["999999", "", "", "dept-a", ""]])), "report": "1"},
    )
    report = load_workbook(io.BytesIO(bad.content)).active
    assert report["A2"].value == 2


def _named(buffer):
    buffer.name = "catalogue.xlsx"
    return buffer


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_a_csv_in_gbk_or_utf8_imports_too(hw, encoding):
    text = (
        "分类代码,分类名称,区划代码,主办部门代码,协办部门代码\r\n040101,噪声扰民,,dept-a,dept-b\r\n"
    )
    version = catalogue_import(io.BytesIO(text.encode(encoding)), actor=hw.center_head)
    rule = version.rules.get()
    assert rule.lead == hw.p.department_a
    assert list(rule.co_handlers.all()) == [hw.p.department_b]


def test_a_file_that_is_neither_is_refused(hw):
    with pytest.raises(ImportRefused):
        catalogue_import(io.BytesIO(b"\xff\xfe\x00garbage\x81"), actor=hw.center_head)
