"""Excel import and export of the item catalog: a round trip, and a refused file lists
every row's problems and writes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from openpyxl import Workbook, load_workbook

from digitalcity.core.imports import ImportRefused

from ..catalog import COLUMNS, export_catalog, import_catalog
from ..formspec import validate_spec
from ..models import Item
from .factories import World

pytestmark = pytest.mark.django_db


def _book(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row(**over: object) -> list[object]:
    base = {
        "事项编码": "PWXK-001",
        "事项名称": "排污许可",
        "设定依据": "《排污许可管理条例》第二条",
        "牵头部门代码": "dept-a",
        "协办部门代码": "dept-b",
        "申请人类型": "法人",
        "办件类型": "承诺件",
        "法定时限": 45,
        "承诺时限": 20,
        "审查时限": 10,
        "办理结果": "许可证件",
        "结果名称": "排污许可证",
        "有效期（年）": 5,
        "证号前缀": "PWXK",
        "收费": "不收费",
        "到现场次数": 1,
        "网上可办": "是",
        "办理层级": "city,county",
        "申请材料": "eia|环境影响评价文件批复|必需|\nbusiness_licence|营业执照|必需|可共享",
        "申请表字段": (
            '[{"name": "outlets", "label": "排放口数量", "type": "integer", "required": true}]'
        ),
        "初审部门代码": "",
    }
    base.update(over)
    return [base[c] for c in COLUMNS]


def test_an_exported_catalog_imports_back_unchanged(world: World) -> None:
    data = export_catalog()
    Item.objects.filter(code="GTGS-001").update(name="改名")
    assert import_catalog(data) == 2
    item = Item.objects.get(code="GTGS-001")
    assert item.name == "公共场所卫生许可"
    assert [m.code for m in item.materials.all()] == [
        "id_card",
        "floor_plan",
        "business_licence",
        "health_cert",
    ]
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [c.value for c in sheet[1]] == COLUMNS


def test_a_new_item_is_imported_with_materials_form_and_co_departments(world: World) -> None:
    assert import_catalog(_book([_row()])) == 1
    item = Item.objects.get(code="PWXK-001")
    assert item.applicant_kind == "legal_person"
    assert item.is_joint
    assert item.visits == 1
    assert item.division_levels == ["city", "county"]
    assert item.materials.get(code="business_licence").shared
    assert item.form_spec[0]["type"] == "integer"


def test_a_bad_file_is_refused_whole_with_every_rows_problem(world: World) -> None:
    rows = [
        _row(),
        _row(**{"事项编码": "BAD-1", "牵头部门代码": "nowhere", "法定时限": "二十"}),
        _row(
            **{
                "事项编码": "BAD-2",
                "承诺时限": 60,
                "申请表字段": '[{"name": "x", "type": "money"}]',
            }
        ),
    ]
    with pytest.raises(ImportRefused) as info:
        import_catalog(_book(rows))
    text = "\n".join(str(e) for e in info.value.row_errors)
    assert "第 3 行「牵头部门代码」：部门“nowhere”不存在" in text
    assert "第 3 行「法定时限」" in text
    assert "第 4 行「承诺时限」：不能超过法定时限" in text
    assert "第 4 行「申请表字段」" in text
    assert not Item.objects.filter(code="PWXK-001").exists()  # nothing half-imported


def test_the_catalog_page_imports_for_admins_only(world: World, client: Client) -> None:
    client.force_login(world.p.clerk_a)
    page = client.get("/approval/catalog/")
    assert page.status_code == 200
    assert "导入事项清单" not in page.content.decode()
    upload = io.BytesIO(_book([_row()]))
    upload.name = "items.xlsx"
    assert client.post("/approval/catalog/", {"file": upload}).status_code == 403
    client.force_login(world.p.admin)
    upload = io.BytesIO(_book([_row(**{"法定时限": "x"})]))
    upload.name = "items.xlsx"
    report = client.post("/approval/catalog/", {"file": upload, "report": "1"})
    assert report["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get("/approval/catalog/export.xlsx").status_code == 200


def test_a_form_spec_with_mistakes_is_refused_listing_them() -> None:
    with pytest.raises(ValidationError) as info:
        validate_spec(
            [
                {"name": "a", "label": "甲", "type": "text"},
                {"name": "a", "label": "乙", "type": "choice"},
                {"name": "B", "label": "", "type": "text", "colour": "red"},
            ]
        )
    messages = info.value.messages
    assert any("重复" in m for m in messages)
    assert any("choices" in m for m in messages)
    assert any("label" in m for m in messages)
    assert any("未知属性" in m for m in messages)


def test_the_preliminary_department_goes_through_excel_and_is_optional(world: World) -> None:
    """Art. 43's 初审部门代码: imported, exported, checked; a file without the column (an
    older export) leaves it as it is."""
    from digitalcity.identity.tests.factories import DepartmentFactory

    county = DepartmentFactory.create(name="丙县局", code="county-c")
    with pytest.raises(ImportRefused) as info:
        import_catalog(_book([_row(**{"初审部门代码": "dept-a"})]))  # the lead itself
    assert "下级初审部门不能是牵头部门本身" in str(info.value.row_errors[0])
    with pytest.raises(ImportRefused):
        import_catalog(_book([_row(**{"初审部门代码": "nowhere"})]))
    assert import_catalog(_book([_row(**{"初审部门代码": "county-c"})])) == 1
    item = Item.objects.get(code="PWXK-001")
    assert item.preliminary_department == county
    sheet = load_workbook(io.BytesIO(export_catalog(Item.objects.filter(pk=item.pk)))).worksheets[0]
    assert sheet.cell(2, COLUMNS.index("初审部门代码") + 1).value == "county-c"
    # An older file without the column: unchanged.
    old = Workbook()
    old_sheet = old.active
    assert old_sheet is not None
    old_sheet.append(COLUMNS[:-1])
    old_sheet.append(_row()[:-1])
    out = io.BytesIO()
    old.save(out)
    assert import_catalog(out.getvalue()) == 1
    item.refresh_from_db()
    assert item.preliminary_department == county
