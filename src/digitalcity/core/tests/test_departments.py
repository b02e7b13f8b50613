from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from digitalcity.core.departments import (
    COLUMNS,
    DepartmentImportError,
    export_departments,
    import_departments,
)
from digitalcity.core.models import Department, DepartmentKind, Division, DivisionLevel
from digitalcity.identity.models import AccountKind, User

# Valid GB 32100-2015 codes (STANDARDS.md §2.4).
USCC_A = "91110000600037341L"
USCC_B = "121200004013590816"
USCC_BAD_CHECK = "91110000600037341N"
HEADERS = [str(c.header) for c in COLUMNS]


@pytest.fixture
def city(db: None) -> Division:
    return Division.objects.create(code="149800", name="示范市", level=DivisionLevel.CITY)


@pytest.fixture
def departments(city: Division) -> list[Department]:
    gov = Department.objects.create(
        code="gov", name="示范市人民政府", kind=DepartmentKind.GOVERNMENT, division=city,
        uscc=USCC_A,
    )  # fmt: skip
    bureau = Department.objects.create(
        code="samr", name="示范市市场监督管理局", short_name="市场监管局",
        kind=DepartmentKind.BUREAU, division=city, parent=gov, phone="0351-1234567",
    )  # fmt: skip
    return [gov, bureau]


def _xlsx(rows: list[list[object]], headers: list[str] = HEADERS) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def _snapshot() -> list[tuple[object, ...]]:
    return list(
        Department.objects.order_by("code").values_list(
            "code", "name", "short_name", "kind", "division__code", "parent__code", "uscc",
            "phone", "address", "is_active",
        )
    )  # fmt: skip


def test_export_then_import_round_trips_without_a_change(departments: list[Department]) -> None:
    before = _snapshot()
    buffer = io.BytesIO()
    assert export_departments(buffer) == 2
    buffer.seek(0)
    sheet = load_workbook(buffer).worksheets[0]
    assert [c.value for c in sheet[1]] == HEADERS
    assert [c.value for c in sheet[3]][:4] == [
        "samr",
        "示范市市场监督管理局",
        "市场监管局",
        "委办局",
    ]
    buffer.seek(0)
    result = import_departments(buffer)
    assert result.unchanged == ["gov", "samr"]
    assert result.created == result.updated == []
    assert _snapshot() == before


def test_an_exported_file_recreates_the_departments_in_an_empty_system(
    departments: list[Department],
) -> None:
    buffer = io.BytesIO()
    export_departments(buffer)
    before = _snapshot()
    Department.objects.filter(code="samr").delete()
    Department.objects.filter(code="gov").delete()
    buffer.seek(0)
    result = import_departments(buffer)
    assert sorted(result.created) == ["gov", "samr"]
    assert _snapshot() == before


def test_import_creates_updates_and_accepts_a_parent_further_down(city: Division) -> None:
    Department.objects.create(code="tax", name="旧名称", kind="bureau", division=city)
    source = _xlsx(
        [
            ["tax", "示范市税务局", "税务局", "委办局", 149800, "gov", "", "", "", "是"],
            ["gov", "示范市人民政府", "", "government", "149800", "", USCC_B.lower(), "", "", ""],
        ]
    )
    result = import_departments(source)
    assert result.created == ["gov"]
    assert result.updated == ["tax"]
    tax = Department.objects.get(code="tax")
    assert tax.name == "示范市税务局"
    assert tax.parent is not None
    assert tax.parent.code == "gov"
    assert Department.objects.get(code="gov").uscc == USCC_B


def test_a_bad_file_is_refused_whole_with_a_chinese_report_per_row(
    departments: list[Department],
) -> None:
    before = _snapshot()
    source = _xlsx(
        [
            ["new-ok", "示范市新部门", "", "委办局", "149800", "", "", "", "", "是"],
            ["bad-uscc", "生态环境局", "", "委办局", "149800", "", USCC_BAD_CHECK, "", "", ""],
            ["", "无代码部门", "", "局", "999999", "nope", "", "", "", "也许"],
            ["dup", "部门甲", "", "委办局", "149800", "", USCC_A, "", "", ""],
        ]
    )  # fmt: skip
    with pytest.raises(DepartmentImportError) as raised:
        import_departments(source)
    report = [str(e) for e in raised.value.row_errors]
    assert any(
        line.startswith("第 3 行「统一社会信用代码」：") and "校验码错误" in line for line in report
    ), report
    assert "第 4 行「部门代码」：不能为空" in report
    assert any(line.startswith("第 4 行「部门类型」：须为以下之一") for line in report)
    assert any(
        line.startswith("第 4 行「行政区划代码」：行政区划代码 999999 不存在") for line in report
    )
    assert any(line.startswith("第 4 行「是否启用」") for line in report)
    assert _snapshot() == before
    assert not Department.objects.filter(code="new-ok").exists()


