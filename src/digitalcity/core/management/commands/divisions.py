"""`digitalcity divisions load|show`: load administrative divisions, or show one.

digitalcity divisions load                              # GB/T 2260 provinces … counties
digitalcity divisions load --with-townships 3301        # + NBS townships of 杭州
digitalcity divisions load --with-communities 330106    # + communities of 西湖区
digitalcity divisions show 110103
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from digitalcity.core import divisions as services
from digitalcity.core.models import DivisionLevel

STAGE_LABELS = {
    DivisionLevel.PROVINCE.value: "省级（GB/T 2260）",
    DivisionLevel.CITY.value: "地级（GB/T 2260）",
    DivisionLevel.COUNTY.value: "县级（GB/T 2260）",
    "nbs_county": "县级（统计用区划补充）",
    "township": "乡级（统计用区划）",
    "community": "村级（统计用区划）",
}


class Command(BaseCommand):
    help = "导入行政区划（GB/T 2260 与国家统计局统计用区划代码），或查看一个区划。"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="导入或刷新行政区划（重复执行不产生变化）")
        load.add_argument(
            "--prefix",
            default="",
            help="只导入代码以此开头的地级、县级区划（如本省 33）；省级区划总是全部导入",
        )
        load.add_argument(
            "--with-townships",
            metavar="PREFIX",
            nargs="?",
            const="",
            default=None,
            help="同时导入代码以 PREFIX 开头的乡级区划（不给 PREFIX 则导入全国，约 4.1 万条）",
        )
        load.add_argument(
            "--with-communities",
            metavar="PREFIX",
            nargs="?",
            const="",
            default=None,
            help="同时导入代码以 PREFIX 开头的村级区划（不给 PREFIX 则导入全国，约 62 万条）",
        )
        load.add_argument("--no-progress", action="store_true", help="不显示进度条")
        show = sub.add_parser("show", help="显示一个区划的路径和下级")
        show.add_argument("code", help="区划代码（6、9 或 12 位）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            self._load(options)
        else:
            self._show(options["code"])

    def _load(self, options: dict[str, Any]) -> None:
        bars: dict[str, tqdm[Any]] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in bars:
                # Stages run one after another: finish the previous bar first.
                for bar in bars.values():
                    bar.close()
                bars[stage] = tqdm(
                    total=total, desc=STAGE_LABELS.get(stage, stage), unit="条", file=self.stderr
                )
            bars[stage].update(done)

        try:
            result = services.load_divisions(
                prefix=options["prefix"],
                townships=options["with_townships"],
                communities=options["with_communities"],
                progress=None if options["no_progress"] else progress,
            )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        finally:
            for bar in bars.values():
                bar.close()
        for stage, label in STAGE_LABELS.items():
            counts = [
                bucket.get(stage, 0)
                for bucket in (result.created, result.updated, result.unchanged, result.skipped)
            ]
            if any(counts):
                line = "{}：新增 {}，更新 {}，未变 {}，跳过 {}".format(label, *counts)
                self.stdout.write(line)
        if any(result.skipped.values()):
            self.stdout.write("（跳过：代码已由本地数据或 GB/T 2260 数据占用，或上级区划缺失）")

    def _show(self, code: str) -> None:
        try:
            path = services.division_path(code)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        division = path[-1]
        self.stdout.write(" → ".join(f"{d.name}（{d.code}）" for d in path))
        years = f"{division.valid_from or '…'}–{division.valid_until or '今'}"
        self.stdout.write(
            f"级别：{division.get_level_display()}；来源：{division.get_source_display()}；"
            f"有效：{years}"
        )
        for child in services.children_of(division.code):
            mark = "" if child.is_current else f"（{child.valid_until} 年撤销）"
            self.stdout.write(f"  {child.code} {child.name}{mark}")
