"""Demo knowledge base: about twenty published entries of the demo city (示范市).

`seed_knowledge()` is idempotent (does nothing once entries exist) and goes through the
real services: each entry is written by the 12345 agent, submitted, and published by a
reviewer who is not its author, so the demo shows versions and reviews as they happen.
The texts are the demo city's own wording, not quotations of any real city's rules.
"""

from __future__ import annotations

import logging

from digitalcity.core.models import Department
from digitalcity.identity.models import User

from . import knowledge as kb
from .conf import center_code
from .models import KnowledgeCategory, KnowledgeEntry

logger = logging.getLogger("digitalcity.hotline")

CATEGORIES = (
    ("housing", "住房保障与公积金"),
    ("social", "社会保障与医保"),
    ("household", "户籍与证件"),
    ("business", "企业开办与市场监管"),
    ("city", "城市管理与市政设施"),
    ("utilities", "水电气暖"),
    ("traffic", "交通出行"),
    ("education", "教育"),
    ("tax", "税费"),
    ("civil", "民政与社会救助"),
)

# (category, owner department code, title, body, keywords)
ENTRIES = (
    (
        "housing",
        "housing",
        "购房提取住房公积金需要哪些材料？",
        "职工购买本市自住住房的，可在购房合同备案后提取本人及配偶的住房公积金。需提供：本人身份证、"
        "购房合同、购房发票或付款凭证、本人银行卡；配偶提取另需结婚证。可在“示范市住房公积金”网上"
        "办事大厅或各管理部窗口办理，材料齐全的当场办结。",
        "公积金 提取 购房",
    ),
    (
        "housing",
        "housing",
        "租房可以提取住房公积金吗？",
        "本人及配偶在本市无自有住房且租房居住的，可按月或按季度提取住房公积金支付房租，每年提取"
        "总额不超过当年规定的租房提取限额。首次办理需提供身份证和无房情况承诺；已办理租赁备案的"
        "可按备案租金提取。",
        "公积金 租房 提取",
    ),
    (
        "housing",
        "housing",
        "公租房的申请条件和流程",
        "申请家庭须具有本市城区户籍或持本市居住证满一年，家庭人均收入和住房面积低于当年公布的"
        "标准。向户籍或居住地社区提出申请，经街道初审、区住建部门复审并公示 7 日无异议后轮候配租。",
        "公租房 保障房 申请",
    ),
    (
        "social",
        "hrss",
        "新生儿如何办理城乡居民医保？",
        "新生儿出生后 90 日内办理参保登记并缴费的，自出生之日起享受医保待遇。凭出生医学证明和户口簿"
        "（或监护人身份证）到户籍所在社区服务中心或通过“示范市医保”小程序办理。",
        "新生儿 医保 参保",
    ),
    (
        "social",
        "hrss",
        "异地就医如何备案？",
        "参保人员到外地长期居住、工作或转诊就医的，可通过国家医保服务平台 App 或本市医保经办窗口"
        "办理异地就医备案，备案后在就医地联网定点医院直接结算。临时外出就医的可先备案后就医。",
        "异地就医 备案 医保",
    ),
    (
        "social",
        "hrss",
        "失业保险金怎么申领？",
        "非因本人意愿中断就业、已办理失业登记并有求职要求、失业前参保缴费满一年的，可申领失业保险金。"
        "在人社部门网上服务大厅或窗口凭身份证和解除劳动关系证明申请，审核通过后按月发放。",
        "失业 失业金 申领",
    ),
    (
        "household",
        "police",
        "身份证丢失怎么补办？",
        "居民身份证丢失的，本人携带户口簿到户籍所在地或本市任一公安户政窗口申请补领，现场采集照片"
        "和指纹，缴纳工本费。补领期间可申请办理临时居民身份证。",
        "身份证 补办 丢失",
    ),
    (
        "household",
        "police",
        "新生儿落户需要什么材料？",
        "新生儿出生后一个月内，由监护人持出生医学证明、父母双方户口簿和身份证、结婚证到户籍所在地"
        "派出所申报出生登记；父母一方为本市户籍的可随其落户。",
        "落户 新生儿 户口",
    ),
    (
        "business",
        "samr",
        "个体工商户注册登记怎么办理？",
        "经营者可通过“示范市政务服务网”企业开办专区在线申请，提交经营者身份证、经营场所证明，"
        "名称自主申报，材料齐全的 1 个工作日内办结，可领取电子营业执照。",
        "个体户 营业执照 注册",
    ),
    (
        "business",
        "samr",
        "营业执照地址变更需要哪些材料？",
        "企业变更住所的，提交变更登记申请书、股东会决议或决定、新住所使用证明、修改后的公司章程。"
        "跨区变更的同时办理税务迁移。可全程网办。",
        "营业执照 变更 地址",
    ),
    (
        "business",
        "samr",
        "网购商品质量问题怎么投诉？",
        "消费者可先与商家协商；协商不成的，通过全国 12315 平台或拨打 12345 投诉，需提供订单号、"
        "商家名称、付款凭证和问题照片。市场监管部门自收到之日起 7 个工作日内决定是否受理。",
        "网购 投诉 质量 退货",
    ),
    (
        "city",
        "urban-management",
        "小区生活垃圾多久清运一次？",
        "城区生活垃圾实行日产日清，居民小区垃圾由物业或环卫单位每日至少清运一次。发现垃圾满溢、"
        "未及时清运的，可拨打 12345 反映，城管部门督促在 24 小时内处理。",
        "垃圾 清运 环卫",
    ),
    (
        "city",
        "urban-management",
        "路灯不亮找哪个部门？",
        "城市道路路灯由市城市管理局下属路灯管理所维护；小区内部路灯由物业负责。道路路灯故障一般"
        "在 48 小时内修复，请提供路名和最近的门牌号或灯杆编号。",
        "路灯 维修 照明",
    ),
    (
        "utilities",
        "housing",
        "停水了怎么查询原因？",
        "计划停水会提前 24 小时在供水集团公众号和小区公告栏通知；突发停水可拨打供水集团热线或 12345"
        "查询。抢修一般在 12 小时内恢复供水，超过 12 小时的应安排临时供水。",
        "停水 供水 抢修",
    ),
    (
        "utilities",
        "housing",
        "供暖温度不达标如何处理？",
        "供暖期内居室温度应不低于 18℃。温度不达标的，可先联系供热企业上门测温；测温不达标且"
        "48 小时内未处理的，可拨打 12345 投诉，住建部门督促整改并按规定退还部分采暖费。",
        "供暖 暖气 温度",
    ),
    (
        "traffic",
        "police",
        "机动车违章怎么处理？",
        "非现场违法记录可通过“交管 12123”App 查询并在线处理、缴纳罚款；需要记分的可在线学习减分。"
        "对违法记录有异议的，可到交警大队违法处理窗口申请复核。",
        "违章 交通 罚款",
    ),
    (
        "education",
        "gov",
        "小学入学报名需要什么条件？",
        "适龄儿童（当年 8 月 31 日前年满 6 周岁）按户籍和实际居住地相对划片就近入学。报名须提供"
        "户口簿、房产证明或居住证明，随迁子女另需父母居住证。报名时间以教育部门当年公告为准。",
        "入学 小学 报名",
    ),
    (
        "tax",
        "tax",
        "个人所得税汇算清缴怎么办理？",
        "每年 3 月 1 日至 6 月 30 日办理上一年度个人所得税综合所得汇算，可通过个人所得税 App 自行"
        "办理，也可委托单位或受托人办理。有应退税款的提交后一般在 15 个工作日内到账。",
        "个税 汇算 退税",
    ),
    (
        "civil",
        "civil-affairs",
        "低保怎么申请？",
        "共同生活的家庭成员人均收入低于当地低保标准且财产状况符合规定的，可向户籍所在地乡镇（街道）"
        "提出申请，经家庭经济状况核对、入户调查和公示后，由县级民政部门审批。",
        "低保 救助 申请",
    ),
    (
        "civil",
        "civil-affairs",
        "高龄津贴如何领取？",
        "本市户籍年满 80 周岁的老年人可申领高龄津贴，本人或家属持身份证、户口簿到社区申请，审核"
        "通过后次月起按月发放到本人社保卡。",
        "高龄津贴 老年人 补贴",
    ),
)