def test_references_are_checked_against_the_file_and_the_system(
    departments: list[Department],
) -> None:
    source = _xlsx(
        [
            ["a", "部门甲", "", "委办局", "149800", "b", "", "", "", ""],
            ["b", "部门乙", "", "委办局", "149800", "a", "", "", "", ""],
            ["c", "部门丙", "", "委办局", "149800", "ghost", USCC_A, "", "", ""],
        ]
    )
    with pytest.raises(DepartmentImportError) as raised:
        import_departments(source)
    report = [str(e) for e in raised.value.row_errors]
    assert any(line.startswith("第 2 行「上级部门代码」：上级部门关系形成循环") for line in report)
    assert any("ghost 既不在文件中，也不在系统中" in line for line in report)
    assert "第 4 行「统一社会信用代码」：已被系统中的部门 gov 使用" in report


def test_a_missing_column_and_a_non_excel_file_are_refused(city: Division) -> None:
    with pytest.raises(DepartmentImportError) as raised:
        import_departments(_xlsx([["x", "名称"]], headers=["部门代码", "部门名称"]))
    assert "第 1 行「部门类型」：缺少此列：表头须与导出文件一致" in [
        str(e) for e in raised.value.row_errors
    ]
    with pytest.raises(ValidationError, match="xlsx"):
        import_departments(io.BytesIO("部门代码,部门名称\n".encode("gbk")))


def test_a_uscc_may_move_between_two_departments_of_the_file(
    departments: list[Department],
) -> None:
    source = _xlsx(
        [
            ["gov", "示范市人民政府", "", "委办局", "149800", "", USCC_B, "", "", ""],
            ["samr", "示范市市场监督管理局", "", "委办局", "149800", "gov", USCC_A, "", "", ""],
        ]
    )
    result = import_departments(source)
    assert sorted(result.updated) == ["gov", "samr"]
    assert Department.objects.get(code="samr").uscc == USCC_A


def test_the_command_exports_and_imports(departments: list[Department], tmp_path: Path) -> None:
    path = tmp_path / "departments.xlsx"
    out = io.StringIO()
    call_command("departments", "export", str(path), stdout=out)
    assert "已导出 2 个部门" in out.getvalue()
    call_command("departments", "import", str(path), stdout=out)
    assert "未变 2 个" in out.getvalue()
    path.write_bytes(_xlsx([["", "", "", "", "", "", "", "", "", ""], ["x"]]).getvalue())
    err = io.StringIO()
    with pytest.raises(CommandError, match="未导入"):
        call_command("departments", "import", str(path), stdout=out, stderr=err)
    assert "第 3 行「部门名称」：不能为空" in err.getvalue()


@pytest.fixture
def admin_client(client: Client, city: Division) -> Client:
    admin = User.objects.create_user(
        username="admin", password="Persona@2026x", kind=AccountKind.ADMIN,
        is_staff=True, is_superuser=True,
    )  # fmt: skip
    client.force_login(admin)
    return client


def test_admin_lists_searches_and_exports_departments(
    admin_client: Client, departments: list[Department]
) -> None:
    changelist = reverse("admin:core_department_changelist")
    response = admin_client.get(changelist, {"q": "市场监督"})
    assert response.status_code == 200
    assert "示范市市场监督管理局" in response.content.decode()
    assert reverse("admin:core_department_import") in response.content.decode()
    response = admin_client.get(reverse("admin:core_department_export"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.max_row == 3
    page = admin_client.get(reverse("admin:core_department_change", args=[departments[1].pk]))
    assert page.status_code == 200
    assert "岗位" in page.content.decode()


def test_admin_import_shows_the_row_report_and_writes_nothing(
    admin_client: Client, departments: list[Department]
) -> None:
    bad = _xlsx([["new", "新部门", "", "委办局", "149800", "", "123", "", "", ""]])
    bad.name = "bad.xlsx"
    response = admin_client.post(reverse("admin:core_department_import"), {"file": bad})
    assert response.status_code == 200
    assert "第 2 行「统一社会信用代码」" in response.content.decode()
    assert not Department.objects.filter(code="new").exists()
    good = _xlsx([["new", "新部门", "", "委办局", "149800", "", "", "", "", ""]])
    good.name = "good.xlsx"
    response = admin_client.post(reverse("admin:core_department_import"), {"file": good})
    assert response.status_code == 302
    assert Department.objects.filter(code="new").exists()


def test_admin_import_refuses_staff_without_the_permission(client: Client, city: Division) -> None:
    clerk = User.objects.create_user(
        username="clerk", password="Persona@2026x", kind=AccountKind.STAFF, is_staff=True
    )
    client.force_login(clerk)
    assert client.get(reverse("admin:core_department_import")).status_code == 403
    assert client.get(reverse("admin:core_department_export")).status_code == 403


def test_the_error_report_downloads_as_a_workbook_listing_every_row():
    from openpyxl import load_workbook

    from digitalcity.core.imports import RowError, error_report_xlsx

    data = error_report_xlsx(
        [RowError(3, "统一社会信用代码", "校验码错误"), RowError(0, "文件", "为空")]
    )
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows == [
        ("行号", "列", "问题"),
        (3, "统一社会信用代码", "校验码错误"),
        (None, "文件", "为空"),
    ]
