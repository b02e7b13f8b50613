"""`digitalcity worker`: runs periodic jobs and the task queue until told to stop.

Each tick (a) runs the due periodic jobs registered in `digitalcity.core.worker`
(the notification sweep, later the case clocks) and (b) runs the queued tasks:
with the database backend (the default) through django-tasks-db's own Worker in
batch mode; with REDIS_URL set through an RQ worker in burst mode. SIGTERM or
Ctrl-C lets the running job finish, then the worker exits; a second one stops at once.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

from digitalcity.core.context import acting_as
from digitalcity.core.worker import PeriodicScheduler

logger = logging.getLogger("digitalcity.worker")

# Tasks run per tick before the periodic jobs get their turn again.
TASKS_PER_TICK = 100


class Command(BaseCommand):
    help = "运行后台工作进程：定时任务（通知重发、时限扫描等）与任务队列"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="只运行一轮然后退出（测试、cron 用）"
        )
        parser.add_argument(
            "--interval", type=float, default=5.0, help="空闲时两轮之间的秒数（默认 5）"
        )
        parser.add_argument(
            "--queue", default="default", help="处理的任务队列，逗号分隔（默认 default）"
        )
        parser.add_argument(
            "--backend", default=DEFAULT_TASK_BACKEND_ALIAS, help="settings.TASKS 中的后端别名"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] < 0:
            raise CommandError("--interval 不能为负数")
        self.queues: list[str] = [q for q in options["queue"].split(",") if q]
        self.backend_alias: str = options["backend"]
        self.worker_id = f"dc-{get_random_string(16)}"
        self.stopping = False
        self.scheduler = PeriodicScheduler()
        backend_path = type(task_backends[self.backend_alias]).__module__
        self.kind = "rq" if backend_path.startswith("django_tasks_rq") else "db"
        if self.kind == "db" and not backend_path.startswith("django_tasks_db"):
            raise CommandError(
                f"任务后端 {self.backend_alias!r}（{backend_path}）不需要工作进程："
                "请改用 django_tasks_db 或 django_tasks_rq"
            )
        self._install_signals()
        self.stdout.write(
            f"工作进程 {self.worker_id} 启动：任务后端 {self.kind}，队列 {','.join(self.queues)}"
        )
        with acting_as(label="system:worker"):
            while not self.stopping:
                close_old_connections()
                self.scheduler.run_due()
                ran = 0 if self.stopping else self._run_tasks()
                close_old_connections()
                if options["once"]:
                    break
                if ran < TASKS_PER_TICK:
                    self._sleep(min(options["interval"], self.scheduler.seconds_until_next()))
        self.stdout.write(f"工作进程 {self.worker_id} 已退出")

    def _install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            logger.warning("再次收到 %s：立即退出", signal.strsignal(signum))
            sys.exit(1)
        logger.warning(
            "收到 %s：完成当前任务后退出（再按一次 Ctrl-C 立即退出）", signal.strsignal(signum)
        )
        self.stopping = True

    def _sleep(self, seconds: float) -> None:
        # Short naps rather than one Event.wait: the handler only flips a flag, which is
        # safe at any point of the main thread, and we notice it within a fifth of a second.
        deadline = time.monotonic() + seconds
        while not self.stopping and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(0.2, left))

    def _run_tasks(self) -> int:
        """Run queued tasks until the queue is empty or TASKS_PER_TICK have run."""
        if self.kind == "rq":
            return self._run_rq_burst()
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=self.queues,
            interval=0,
            batch=True,
            backend_name=self.backend_alias,
            startup_delay=False,
            max_tasks=TASKS_PER_TICK,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )
        worker.run()
        if worker._run_tasks:
            logger.info("运行了 %s 个队列任务", worker._run_tasks)
        return int(worker._run_tasks)

    def _run_rq_burst(self) -> int:
        import django_rq

        # SimpleWorker runs jobs in this process (no fork per job) so our database
        # connections and signal handling stay ours; RQ installs its own handlers
        # while it works, so ours are put back afterwards.
        worker = django_rq.get_worker(
            *self.queues, job_class="django_tasks_rq.Job", worker_class="rq.SimpleWorker"
        )
        try:
            worker.work(burst=True, max_jobs=TASKS_PER_TICK)
        finally:
            self._install_signals()
        return int(worker.successful_job_count + worker.failed_job_count)
