"""`digitalcity demo`: seed the demo city 示范市 and print the demo logins."""

from __future__ import annotations

import unicodedata
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from digitalcity.core.context import acting_as
from digitalcity.web.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "创建演示城市“示范市”：行政区划、部门、演示账户和合成的市民、企业（可重复运行）"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--citizens", type=int, default=2000, help="合成市民账户数（默认 2000）"
        )
        parser.add_argument(
            "--enterprises", type=int, default=500, help="合成企业账户数（默认 500）"
        )
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["no_progress"] or options["verbosity"] == 0
        bar: tqdm[Any] | None = None
        stage_now = ""

        def progress(stage: str, done: int, total: int) -> None:
            nonlocal bar, stage_now
            if quiet:
                return
            if stage != stage_now:
                if bar is not None:
                    bar.close()
                label = STAGES.get(stage, stage)
                bar = tqdm(total=total, desc=label, unit="行", file=self.stderr._out)
                stage_now = stage
            assert bar is not None  # noqa: S101 — set just above on the first call of a stage
            bar.update(done)

        with acting_as(label="cli:demo", reason="创建演示数据"):
            logins = seed_demo(
                citizens=options["citizens"],
                enterprises=options["enterprises"],
                progress=progress,
            )
        if bar is not None:
            bar.close()
        if options["verbosity"] == 0:
            return
        rows = [("用户名", "角色", "部门")] + [
            (login.username, login.label, login.department or "—") for login in logins
        ]
        widths = [max(_width(row[i]) for row in rows) + 2 for i in range(2)]
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"演示城市已就绪。演示账户（密码均为 {DEMO_PASSWORD}）：")
        )
        for username, label, department in rows:
            self.stdout.write(f"  {_pad(username, widths[0])}{_pad(label, widths[1])}{department}")
        self.stdout.write(
            f"  另有合成账户：市民 citizen00001 起 {options['citizens']} 个，"
            f"企业 enterprise0001 起 {options['enterprises']} 个，密码相同。"
        )
        self.stdout.write(
            self.style.WARNING(
                "警告：以上均为演示账户，密码公开。切勿在生产环境运行 demo；"
                "如已运行，请删除或停用这些账户。"
            )
        )


STAGES = {
    "province": "省级区划",
    "city": "地级区划",
    "county": "县级区划",
    "nbs_county": "统计用县级区划",
    "township": "乡级区划",
    "community": "村级区划",
    "citizens": "合成市民",
    "enterprises": "合成企业",
}


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