def seed_knowledge() -> int:
    """Create the demo knowledge base if it is empty; returns the entries created."""
    if KnowledgeEntry.objects.exists():
        return 0
    author = User.objects.filter(username="agent").first()
    reviewer = None
    if author is not None:
        reviewer = (
            User.objects.filter(username="admin").exclude(pk=author.pk).first()
            or User.objects.filter(is_superuser=True).exclude(pk=author.pk).first()
        )
    if author is None or reviewer is None:
        logger.warning("知识库示例数据未创建：缺少示范账号 agent 或 admin")
        return 0
    categories = {}
    for code, name in CATEGORIES:
        categories[code], _created = KnowledgeCategory.objects.get_or_create(
            code=code, defaults={"name": name}
        )
    departments = {d.code: d for d in Department.objects.filter(is_active=True)}
    created = 0
    for category, department, title, body, keywords in ENTRIES:
        # Missing departments (a city with other codes) fall back to the government, then
        # to the 12345 center itself.
        owner = (
            departments.get(department) or departments.get("gov") or departments.get(center_code())
        )
        if owner is None:
            continue
        entry = kb.entry_create(
            actor=author,
            category=categories[category],
            owner_department=owner,
            title=title,
            body=body,
            keywords=keywords,
        )
        version = entry.versions.get()
        kb.version_submit(version=version, actor=author)
        kb.version_review(version=version, actor=reviewer, approve=True)
        created += 1
    return created
