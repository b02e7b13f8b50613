"""Legal entities: credit code as the key, old organization codes mapped, registration and
tax sources, status 存续/注销/吊销."""

from __future__ import annotations

from collections.abc import Callable

from ..choices import BatchStatus, ConflictState
from ..models import Conflict, ImportBatch, Organization, SourceRecord
from ..queries import organization_by_code
from .factories import City, csv_bytes, field_origin, uscc

Load = Callable[..., ImportBatch]


def samr_row(n: int, **values: str) -> dict[str, str]:
    row = {
        "统一社会信用代码": uscc(n),
        "组织机构代码": "",
        "企业名称": f"示范市晨光{n}科技有限公司",
        "法定代表人": "周晨光",
        "住所": "示范市中心区人民路1号",
        "登记机关区划": "149801",
        "登记状态": "存续",
        "成立日期": "2019-03-04",
    }
    row.update(values)
    return row


def tax_row(n: int, **values: str) -> dict[str, str]:
    org = uscc(n)[8:17]
    row = {
        "纳税人识别号": "",
        "组织机构代码": f"{org[:8]}-{org[8]}",
        "纳税人名称": f"示范市晨光{n}科技有限公司",
        "法定代表人": "周晨光",
        "纳税状态": "正常",
    }
    row.update(values)
    return row


def test_an_old_organization_code_is_mapped_to_the_credit_code(load: Load) -> None:
    load("samr", csv_bytes([samr_row(1)]))
    batch = load("tax", csv_bytes([tax_row(1, 纳税状态="非正常户")]))
    assert batch.status == BatchStatus.LOADED, batch.error_report
    record = SourceRecord.objects.get(source__code="tax")
    assert (record.key, record.key_valid) == (uscc(1), True)
    org = Organization.objects.get()
    assert record.organization == org
    assert org.tax_status == "abnormal"
    assert field_origin(org, "tax_status").source == "tax"
    found = organization_by_code(f"{uscc(1)[8:16]}-{uscc(1)[16]}")
    assert found == org


def test_registration_is_authoritative_and_tax_is_cross_checked(load: Load, city: City) -> None:
    load("samr", csv_bytes([samr_row(2)]))
    load("tax", csv_bytes([tax_row(2, 纳税人识别号=uscc(2), 法定代表人="周光")]))
    org = Organization.objects.get()
    assert org.legal_representative == "周晨光"
    conflict = Conflict.objects.get()
    assert (conflict.field, conflict.other_source.code) == ("legal_representative", "tax")
    assert conflict.department == city.departments["samr"]
    assert conflict.state == ConflictState.OPEN


def test_a_revoked_licence_changes_the_status_with_a_version(load: Load) -> None:
    load("samr", csv_bytes([samr_row(3)]))
    load("samr", csv_bytes([samr_row(3, 登记状态="吊销")]))
    org = Organization.objects.get()
    assert org.status == "revoked"
    assert list(org.versions.order_by("version").values_list("snapshot__status", flat=True)) == [
        "active",
        "revoked",
    ]


def test_an_unmapped_organization_code_stays_without_a_key(load: Load) -> None:
    batch = load("tax", csv_bytes([tax_row(4)]))
    assert batch.status == BatchStatus.LOADED
    record = SourceRecord.objects.get()
    assert (record.key, record.key_valid) == (None, False)
    assert not Organization.objects.exists()
