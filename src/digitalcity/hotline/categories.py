"""The seeded category tree (诉求分类): a local 2+2+2 code table (大类 · 中类 · 小类).

It follows the shape of GB/T 39666's classification (two digits per level) but it is
our own table of common 12345 categories, not the national code list (docs/hotline.md):
a city edits it in the admin.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CATEGORY_TREE", "flat_categories", "seed_categories"]

# (code, name, keywords, children)
CATEGORY_TREE: tuple[tuple[str, str, str, tuple[Any, ...]], ...] = (
    (
        "01",
        "城乡建设与管理",
        "",
        (
            (
                "0101",
                "市容环境",
                "",
                (
                    ("010101", "垃圾清运", "垃圾 清运 垃圾桶 堆放"),
                    ("010102", "违章搭建", "违建 搭建 私搭乱建"),
                    ("010103", "占道经营", "占道 摊贩 摆摊"),
                ),
            ),
            (
                "0102",
                "市政设施",
                "",
                (
                    ("010201", "道路破损", "道路 坑洼 破损 路面"),
                    ("010202", "路灯故障", "路灯 不亮 灯"),
                    ("010203", "井盖缺失", "井盖 缺失 窨井"),
                ),
            ),
            (
                "0103",
                "物业管理",
                "",
                (
                    ("010301", "物业服务", "物业 服务 小区"),
                    ("010302", "电梯故障", "电梯 困人 故障"),
                ),
            ),
        ),
    ),
    (
        "02",
        "公用事业",
        "",
        (
            (
                "0201",
                "供水",
                "",
                (
                    ("020101", "停水", "停水 没水 水压"),
                    ("020102", "水质", "水质 浑浊 异味"),
                ),
            ),
            ("0202", "供电", "", (("020201", "停电", "停电 断电 电压"),)),
            ("0203", "供气", "", (("020301", "燃气", "燃气 煤气 天然气 漏气"),)),
            ("0204", "供暖", "", (("020401", "供暖不热", "暖气 供暖 不热 温度"),)),
        ),
    ),
    (
        "03",
        "交通运输",
        "",
        (
            (
                "0301",
                "公共交通",
                "",
                (
                    ("030101", "公交服务", "公交 线路 站点 司机"),
                    ("030102", "出租车", "出租车 网约车 拒载 绕路"),
                ),
            ),
            (
                "0302",
                "交通秩序",
                "",
                (
                    ("030201", "违章停车", "停车 占用 堵路"),
                    ("030202", "信号灯", "红绿灯 信号灯"),
                ),
            ),
        ),
    ),
    (
        "04",
        "生态环境",
        "",
        (
            (
                "0401",
                "污染",
                "",
                (
                    ("040101", "噪声扰民", "噪音 噪声 施工 扰民 夜间"),
                    ("040102", "大气污染", "烟尘 异味 焚烧 排放"),
                    ("040103", "水污染", "排污 河道 污水"),
                ),
            ),
        ),
    ),
    (
        "05",
        "市场监管",
        "",
        (
            (
                "0501",
                "消费维权",
                "",
                (
                    ("050101", "商品质量", "质量 假货 退货"),
                    ("050102", "预付卡", "预付卡 办卡 退费 跑路"),
                ),
            ),
            (
                "0502",
                "食品药品",
                "",
                (
                    ("050201", "食品安全", "食品 过期 变质 餐馆 卫生"),
                    ("050202", "药品安全", "药品 药店"),
                ),
            ),
        ),
    ),
    (
        "06",
        "劳动与社会保障",
        "",
        (
            (
                "0601",
                "劳动关系",
                "",
                (
                    ("060101", "拖欠工资", "工资 拖欠 欠薪 农民工"),
                    ("060102", "劳动合同", "合同 辞退 加班"),
                ),
            ),
            ("0602", "社会保险", "", (("060201", "社保缴纳", "社保 养老 医保 缴费"),)),
        ),
    ),
    (
        "07",
        "公共安全",
        "",
        (
            (
                "0701",
                "安全隐患",
                "",
                (
                    ("070101", "消防隐患", "消防 通道 火灾 隐患"),
                    ("070102", "危房险情", "危房 倒塌 裂缝"),
                ),
            ),
        ),
    ),
    (
        "08",
        "政务服务",
        "",
        (
            (
                "0801",
                "办事咨询",
                "",
                (
                    ("080101", "证照办理", "办理 证件 营业执照 身份证 户口"),
                    ("080102", "政策咨询", "政策 补贴 咨询"),
                ),
            ),
            ("0802", "工作人员", "", (("080201", "服务态度", "态度 不作为 推诿"),)),
        ),
    ),
    ("99", "其他", "", (("9901", "其他", "", (("990101", "其他诉求", ""),)),)),
)


def flat_categories() -> list[tuple[str, str, str, str | None]]:
    """(code, name, keywords, parent code) for every node, parents first."""
    rows: list[tuple[str, str, str, str | None]] = []

    def walk(nodes: tuple[Any, ...], parent: str | None) -> None:
        for node in nodes:
            code, name, keywords = node[0], node[1], node[2]
            rows.append((code, name, keywords, parent))
            if len(node) > 3:
                walk(node[3], code)

    walk(CATEGORY_TREE, None)
    return rows


def seed_categories(category_model: Any = None) -> int:
    """Create the missing categories (idempotent; existing rows are left as edited)."""
    if category_model is None:
        from .models import Category as category_model
    existing = dict(category_model.objects.values_list("code", "pk"))
    created = 0
    for code, name, keywords, parent in flat_categories():
        if code in existing:
            continue
        row = category_model.objects.create(
            code=code,
            name=name,
            keywords=keywords,
            parent_id=existing.get(parent) if parent else None,
        )
        existing[code] = row.pk
        created += 1
    return created
