"""Factories and a small world for the approval tests: department A leads, B co-reviews;
A has a window clerk and a head; personas from identity's factories."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from digitalcity.cases.models import Case
from digitalcity.core.models import MembershipRole
from digitalcity.identity.models import AccountKind, User
from digitalcity.identity.tests.factories import MembershipFactory, Personas, UserFactory

from ..choices import ApplicantKind, ItemKind
from ..models import Item, ItemMaterial

FORM_SPEC = [
    {"name": "shop_name", "label": "经营场所名称", "type": "text", "required": True},
    {"name": "area", "label": "经营面积（平方米）", "type": "number", "required": True},
    {"name": "opening", "label": "拟开业日期", "type": "date"},
    {
        "name": "category",
        "label": "经营类别",
        "type": "choice",
        "required": True,
        "choices": ["预包装食品销售", "餐饮服务"],
    },
]
FORM_DATA = {
    "shop_name": "老街面馆",
    "area": "86.5",
    "opening": "2026-12-01",
    "category": "餐饮服务",
}


@dataclass
class World:
    p: Personas
    window_a: User
    head_a: User
    head_b: User
    item: Item  # two departments, citizens or legal persons
    single: Item  # department A alone, legal persons only


def pdf_bytes(text: str = "licence material") -> bytes:
    body = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>endobj\n"
        + f"4 0 obj<</Length {len(body)}>>stream\n".encode()
        + body
        + b"\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def pdf_upload(name: str = "材料.pdf", text: str = "material") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(text), content_type="application/pdf")


def png_upload(name: str = "photo.png") -> SimpleUploadedFile:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def make_item(p: Personas, *, code: str, co: bool = True, **kw: Any) -> Item:
    defaults: dict[str, Any] = {
        "name": "食品经营许可",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "lead_department": p.department_a,
        "applicant_kind": ApplicantKind.ANY,
        "kind": ItemKind.PROMISED,
        "legal_days": 45 if co else 20,
        "promised_days": 10,
        "review_days": 5,
        "result_name": "食品经营许可证",
        "validity_years": 5,
        "licence_prefix": "SPJY",
        "form_spec": FORM_SPEC,
    }
    defaults.update(kw)
    item = Item.objects.create(code=code, **defaults)
    if co:
        item.co_departments.add(p.department_b)
    ItemMaterial.objects.create(item=item, code="id_card", name="身份证明", order=1)
    ItemMaterial.objects.create(item=item, code="floor_plan", name="经营场所平面图", order=2)
    ItemMaterial.objects.create(
        item=item, code="business_licence", name="营业执照", shared=True, order=3
    )
    ItemMaterial.objects.create(
        item=item, code="health_cert", name="从业人员健康证明", required=False, order=4
    )
    return item


def make_world(p: Personas) -> World:
    staff = {"kind": AccountKind.STAFF, "id_number": None}
    window_a = UserFactory.create(username="window_a", real_name="窗口甲", **staff)
    head_a = UserFactory.create(username="head_a", real_name="局长甲", **staff)
    head_b = UserFactory.create(username="head_b", real_name="局长乙", **staff)
    MembershipFactory.create(user=window_a, department=p.department_a, role=MembershipRole.WINDOW)
    MembershipFactory.create(user=head_a, department=p.department_a, role=MembershipRole.HEAD)
    MembershipFactory.create(user=head_b, department=p.department_b, role=MembershipRole.HEAD)
    item = make_item(p, code="SPJY-001")
    single = make_item(
        p,
        code="GTGS-001",
        co=False,
        name="公共场所卫生许可",
        applicant_kind=ApplicantKind.LEGAL_PERSON,
        result_name="公共场所卫生许可证",
        licence_prefix="WSXK",
        validity_years=4,
    )
    return World(p=p, window_a=window_a, head_a=head_a, head_b=head_b, item=item, single=single)


def uploads() -> dict[str, SimpleUploadedFile]:
    return {
        "id_card": pdf_upload("身份证.pdf", "id"),
        "floor_plan": pdf_upload("平面图.pdf", "plan"),
    }


def case_of(application: Any) -> Case:
    """The application's case (submitted applications have one)."""
    assert application.case is not None
    case: Case = application.case
    return case
