"""`digitalcity worker` and `digitalcity serve`: periodic jobs, queued tasks, clean stops."""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from digitalcity.core.models import NotificationStatus
from digitalcity.core.notifications import services
from digitalcity.core.worker import (
    PeriodicScheduler,
    periodic_jobs,
    register_periodic,
    unregister_periodic,
)
from digitalcity.identity.models import User

SWEEP = "core.notifications.sweep"


@task()
def write_marker(path: str, text: str) -> str:
    Path(path).write_text(text, encoding="utf-8")
    return text


@pytest.fixture
def registry():
    """Restores the periodic job registry the test changed."""
    saved = {job.name: job for job in periodic_jobs()}
    yield
    for job in periodic_jobs():
        unregister_periodic(job.name)
    for job in saved.values():
        register_periodic(job.name, job.func, job.every_seconds)


@pytest.fixture
def own_signals():
    """The worker installs SIGTERM/SIGINT handlers; put pytest's back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def run_worker(*args: str) -> str:
    out = io.StringIO()
    call_command("worker", *args, stdout=out)
    return out.getvalue()


def test_core_registers_the_notification_sweep():
    assert SWEEP in {job.name for job in periodic_jobs()}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("registry", "own_signals")
def test_worker_once_runs_a_registered_periodic_job():
    calls: list[str] = []
    register_periodic("test.job", lambda: calls.append("ran"), every_seconds=3600)
    output = run_worker("--once")
    assert calls == ["ran"]
    assert "已退出" in output


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("registry", "own_signals")
def test_worker_once_runs_a_queued_task(tmp_path):
    marker = tmp_path / "marker.txt"
    result = write_marker.enqueue(str(marker), "任务已运行")
    assert DBTaskResult.objects.get(id=result.id).status == "READY"
    run_worker("--once")
    assert marker.read_text(encoding="utf-8") == "任务已运行"
    assert DBTaskResult.objects.get(id=result.id).status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("registry", "own_signals")
def test_a_committed_notification_is_sent_by_its_task_when_the_worker_runs(settings, tmp_path):
    settings.DC_SMS_BACKEND = "digitalcity.core.notifications.backends.FileSmsBackend"
    settings.DC_SMS_FILE = tmp_path / "sms.jsonl"
    unregister_periodic(SWEEP)  # so only the task path can send it
    user = User.objects.create_user(username="zhangsan", phone="13800138000")
    notification = services.notify(channel="sms", recipient=user, body="您的申请已受理")
    assert DBTaskResult.objects.count() == 1  # enqueued by on_commit
    run_worker("--once")
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert "您的申请已受理" in settings.DC_SMS_FILE.read_text(encoding="utf-8")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("registry", "own_signals")
def test_the_sweep_sends_what_the_task_queue_never_got(settings, tmp_path):
    settings.DC_SMS_BACKEND = "digitalcity.core.notifications.backends.FileSmsBackend"
    settings.DC_SMS_FILE = tmp_path / "sms.jsonl"
    user = User.objects.create_user(username="zhangsan", phone="13800138000")
    notification = services.notify(channel="sms", recipient=user, body="队列丢了也要发")
    DBTaskResult.objects.all().delete()  # the queue lost it
    run_worker("--once")
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert settings.DC_SMS_FILE.read_text(encoding="utf-8").count("队列丢了也要发") == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("registry", "own_signals")
def test_sigterm_lets_the_running_job_finish_then_the_worker_exits():
    steps: list[str] = []

    def job_interrupted_midway() -> None:
        steps.append("started")
        os.kill(os.getpid(), signal.SIGTERM)
        steps.append("finished")

    register_periodic("test.sigterm", job_interrupted_midway, every_seconds=0.01)
    output = run_worker("--interval", "0.05")  # without --once: only the signal stops it
    assert steps == ["started", "finished"]
    assert "已退出" in output


def test_a_failing_periodic_job_does_not_stop_the_others(registry, caplog):
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    for job in periodic_jobs():
        unregister_periodic(job.name)
    register_periodic("a.broken", broken, every_seconds=10)
    register_periodic("b.fine", lambda: calls.append("fine"), every_seconds=10)
    assert PeriodicScheduler().run_due() == ["a.broken", "b.fine"]
    assert calls == ["fine"]
    assert "a.broken" in caplog.text


def test_periodic_jobs_run_on_their_own_schedule(registry):
    for job in periodic_jobs():
        unregister_periodic(job.name)
    now = [1000.0]
    register_periodic("fast", lambda: None, every_seconds=10)
    register_periodic("slow", lambda: None, every_seconds=60)
    scheduler = PeriodicScheduler(clock=lambda: now[0])
    assert scheduler.run_due() == ["fast", "slow"]
    assert scheduler.seconds_until_next() == 10
    now[0] += 9
    assert scheduler.run_due() == []
    now[0] += 1
    assert scheduler.run_due() == ["fast"]
    now[0] += 50
    assert scheduler.run_due() == ["fast", "slow"]


def test_register_periodic_refuses_a_non_positive_period(registry):
    with pytest.raises(ValueError, match="every_seconds"):
        register_periodic("bad", lambda: None, every_seconds=0)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_with_redis_url_worker_once_runs_a_queued_task_through_rq(tmp_path):
    port = free_port()
    server = shutil.which("redis-server") or "redis-server"
    options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    redis = subprocess.Popen([server, *options], stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        wait_for_port(port)
        env = {
            **os.environ,
            "DC_VAR_DIR": str(tmp_path),
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        }
        env.pop("DATABASE_URL", None)
        env.pop("DC_TASKS_IMMEDIATE", None)
        marker = tmp_path / "marker.txt"
        enqueue = (
            "import django; django.setup()\n"
            "from digitalcity.core.tests.test_worker import write_marker\n"
            f"write_marker.enqueue({str(marker)!r}, 'RQ 任务已运行')\n"
        )
        subprocess.run([sys.executable, "-c", enqueue], env=env, check=True)  # noqa: S603
        assert not marker.exists()
        done = subprocess.run(
            [sys.executable, "-m", "digitalcity", "worker", "--once"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "任务后端 rq" in done.stdout
        assert marker.read_text(encoding="utf-8") == "RQ 任务已运行"
    finally:
        redis.terminate()
        redis.wait()


# --- serve ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int) -> None:
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def children_of(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    found: list[int] = []
    for thread in tasks.iterdir():
        children = (thread / "children").read_text().split()
        found.extend(int(c) for c in children)
    return found


@pytest.mark.slow
def test_serve_with_worker_serves_the_site_and_stops_both_on_sigterm(tmp_path):
    env = {**os.environ, "DC_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # a fresh SQLite database under tmp_path
    subprocess.run([sys.executable, "-m", "digitalcity", "migrate", "-v0"], env=env, check=True)
    port = free_port()
    server = subprocess.Popen(  # noqa: S603  (our own command)
        [sys.executable, "-m", "digitalcity", "serve", "--port", str(port), "--with-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = b""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json") as r:
                    body = r.read()
                break
            except OSError:
                time.sleep(0.2)
        assert b"sms-receipts" in body
        children = children_of(server.pid)
        assert len(children) == 2  # gunicorn master and the worker
        assert all(_state(pid) not in {"Z", "X"} for pid in children)  # both still running
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.stdout is not None
    output = server.stdout.read().decode()
    assert f"http://127.0.0.1:{port}/" in output
    assert "工作进程" in output
    assert "已退出" in output  # the worker stopped cleanly, not killed
    assert "后台工作进程已停止" in output
    for pid in children:
        assert not Path(f"/proc/{pid}").exists()


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
