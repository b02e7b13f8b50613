"""`digitalcity audit verify` checks the hash chain; `digitalcity audit show` lists entries."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from digitalcity.core.audit.services import VerifyReport, iter_chain_problems
from digitalcity.core.models import AuditChainHead, AuditEntry

# Below this many rows a progress bar only adds noise.
PROGRESS_FROM = 10_000


class Command(BaseCommand):
    help = "审计日志：verify 校验哈希链（有问题时退出码为 1）；show 列出记录。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="校验整条哈希链，列出被修改、删除或插入的记录")
        show = sub.add_parser("show", help="列出审计记录（最近的在最后）")
        show.add_argument("--object", dest="object", default="", help="对象，如 core.department:12")
        show.add_argument("--last", type=int, default=20, help="显示最近 N 条（默认 20）")
        sub.add_parser("head", help="打印链头（最新序号与哈希），用于在备份日志中留存锚点")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self.verify()
        elif options["subcommand"] == "head":
            self.head()
        else:
            self.show(object_ref=options["object"], last=options["last"])

    def head(self) -> None:
        """One line to keep outside the database: whoever rewrites the chain cannot match it."""
        head = AuditChainHead.objects.filter(pk=1).first()
        if head is None:
            self.stdout.write(_("审计链为空"))
            return
        self.stdout.write(
            f"{timezone.localtime().isoformat(timespec='seconds')} seq={head.last_seq} "
            f"hash={head.last_hash}"
        )

    def verify(self) -> None:
        head = AuditChainHead.objects.filter(pk=1).first()
        total = head.last_seq if head else AuditEntry.objects.count()
        report = VerifyReport()
        with tqdm(
            total=total, unit=_("条"), desc=_("校验审计链"), disable=total < PROGRESS_FROM or None
        ) as bar:
            for problem in iter_chain_problems(progress=bar.update, report=report):
                report.problems.append(problem)
                self.stdout.write(_("问题：%(m)s") % {"m": problem.message})
        if report.problems:
            raise CommandError(
                _("审计链校验未通过：共检查 %(n)d 条记录，发现 %(p)d 处问题。")
                % {"n": report.checked, "p": len(report.problems)},
                returncode=1,
            )
        done = _("OK：审计链完整，共 %(n)d 条记录。") % {"n": report.checked}
        self.stdout.write(self.style.SUCCESS(done))

    def show(self, *, object_ref: str, last: int) -> None:
        if last < 1:
            raise CommandError(_("--last 须为正整数。"))
        entries = AuditEntry.objects.select_related("content_type")
        if object_ref:
            label, sep, pk = object_ref.partition(":")
            app_label, dot, model = label.lower().partition(".")
            if not (sep and dot and pk):
                raise CommandError(
                    _("--object 格式应为 应用.模型:主键（如 core.department:12），收到“%(v)s”。")
                    % {"v": object_ref}
                )
            try:
                ct = ContentType.objects.get_by_natural_key(app_label, model)
            except ContentType.DoesNotExist:
                raise CommandError(_("没有名为“%(v)s”的模型。") % {"v": label}) from None
            entries = entries.filter(content_type=ct, object_id=pk)
        rows = list(entries.order_by("-seq")[:last])
        if not rows:
            self.stdout.write(_("没有审计记录。"))
        for entry in reversed(rows):
            self.stdout.write(self.format_entry(entry))

    def format_entry(self, entry: AuditEntry) -> str:
        when = timezone.localtime(entry.occurred_at).strftime("%Y-%m-%d %H:%M:%S")
        who = entry.actor_label or _("系统")
        target = ""
        if entry.content_type is not None:
            ct = entry.content_type
            target = f" {ct.app_label}.{ct.model}:{entry.object_id}「{entry.object_repr}」"
        lines = [f"#{entry.seq} {when} {entry.get_action_display()} {who}{target}"]
        if entry.request_id or entry.ip:
            ids = {"r": entry.request_id or "-", "ip": entry.ip or "-"}
            lines.append("    " + _("请求 %(r)s  IP %(ip)s") % ids)
        if entry.reason:
            lines.append("    " + _("事由：%(r)s") % {"r": entry.reason})
        for name in sorted({*(entry.before or {}), *(entry.after or {})}):
            old = (entry.before or {}).get(name, "")
            new = (entry.after or {}).get(name, "")
            lines.append(f"    {name}: {_text(old)} → {_text(new)}")
        if entry.extra:
            lines.append("    " + _("附加：%(x)s") % {"x": _text(entry.extra)})
        return "\n".join(lines)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
