"""`digitalcity serve`: the web server (gunicorn, or Django's runserver with --dev),
optionally with a worker as a child process that stops when the server does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV


def _stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM (graceful: a worker finishes its job), then SIGKILL if it will not go."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM (systemd, docker stop) takes the same path as Ctrl-C: stop the children.
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "启动网站（默认 gunicorn；--dev 用开发服务器；--with-worker 同时启动后台工作进程）"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
        parser.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn 进程数（默认 2）")
        parser.add_argument(
            "--with-worker", action="store_true", help="同时运行 digitalcity worker"
        )
        parser.add_argument("--dev", action="store_true", help="用 Django 开发服务器（自动重载）")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port {port} 无效：应为 1–65535")
        if options["workers"] < 1:
            raise CommandError("--workers 至少为 1")
        shown_host = f"[{host}]" if ":" in host else host
        # runserver's autoreloader runs this command again in a child process; only the
        # outer one greets and owns the worker.
        reloaded_child = os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        if not reloaded_child:
            self.stdout.write(
                self.style.SUCCESS(f"数字城市政务平台：http://{shown_host}:{port}/")
                + "（按 Ctrl-C 停止）"
            )
        signal.signal(signal.SIGTERM, _interrupt)
        worker = None
        if options["with_worker"] and not reloaded_child:
            # Its own session, so a Ctrl-C at the terminal does not reach it as well as our
            # SIGTERM: a second signal would make it drop the job it is running.
            worker = subprocess.Popen(
                [sys.executable, "-m", "digitalcity", "worker"], start_new_session=True
            )
            self.stdout.write(f"后台工作进程已启动（pid {worker.pid}）")
        try:
            if options["dev"]:
                call_command("runserver", f"{shown_host}:{port}")
            else:
                self._gunicorn(host=shown_host, port=port, workers=options["workers"])
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None:
                _stop(worker)
                self.stdout.write("后台工作进程已停止")

    def _gunicorn(self, *, host: str, port: int, workers: int) -> None:
        # Static files come from WhiteNoise (WHITENOISE_USE_FINDERS), so the demo needs
        # no collectstatic and no nginx.
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "digitalcity.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "20",
            ]
        )
        try:
            code = server.wait()
        except KeyboardInterrupt:
            _stop(server, timeout=30)
            return
        if code != 0:
            raise CommandError(f"gunicorn 退出，返回码 {code}")
