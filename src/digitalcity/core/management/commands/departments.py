"""`digitalcity departments import FILE` / `digitalcity departments export FILE` (.xlsx)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from digitalcity.core.context import acting_as
from digitalcity.core.departments import (
    DepartmentImportError,
    export_departments,
    import_departments,
)


class Command(BaseCommand):
    help = "从 Excel（.xlsx）导入部门，或把部门导出为 Excel"

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("import", help="导入：整个文件全部通过校验才写入").add_argument(
            "file", type=Path
        )
        actions.add_parser("export", help="导出全部部门").add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if options["action"] == "export":
            with path.open("wb") as out:
                count = export_departments(out)
            self.stdout.write(f"已导出 {count} 个部门到 {path}")
            return
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        try:
            with path.open("rb") as source, acting_as(label="cli:departments import"):
                result = import_departments(source)
        except DepartmentImportError as exc:
            for error in exc.row_errors:
                self.stderr.write(str(error))
            raise CommandError(f"未导入：共 {len(exc.row_errors)} 处错误") from exc
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(
            f"导入完成：新建 {len(result.created)} 个，更新 {len(result.updated)} 个，"
            f"未变 {len(result.unchanged)} 个"
        )
