"""The sweep under concurrency and crashes: two workers at once, and a real kill -9.

Both run on a database other connections can see: PostgreSQL's test database, or for
SQLite a fresh file database (core's ThreadedDatabase), since the in-memory test database
is private to the test's connection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from digitalcity.cases.choices import CaseChannel, ClockState, ClockUnit, SignalStage
from digitalcity.cases.models import Case, CaseDepartment, Clock, Signal
from digitalcity.cases.sweep import sweep
from digitalcity.core.models import MembershipRole
from digitalcity.core.tests.test_audit import ThreadedDatabase
from digitalcity.identity.tests.factories import DepartmentFactory, MembershipFactory

pytestmark = pytest.mark.slow


@pytest.fixture
def shared_db(transactional_db: Any, tmp_path: Path) -> ThreadedDatabase:
    return ThreadedDatabase(tmp_path)


def _seed_due_clocks(n: int) -> None:
    """`n` example cases, each with a running legal clock that fell due two days ago.

    Rows are inserted directly: the sweep, not case opening, is under test here.
    """
    # The audit log links content types; ids cached from the in-memory test database
    # mean nothing in the SQLite file database.
    ContentType.objects.clear_cache()
    department = DepartmentFactory.create(name="甲局", code="dept-race")
    MembershipFactory.create(department=department, role=MembershipRole.CLERK)
    MembershipFactory.create(department=department, role=MembershipRole.HEAD)
    now = timezone.now()
    due = now - timedelta(days=2)
    cases = Case.objects.bulk_create(
        Case(
            number=f"EX-2026-{i:06d}",
            type_code="example.parallel",
            subject="并发测试",
            applicant_name="市民",
            channel=CaseChannel.ONLINE,
            department=department,
            state="reviewing",
            opened_at=now - timedelta(days=40),
        )
        for i in range(1, n + 1)
    )
    CaseDepartment.objects.bulk_create(
        CaseDepartment(case=case, department=department, role="lead") for case in cases
    )
    Clock.objects.bulk_create(
        Clock(
            case=case,
            code="legal",
            unit=ClockUnit.WORKDAYS,
            limit=20,
            state=ClockState.RUNNING,
            started_at=now - timedelta(days=40),
            segment_started_at=now - timedelta(days=40),
            prompt_at=due - timedelta(days=1),
            due_at=due,
            red_at=now + timedelta(days=5),
            next_signal_at=due - timedelta(days=1),
        )
        for case in cases
    )


def _signal_counts() -> dict[int, int]:
    return dict(
        Signal.objects.values_list("clock_id").annotate(n=Count("id")).values_list("clock_id", "n")
    )


@pytest.fixture(autouse=True)
def _fresh_content_types() -> Any:
    yield
    ContentType.objects.clear_cache()


def test_two_sweeps_racing_signal_each_clock_exactly_once(shared_db: ThreadedDatabase) -> None:
    n = 300
    shared_db.read(lambda: _seed_due_clocks(n))
    claimed: list[int] = []
    shared_db.run(lambda _worker: claimed.append(sweep(batch=25)), threads=2)
    counts = shared_db.read(_signal_counts)
    assert sum(claimed) == n
    assert len(counts) == n
    assert set(counts.values()) == {1}
    stages = shared_db.read(lambda: set(Clock.objects.values_list("signal_stage", flat=True)))
    assert stages == {SignalStage.YELLOW}


def _database_url(shared_db: ThreadedDatabase) -> str:
    if shared_db.sqlite_file is not None:
        return f"sqlite:///{shared_db.sqlite_file}"
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{s['USER']}{password}@{host}:{port}/{s['NAME']}"


def _start_worker(url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DC_VAR_DIR": str(tmp_path / "var"),
        "DC_CASES_SWEEP_BATCH": "10",
        "DC_CASES_SWEEP_SECONDS": "1",
        "DC_TASKS_IMMEDIATE": "false",
    }
    command = [str(Path(sys.executable).parent / "digitalcity"), "worker", "--interval", "0.2"]
    return subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_worker_killed_mid_sweep_loses_and_doubles_no_signal(
    shared_db: ThreadedDatabase, tmp_path: Path
) -> None:
    n = 1500
    shared_db.read(lambda: _seed_due_clocks(n))
    url = _database_url(shared_db)
    count = lambda: shared_db.read(lambda: Signal.objects.count())  # noqa: E731

    worker = _start_worker(url, tmp_path)
    try:
        assert _wait_for(lambda: count() > 0, timeout=60), "the worker never signalled"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
    at_kill = count()
    assert 0 < at_kill < n, f"the kill did not land mid-sweep ({at_kill} of {n})"

    worker = _start_worker(url, tmp_path)
    try:
        assert _wait_for(lambda: count() >= n, timeout=120), f"only {count()} of {n} signalled"
        time.sleep(1.5)  # one more sweep period: nothing may be signalled twice
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(worker.pid, signal.SIGKILL)
    counts = shared_db.read(_signal_counts)
    assert len(counts) == n
    assert set(counts.values()) == {1}


def test_two_clerks_completing_the_last_tasks_at_once_join_exactly_once(
    shared_db: ThreadedDatabase,
) -> None:
    import time_machine

    from digitalcity.cases.models import Event, Task
    from digitalcity.cases.services import case_transition, task_complete
    from digitalcity.core.calendar_import import seed_from_chinesecalendar

    from .conftest import at
    from .factories import make_world, open_example_case

    def setup() -> tuple[int, list[tuple[int, int]]]:
        ContentType.objects.clear_cache()
        seed_from_chinesecalendar(years=[2026])
        w = make_world()
        with time_machine.travel(at(2026, 10, 12, 10), tick=False):
            case = case_transition(
                case=open_example_case(w),
                transition="accept",
                actor=w.p.clerk_a,
                input={"opinion": "受理"},
            )
        tasks = {t.department_id: t for t in Task.objects.filter(case=case)}
        task_complete(task=tasks[w.p.department_a.pk], actor=w.p.clerk_a, opinion="同意")
        return case.pk, [
            (tasks[w.p.department_b.pk].pk, w.p.clerk_b.pk),
            (tasks[w.department_c.pk].pk, w.clerk_c.pk),
        ]

    case_id, pending = shared_db.read(setup)

    def complete(worker: int) -> None:
        from digitalcity.identity.models import User

        task_id, user_id = pending[worker]
        task_complete(
            task=Task.objects.get(pk=task_id), actor=User.objects.get(pk=user_id), opinion="同意"
        )

    shared_db.run(complete, threads=2)
    state, joins = shared_db.read(
        lambda: (
            Case.objects.get(pk=case_id).state,
            Event.objects.filter(case_id=case_id, transition="reviewed").count(),
        )
    )
    assert state == "deciding"
    assert joins == 1
