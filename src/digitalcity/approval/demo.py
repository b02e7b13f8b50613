"""The demo city's approval catalog (about ten real items with their legal bases) and a few
applications in various states, through the real services as the demo personas.

Idempotent: items are created or updated by code; applications only when there are none.
The applications use the current time (the services take no explicit "now"); if a clock
would reach a year without calendar data they are skipped with a warning, as in
cases.demo, rather than inventing deadlines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from digitalcity.cases.choices import TaskOutcome
from digitalcity.core.models import Department
from digitalcity.identity.models import User

from .choices import ApplicantKind, ItemKind, ResultKind, Visits
from .models import Application, Item, ItemMaterial
from .services import (
    application_accept,
    application_apply,
    application_ask_correction,
    application_grant,
    material_set_template,
    review_opinion,
)

__all__ = ["ITEMS", "seed_approval"]

logger = logging.getLogger("digitalcity.approval")

_BUSINESS = ("business_licence", "营业执照", True, True)
_ID = ("id_card", "申请人身份证明", True, True)


@dataclass(frozen=True)
class DemoItem:
    code: str
    name: str
    legal_basis: str
    lead: str
    co: tuple[str, ...]
    applicant_kind: str
    legal_days: int
    promised_days: int
    result_name: str
    validity_years: int | None
    prefix: str
    visits: int = Visits.ZERO
    kind: str = ItemKind.PROMISED
    review_days: int = 5
    result_kind: str = ResultKind.LICENCE
    levels: tuple[str, ...] = ("city", "county")
    materials: tuple[tuple[str, str, bool, bool], ...] = ()
    form: list[dict[str, Any]] = field(default_factory=list)


_SHOP_FORM = [
    {"name": "premises", "label": "经营场所", "type": "text", "required": True},
    {"name": "area", "label": "经营面积（平方米）", "type": "number", "required": True},
    {
        "name": "category",
        "label": "经营项目",
        "type": "choice",
        "required": True,
        "choices": ["预包装食品销售", "散装食品销售", "热食类食品制售", "冷食类食品制售"],
    },
    {"name": "contact", "label": "联系人手机", "type": "phone", "required": True},
]

# Legal limits are the item's own law where it sets one, else the Administrative
# Licensing Law's 20 working days (Art. 42); promised limits are the city's commitment.
ITEMS: tuple[DemoItem, ...] = (
    DemoItem(
        "SPJY-001",
        "食品经营许可（新办）",
        "《中华人民共和国食品安全法》第三十五条：从事食品生产、食品销售、餐饮服务，应当依法取得许可。",
        "approval",
        ("samr",),
        ApplicantKind.LEGAL_PERSON,
        20,
        10,
        "食品经营许可证",
        5,
        "JY",
        materials=(
            _BUSINESS,
            ("floor_plan", "经营场所平面布局图", True, False),
            ("safety_rules", "食品安全管理制度", True, False),
            ("health_cert", "从业人员健康证明", False, False),
        ),
        form=_SHOP_FORM,
    ),
    DemoItem(
        "GTGS-001",
        "个体工商户设立登记",
        "《促进个体工商户发展条例》；《中华人民共和国市场主体登记管理条例》第十九条："
        "申请材料齐全、符合法定形式的予以确认并当场登记，不能当场登记的，应当在3个工作日内予以登记。",
        "samr",
        (),
        ApplicantKind.CITIZEN,
        3,
        1,
        "营业执照",
        None,
        "GT",
        kind=ItemKind.IMMEDIATE,
        review_days=1,
        materials=(_ID, ("premises_proof", "经营场所使用证明", True, False)),
        form=[
            {"name": "trade_name", "label": "个体工商户名称", "type": "text", "required": True},
            {"name": "scope", "label": "经营范围", "type": "textarea", "required": True},
            {"name": "capital", "label": "资金数额（万元）", "type": "number"},
            {
                "name": "operator_id",
                "label": "经营者身份证号码",
                "type": "id_number",
                "required": True,
            },
        ],
    ),
    DemoItem(
        "JSGH-001",
        "建设工程规划许可",
        "《中华人民共和国城乡规划法》第四十条：在城市、镇规划区内进行建筑物、构筑物、道路、管线和其他"
        "工程建设的，建设单位或者个人应当向城市、县人民政府城乡规划主管部门申请办理建设工程规划许可证。",
        "natural-resources",
        ("housing",),
        ApplicantKind.LEGAL_PERSON,
        20,
        12,
        "建设工程规划许可证",
        None,
        "JG",
        visits=Visits.ONE,
        materials=(
            _BUSINESS,
            ("land_cert", "使用土地的有关证明文件", True, False),
            ("design", "建设工程设计方案", True, False),
        ),
        form=[
            {"name": "project", "label": "项目名称", "type": "text", "required": True},
            {
                "name": "floor_area",
                "label": "总建筑面积（平方米）",
                "type": "number",
                "required": True,
            },
            {"name": "location", "label": "建设位置", "type": "text", "required": True},
        ],
    ),
    DemoItem(
        "PWXK-001",
        "排污许可",
        "《排污许可管理条例》第二条、第十三条：审批部门应当自受理申请之日起20日内作出审批决定。",
        "ecology",
        (),
        ApplicantKind.LEGAL_PERSON,
        20,
        15,
        "排污许可证",
        5,
        "PW",
        materials=(
            _BUSINESS,
            ("eia", "环境影响评价文件审批意见", True, False),
            ("monitoring", "自行监测方案", True, False),
        ),
        form=[
            {"name": "industry", "label": "行业类别", "type": "text", "required": True},
            {"name": "outlets", "label": "排放口数量", "type": "integer", "required": True},
        ],
    ),
    DemoItem(
        "DLYS-001",
        "道路普通货物运输经营许可",
        "《中华人民共和国道路运输条例》第二十一条、第二十四条。",
        "approval",
        (),
        ApplicantKind.LEGAL_PERSON,
        20,
        10,
        "道路运输经营许可证",
        None,
        "YS",
        materials=(
            _BUSINESS,
            ("vehicles", "车辆情况说明及行驶证", True, False),
            ("drivers", "驾驶人员从业资格证", True, False),
        ),
        form=[{"name": "vehicles", "label": "营运车辆数", "type": "integer", "required": True}],
    ),
    DemoItem(
        "GGWS-001",
        "公共场所卫生许可",
        "《公共场所卫生管理条例》第八条：经营单位须取得“卫生许可证”后，方可向工商行政管理部门申请登记。",
        "health",
        (),
        ApplicantKind.LEGAL_PERSON,
        20,
        10,
        "公共场所卫生许可证",
        4,
        "WS",
        visits=Visits.ONE,
        materials=(
            _BUSINESS,
            ("hygiene_rules", "卫生管理制度", True, False),
            ("testing", "卫生检测报告", True, False),
        ),
        form=[
            {"name": "venue", "label": "场所名称", "type": "text", "required": True},
            {
                "name": "kind",
                "label": "场所类别",
                "type": "choice",
                "required": True,
                "choices": ["宾馆", "美容美发", "沐浴场所", "游泳场所", "商场"],
            },
        ],
    ),
    DemoItem(
        "PSXK-001",
        "城镇污水排入排水管网许可",
        "《城镇排水与污水处理条例》第二十一条：从事工业、建筑、餐饮、医疗等活动的企业事业单位、"
        "个体工商户向城镇排水设施排放污水的，应当向城镇排水主管部门申请领取污水排入排水管网许可证。",
        "housing",
        ("ecology",),
        ApplicantKind.ANY,
        20,
        10,
        "城镇污水排入排水管网许可证",
        5,
        "PS",
        materials=(_BUSINESS, ("pipes", "排水户内部排水管网平面图", True, False)),
        form=[
            {"name": "daily_volume", "label": "日排水量（吨）", "type": "number", "required": True}
        ],
    ),
    DemoItem(
        "SGXK-001",
        "建筑工程施工许可",
        "《中华人民共和国建筑法》第七条、第八条。",
        "housing",
        (),
        ApplicantKind.LEGAL_PERSON,
        7,
        3,
        "建筑工程施工许可证",
        None,
        "SG",
        visits=Visits.ONE,
        materials=(
            _BUSINESS,
            ("planning", "建设工程规划许可证", True, True),
            ("contract", "施工合同", True, False),
        ),
        form=[
            {"name": "project", "label": "工程名称", "type": "text", "required": True},
            {"name": "cost", "label": "合同价格（万元）", "type": "number", "required": True},
        ],
    ),
    DemoItem(
        "JZLJ-001",
        "城市建筑垃圾处置核准",
        "《国务院对确需保留的行政审批项目设定行政许可的决定》；《城市市容和环境卫生管理条例》。",
        "urban-management",
        (),
        ApplicantKind.LEGAL_PERSON,
        20,
        5,
        "城市建筑垃圾处置核准决定书",
        None,
        "LJ",
        result_kind=ResultKind.DECISION,
        materials=(_BUSINESS, ("plan", "建筑垃圾处置方案", True, False)),
    ),
    DemoItem(
        "YHBZ-001",
        "烟花爆竹经营（零售）许可",
        "《烟花爆竹安全管理条例》第三条、第十九条。",
        "emergency",
        (),
        ApplicantKind.ANY,
        20,
        10,
        "烟花爆竹经营（零售）许可证",
        None,
        "YH",
        visits=Visits.ONE,
        levels=("county",),
        materials=(_ID, ("storage", "储存场所安全条件说明", True, False)),
    ),
    DemoItem(
        "YSZC-001",
        "医师执业注册",
        "《中华人民共和国医师法》第十三条、第十四条。",
        "health",
        (),
        ApplicantKind.CITIZEN,
        20,
        10,
        "医师执业证书",
        None,
        "YS",
        materials=(
            _ID,
            ("qualification", "医师资格证书", True, False),
            ("health", "健康证明", True, False),
        ),
        form=[{"name": "practice_scope", "label": "执业范围", "type": "text", "required": True}],
    ),
)


def _pdf(text: str) -> SimpleUploadedFile:
    body = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    data = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>endobj\n"
        + f"4 0 obj<</Length {len(body)}>>stream\n".encode()
        + body
        + b"\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return SimpleUploadedFile(f"{text}.pdf", data, content_type="application/pdf")


def seed_items() -> int:
    """Create or update the demo items; returns how many (0 if departments are missing)."""
    departments = {d.code: d for d in Department.objects.all()}
    count = 0
    with transaction.atomic():
        for spec in ITEMS:
            if spec.lead not in departments or any(c not in departments for c in spec.co):
                continue
            item, _created = Item.objects.update_or_create(
                code=spec.code,
                defaults={
                    "name": spec.name,
                    "legal_basis": spec.legal_basis,
                    "lead_department": departments[spec.lead],
                    "applicant_kind": spec.applicant_kind,
                    "kind": spec.kind,
                    "legal_days": spec.legal_days,
                    "promised_days": spec.promised_days,
                    "review_days": spec.review_days,
                    "result_kind": spec.result_kind,
                    "result_name": spec.result_name,
                    "validity_years": spec.validity_years,
                    "licence_prefix": spec.prefix,
                    "visits": spec.visits,
                    "division_levels": list(spec.levels),
                    "form_spec": spec.form,
                },
            )
            item.co_departments.set([departments[c] for c in spec.co])
            for order, (code, name, required, shared) in enumerate(spec.materials, start=1):
                ItemMaterial.objects.update_or_create(
                    item=item,
                    code=code,
                    defaults={"name": name, "required": required, "shared": shared, "order": order},
                )
            count += 1
    return count


_FOOD = {
    "premises": "示范市中心区解放路18号",
    "area": "120",
    "category": "热食类食品制售",
    "contact": "13900000010",
}


def _food(users: dict[str, User], subject: str) -> Application:
    item = Item.objects.get(code="SPJY-001")
    return application_apply(
        item=item,
        actor=users["enterprise"],
        form_data={**_FOOD, "premises": subject},
        uploads={"floor_plan": _pdf("plan"), "safety_rules": _pdf("rules")},
    )


#: Material templates (样表) the demo attaches: (item, material) -> (file name, rows).
TEMPLATES: dict[tuple[str, str], tuple[str, list[list[str]]]] = {
    ("SPJY-001", "safety_rules"): (
        "食品安全管理制度（样表）.xlsx",
        [
            ["制度名称", "主要内容", "责任人", "执行记录"],
            ["从业人员健康管理制度", "每年健康检查，持证上岗", "", ""],
            ["进货查验记录制度", "查验供货者许可证和产品合格证明", "", ""],
            ["食品安全自查制度", "每月自查并记录", "", ""],
        ],
    ),
    ("PWXK-001", "monitoring"): (
        "自行监测方案（样表）.xlsx",
        [
            ["排放口编号", "监测因子", "监测频次", "监测方法"],
            ["DW001", "化学需氧量", "每月一次", "HJ 828-2017"],
            ["DW001", "氨氮", "每月一次", "HJ 535-2009"],
        ],
    ),
}


def _xlsx(name: str, rows: list[list[str]]) -> SimpleUploadedFile:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(
        name,
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def seed_templates() -> int:
    """Attach the demo templates (样表) that are still missing, as the administrator."""
    admin = User.objects.filter(username="admin", is_active=True).first()
    if admin is None:
        return 0
    count = 0
    for (item_code, code), (name, rows) in TEMPLATES.items():
        material = ItemMaterial.objects.filter(
            item__code=item_code, code=code, template__isnull=True
        ).first()
        if material is not None:
            material_set_template(material=material, actor=admin, upload=_xlsx(name, rows))
            count += 1
    return count


def seed_approval() -> int:
    """Seed the catalog, then (once) a few applications; returns applications created."""
    if not seed_items():
        return 0
    seed_templates()
    if Application.objects.exists():
        return 0
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["window", "head", "samr", "eco", "citizen", "enterprise"]
        )
    }
    if len(users) < 6:
        return 0
    try:
        with transaction.atomic():
            return _seed_applications(users)
    except ValidationError as error:
        logger.warning("示例审批申请未创建：%s", "；".join(error.messages))
        return 0


def _seed_applications(users: dict[str, User]) -> int:
    # 1. Waiting for acceptance at the window.
    _food(users, "示范市中心区解放路18号")
    # 2. Accepted: the approval bureau and market supervision review in parallel.
    reviewing = _food(users, "示范市中心区建设路66号")
    application_accept(application=reviewing, actor=users["window"])
    # 3. Market supervision found a defect: correction requested, clocks paused.
    correcting = _food(users, "示范市中心区文化街9号")
    application_accept(application=correcting, actor=users["window"])
    application_ask_correction(
        application=correcting,
        actor=users["samr"],
        items=[{"material": "floor_plan", "problem": "平面图未标明生熟分区及面积"}],
    )
    # 4. Both opinions in: waiting for the bureau's decision.
    deciding = _food(users, "示范市中心区人民路101号")
    application_accept(application=deciding, actor=users["window"])
    for who in ("head", "samr"):
        review_opinion(
            application=deciding,
            actor=users[who],
            outcome=TaskOutcome.AGREE,
            opinion="经审查，符合条件，同意。",
        )
    # 5. A citizen's sole-trader registration, decided on the spot: licence ready.
    trader = application_apply(
        item=Item.objects.get(code="GTGS-001"),
        actor=users["citizen"],
        form_data={
            "trade_name": "示范市中心区小红便利店",
            "scope": "预包装食品零售；日用百货零售",
            "capital": "5",
            "operator_id": users["citizen"].id_number or "",
        },
        uploads={"premises_proof": _pdf("lease")},
    )
    application_accept(application=trader, actor=users["samr"])
    review_opinion(
        application=trader,
        actor=users["samr"],
        outcome=TaskOutcome.AGREE,
        opinion="材料齐全，当场登记。",
    )
    application_grant(
        application=trader,
        actor=users["samr"],
        opinion="准予登记",
        scope="预包装食品零售；日用百货零售",
    )
    # 6. Pollutant discharge permit, with the ecology bureau.
    permit = application_apply(
        item=Item.objects.get(code="PWXK-001"),
        actor=users["enterprise"],
        form_data={"industry": "电子元件制造", "outlets": "2"},
        uploads={"eia": _pdf("eia"), "monitoring": _pdf("monitoring")},
    )
    application_accept(application=permit, actor=users["eco"])
    return 6
