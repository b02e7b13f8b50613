"""`digitalcity hotline <subcommand>`: operators' tasks of the 12345 hotline.

digitalcity hotline train               retrain the dispatch classifier now
digitalcity hotline reindex-knowledge   rebuild the knowledge base's full-text index
digitalcity hotline seed-categories     add missing nodes of the seeded category tree
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "12345热线运维命令：train（重新训练派单模型）、reindex-knowledge、seed-categories"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["train", "reindex-knowledge", "seed-categories"], help="子命令"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "train":
            from digitalcity.hotline.classifier import train_command

            train_command(stdout=self.stdout)
        elif action == "reindex-knowledge":
            from digitalcity.hotline.knowledge import reindex

            self.stdout.write(str(reindex()))
        else:
            from digitalcity.hotline.categories import seed_categories

            self.stdout.write(f"新增分类 {seed_categories()} 个")
