"""`digitalcity registry import SOURCE FILE` (with a progress bar), `digitalcity registry
sources` (list; `--seed` creates the demo city's sources and the default rules), and
`digitalcity registry report BATCH FILE` (the batch's error report as .xlsx) and
`digitalcity registry token SOURCE` (a new API push token, shown once)."""

from __future__ import annotations

import datetime
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from digitalcity.core.context import acting_as
from digitalcity.core.imports import error_report_xlsx
from digitalcity.registry.linkage import link_unkeyed

from ...choices import BatchStatus, Entity
from ...demo import seed_registry
from ...imports import batch_row_errors, import_file
from ...models import ImportBatch, Source
from ...services import issue_push_token


class Command(BaseCommand):
    help = "基础数据库：导入来源数据批次、列出（或初始化）数据来源、导出错误报告"

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        importing = actions.add_parser("import", help="导入一个文件（CSV/Excel/JSON），整批校验")
        importing.add_argument("source", help="来源代码，如 police")
        importing.add_argument("file", type=Path)
        importing.add_argument(
            "--date", type=datetime.date.fromisoformat, help="数据日期 YYYY-MM-DD（默认今天）"
        )
        sources = actions.add_parser("sources", help="列出数据来源")
        sources.add_argument("--seed", action="store_true", help="创建示范市的数据来源和默认规则")
        token = actions.add_parser("token", help="为数据来源签发新的接口推送令牌（旧令牌失效）")
        token.add_argument("source")
        actions.add_parser(
            "link",
            help="对没有有效身份证号的记录做概率匹配（Splink）：高分自动关联，中间分数进入审核队列",
        )
        report = actions.add_parser("report", help="把批次的错误报告导出为 Excel")
        report.add_argument("batch", type=int)
        report.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "sources":
            self._sources(seed=options["seed"])
        elif action == "token":
            source = Source.objects.filter(code=options["source"]).first()
            if source is None:
                raise CommandError(f"数据来源不存在：{options['source']}")
            with acting_as(label="cli:registry token"):
                token = issue_push_token(source=source)
            self.stdout.write(f"{source.code} 的推送令牌（仅显示这一次）：{token}")
        elif action == "link":
            with acting_as(label="cli:registry link"):
                result = link_unkeyed()
            self.stdout.write(
                f"待关联记录 {result.records} 条：自动关联 {result.auto_linked}，"
                f"进入审核队列 {result.queued}，未匹配 {result.unmatched}"
            )
        elif action == "report":
            batch = ImportBatch.objects.filter(pk=options["batch"]).first()
            if batch is None:
                raise CommandError(f"批次不存在：{options['batch']}")
            options["file"].write_bytes(error_report_xlsx(batch_row_errors(batch)))
            self.stdout.write(f"已导出错误报告到 {options['file']}")
        else:
            self._import(options["source"], options["file"], options["date"])

    def _sources(self, *, seed: bool) -> None:
        if seed:
            sources, rules = seed_registry()
            self.stdout.write(f"已创建 {sources} 个数据来源、{rules} 条字段规则")
        for source in Source.objects.select_related("department"):
            state = "" if source.active else "（停用）"
            self.stdout.write(
                f"{source.code}\t{source.name}{state}\t{source.department.name}\t"
                f"{source.get_entity_display()}\t{len(source.mapping)} 列"
            )

    def _import(self, code: str, path: Path, data_date: datetime.date | None) -> None:
        source = Source.objects.filter(code=code).first()
        if source is None:
            raise CommandError(f"数据来源不存在：{code}（digitalcity registry sources 列出全部）")
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        bars: dict[str, Any] = {}
        labels = {"validate": (f"{code} 校验", "行"), "golden": ("建立标准记录", "%")}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage)
            if bar is None:
                desc, unit = labels.get(stage, (stage, ""))
                bar = bars[stage] = tqdm(total=total, unit=unit, desc=desc, dynamic_ncols=True)
            bar.total = max(total, done)
            bar.n = done
            bar.refresh()

        with acting_as(label=f"cli:registry import {code}"):
            batch = import_file(source=source, path=path, data_date=data_date, progress=progress)
        for bar in bars.values():
            bar.close()
        if batch.status == BatchStatus.REFUSED:
            for error in batch_row_errors(batch)[:50]:
                self.stderr.write(str(error))
            raise CommandError(
                f"批次 #{batch.pk} 被拒绝：{batch.message}"
                f"（完整报告：digitalcity registry report {batch.pk} 报告.xlsx）"
            )
        self.stdout.write(f"批次 #{batch.pk}（编码 {batch.encoding or '—'}）：{batch.message}")
        if source.entity == Entity.PERSON:
            self.stdout.write("没有有效身份证号的记录可用 digitalcity registry link 做概率匹配")
