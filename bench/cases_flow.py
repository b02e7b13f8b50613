"""Benchmark: a parallel case from start to close, our engine against SpiffWorkflow.

The process (case type `example.parallel`, and bench/cases_flow.bpmn for SpiffWorkflow):
a citizen applies, the window accepts, three departments review in parallel, the reviews
join (all must finish), the lead department decides, the case is closed. Each step is
its own transaction, as it is when people act through the web:

- our engine: the service functions of `digitalcity.cases` (case_open, case_transition,
  task_complete by a clerk of each department), each step fetching its case or task by
  id first, as a request does;
- SpiffWorkflow: the BPMN process with a parallel gateway; each step loads the
  workflow's JSON from a table, deserializes it, completes the user task, runs the
  engine steps, serializes it and saves it — the least a host application must do to
  keep a workflow across requests. A second, kinder figure keeps the workflow in memory
  and only saves it after each step.

Both run in the same process on the same database: a fresh SQLite file, and PostgreSQL
(BENCH_DATABASE_URL, or postgres://postgres@127.0.0.1:5432/dc_bench_cases, dropped and
recreated) when the server answers. Prints cases/second (and the CPU ms per case of the
1-process runs), queries per case, the ratios, and a last line of name=value pairs. Three
rows are floors, not engines: the same six transactions as bare ORM statements, and with
the database driver alone (18 statements, and as many as our engine sends). Goal: ≥ 10×
SpiffWorkflow and ≥ 300 cases/s on 2 cores.

    .venv/bin/python bench/cases_flow.py                 # 500 cases, SQLite and PostgreSQL
    .venv/bin/python bench/cases_flow.py --quick         # 50 cases
    .venv/bin/python bench/cases_flow.py --db pg --count 2000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    build_schema,
    database_urls,
    emit,
    machine_note,
    pairs,
    run_child,
    setup_django,
)

BPMN = Path(__file__).resolve().with_suffix(".bpmn")
REVIEWS = ("review_a", "review_b", "review_c")


# --- SpiffWorkflow ------------------------------------------------------------------


class SpiffHost:
    """The least a host application of SpiffWorkflow does: one table of workflow states."""

    table = "bench_spiff_workflow"

    def __init__(self) -> None:
        import logging

        from django.db import connection
        from SpiffWorkflow.bpmn.parser import BpmnParser, BpmnValidator
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

        # Spiff logs every task state change at INFO; a host keeps that for debugging only,
        # and writing it to the console would be measured as Spiff's time.
        logging.getLogger("spiff").setLevel(logging.WARNING)
        parser = BpmnParser(validator=BpmnValidator())
        parser.add_bpmn_file(str(BPMN))
        # Parsed once, as a host caches its specs; only the instances go to the database.
        self.spec = parser.get_spec("cases_flow")
        self.serializer = BpmnWorkflowSerializer()
        self.pg = connection.vendor == "postgresql"
        key = "BIGSERIAL PRIMARY KEY" if self.pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} "
                f"(id {key}, state TEXT NOT NULL, completed BOOLEAN NOT NULL)"
            )

    def start(self) -> tuple[int, Any]:
        from django.db import connection, transaction
        from SpiffWorkflow.bpmn import BpmnWorkflow

        with transaction.atomic(), connection.cursor() as cursor:
            workflow = BpmnWorkflow(self.spec)
            workflow.data["subject"] = "并联审批"
            workflow.do_engine_steps()
            cursor.execute(
                f"INSERT INTO {self.table} (state, completed) VALUES (%s, %s) RETURNING id",  # noqa: S608
                [self.serializer.serialize_json(workflow), False],
            )
            return cursor.fetchone()[0], workflow

    def complete(self, workflow_id: int, task_name: str, workflow: Any = None) -> Any:
        """Complete the ready user task `task_name` and save; loads the workflow unless given."""
        from django.db import connection, transaction
        from SpiffWorkflow.util.task import TaskState

        with transaction.atomic(), connection.cursor() as cursor:
            if workflow is None:
                lock = " FOR UPDATE" if self.pg else ""
                sql = f"SELECT state FROM {self.table} WHERE id = %s{lock}"  # noqa: S608
                cursor.execute(sql, [workflow_id])
                workflow = self.serializer.deserialize_json(cursor.fetchone()[0])
            task = workflow.get_next_task(state=TaskState.READY, manual=True, spec_name=task_name)
            if task is None:
                raise RuntimeError(f"SpiffWorkflow: {task_name} is not ready")
            task.data["opinion"] = "同意"
            task.run()
            workflow.do_engine_steps()
            cursor.execute(
                f"UPDATE {self.table} SET state = %s, completed = %s WHERE id = %s",  # noqa: S608
                [self.serializer.serialize_json(workflow), workflow.is_completed(), workflow_id],
            )
            return workflow

    def run_case(self, *, reload: bool) -> None:
        workflow_id, workflow = self.start()
        for name in ("accept", *REVIEWS, "decide"):
            workflow = self.complete(workflow_id, name, None if reload else workflow)
        if not workflow.is_completed():
            raise RuntimeError("SpiffWorkflow: the workflow did not complete")

    def completed_count(self) -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {self.table} WHERE completed")  # noqa: S608
            return int(cursor.fetchone()[0])


@contextmanager
def _counted(queries: dict[str, int] | None, step: str) -> Iterator[None]:
    if queries is None:
        yield
        return
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        yield
    queries[step] = queries.get(step, 0) + len(captured.captured_queries)


# --- Our engine ---------------------------------------------------------------------


class OurHost:
    """The same process on digitalcity.cases, through its service functions."""

    def __init__(self) -> None:
        from django.db import transaction

        from digitalcity.core.calendar_import import seed_from_chinesecalendar
        from digitalcity.core.divisions import load_divisions
        from digitalcity.core.models import Department, DepartmentKind, Division, Membership
        from digitalcity.identity.models import AccountKind, User

        seed_from_chinesecalendar()
        load_divisions(prefix="4201")
        city = Division.objects.get(code="420100")

        def staff(department: Department, role: str) -> Any:
            user = User.objects.create_user(
                username=f"{department.code}-{role}",
                password=None,
                kind=AccountKind.STAFF,
                real_name=f"{department.short_name}{role}",
            )
            Membership.objects.create(user=user, department=department, role=role)
            return user

        with transaction.atomic():
            names = [
                ("center", "政务服务中心"),
                ("a", "市场监管局"),
                ("b", "消防救援支队"),
                ("c", "生态环境局"),
            ]
            self.lead, *self.reviewers = [
                Department.objects.create(
                    name=name,
                    short_name=name,
                    code=f"bench-{code}",
                    kind=DepartmentKind.BUREAU,
                    division=city,
                )
                for code, name in names
            ]
            self.window = staff(self.lead, "window")
            self.head = staff(self.lead, "head")
            self.clerks = [staff(d, "clerk") for d in self.reviewers]
            self.citizen = User.objects.create_user(
                username="bench-citizen",
                password=None,
                kind=AccountKind.CITIZEN,
                real_name="张三",
            )
        self.city = city

    def run_case(self, queries: dict[str, int] | None = None) -> None:
        """One case from application to close; each step fetches its row as a request does.

        With `queries`, counts the SQL statements of each step into it.
        """
        from digitalcity.cases.models import Case, Task
        from digitalcity.cases.services import case_open, case_transition, task_complete

        with _counted(queries, "case_open"):
            case_id = case_open(
                type_code="example.parallel",
                subject="食品经营许可（并联审批）",
                actor=self.citizen,
                department=self.lead,
                division=self.city,
            ).pk
        with _counted(queries, "accept (creates 3 tasks)"):
            case_transition(
                case=Case.objects.get(pk=case_id),
                transition="accept",
                actor=self.window,
                input={"opinion": "材料齐全，予以受理", "departments": self.reviewers},
            )
        for i, (department, clerk) in enumerate(zip(self.reviewers, self.clerks, strict=True)):
            with _counted(queries, f"task_complete {i + 1}" + (" (joins)" if i == 2 else "")):
                task_complete(
                    task=Task.objects.get(case_id=case_id, department=department),
                    actor=clerk,
                    opinion="同意",
                    outcome="agree",
                )
        with _counted(queries, "decide (closes)"):
            case = case_transition(
                case=Case.objects.get(pk=case_id),
                transition="decide",
                actor=self.head,
                input={"opinion": "准予许可"},
            )
        if case.state != "closed":
            raise RuntimeError(f"our engine: the case ended in {case.state!r}")

    def closed_count(self) -> int:
        from digitalcity.cases.models import Case

        return Case.objects.filter(type_code="example.parallel", state="closed").count()


class FloorHost:
    """The floor under any engine on the ORM: six small transactions per case.

    The first inserts the case and its event; each of the five others locks the case
    row, updates it and appends an event — the least a workflow step must do. Not an
    engine: it shows how far the platform's stack (Django ORM, driver, commit) lets any
    engine go on this machine.
    """

    def __init__(self, department_id: int) -> None:
        self.department_id = department_id

    def run_case(self) -> None:
        import uuid

        from django.db import transaction

        from digitalcity.cases.models import Case, Event

        with transaction.atomic():
            case = Case.objects.create(
                number=f"FL-{uuid.uuid4().hex[:20]}",
                type_code="bench.floor",
                subject="基准",
                channel="online",
                department_id=self.department_id,
                state="open",
            )
            Event.objects.create(case=case, kind="created", actor_label="基准")
        for step in range(5):
            with transaction.atomic():
                case = Case.objects.select_for_update().get(pk=case.pk)
                Case.objects.filter(pk=case.pk).update(state=f"step{step}")
                Event.objects.create(case=case, kind="transition", actor_label="基准")

    def finished(self) -> int:
        from digitalcity.cases.models import Case

        return Case.objects.filter(type_code="bench.floor", state="step4").count()


class RawFloorHost:
    """The floor under any engine on this database at all: the ORM floor's six
    transactions sent with the driver itself (sqlite3 or psycopg), no Django in between.

    `extra_reads` adds that many primary-key SELECTs of the case row to each step, so a
    row with the engine's statement count shows what its statements cost at the driver
    level, before any engine logic or ORM.
    """

    def __init__(self, department_id: int, *, extra_reads: int = 0) -> None:
        from django.conf import settings
        from django.db import connection

        self.department_id = department_id
        self.extra_reads = extra_reads
        self.vendor = connection.vendor
        self.settings = dict(settings.DATABASES["default"])
        self.type_code = f"bench.raw{extra_reads}"
        self._conn: Any = None
        self._pid = 0

    def _connect(self) -> Any:
        import os

        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        db = self.settings
        if self.vendor == "sqlite":
            import sqlite3

            conn: Any = sqlite3.connect(db["NAME"], timeout=20, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        else:
            import psycopg

            conn = psycopg.connect(
                dbname=db["NAME"],
                user=db["USER"],
                password=db["PASSWORD"] or None,
                host=db["HOST"] or None,
                port=db["PORT"] or None,
            )
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _sql(self) -> dict[str, str]:
        """The statements, with the driver's placeholder; fixed texts, values bound."""
        pg = self.vendor == "postgresql"
        texts = {
            "begin": "BEGIN" if pg else "BEGIN IMMEDIATE",
            "case": "INSERT INTO cases_case (number, type_code, subject, applicant_name,"
            " applicant_phone, channel, department_id, state, priority, opened_at,"
            " is_confidential, round, updated_at) VALUES (%s, %s, '基准', '', '', 'online', %s,"
            " 'open', 0, %s, %s, 1, %s) RETURNING id",
            "event": "INSERT INTO cases_event (case_id, actor_label, at, kind, transition,"
            " from_state, to_state, reason, data, public)"
            " VALUES (%s, '基准', %s, %s, '', '', '', '', '{}', %s)",
            "lock": "SELECT * FROM cases_case WHERE id = %s" + (" FOR UPDATE" if pg else ""),  # noqa: S608
            "read": "SELECT * FROM cases_case WHERE id = %s",
            "update": "UPDATE cases_case SET state = %s, updated_at = %s WHERE id = %s",
        }
        return texts if pg else {k: v.replace("%s", "?") for k, v in texts.items()}

    def run_case(self) -> None:
        import uuid
        from datetime import UTC, datetime

        conn = self._connect()
        pg = self.vendor == "postgresql"
        sql = self._sql()
        now: Any = datetime.now(UTC)
        if not pg:  # as Django stores it on SQLite: naive UTC text
            now = now.replace(tzinfo=None).isoformat(" ")
        cursor = conn.cursor()

        def begin() -> None:
            if not pg:  # psycopg opens the transaction itself
                cursor.execute(sql["begin"])

        def commit() -> None:
            if pg:
                conn.commit()
            else:
                cursor.execute("COMMIT")

        def reads(case_id: int) -> None:
            for _ in range(self.extra_reads):
                cursor.execute(sql["read"], (case_id,))
                cursor.fetchall()

        begin()
        number = f"RF-{uuid.uuid4().hex[:20]}"
        cursor.execute(sql["case"], (number, self.type_code, self.department_id, now, False, now))
        case_id = cursor.fetchone()[0]
        cursor.execute(sql["event"], (case_id, now, "created", False))
        reads(case_id)
        commit()
        for step in range(5):
            begin()
            cursor.execute(sql["lock"], (case_id,))
            cursor.fetchall()
            reads(case_id)
            cursor.execute(sql["update"], (f"step{step}", now, case_id))
            cursor.execute(sql["event"], (case_id, now, "transition", False))
            commit()

    def finished(self) -> int:
        from digitalcity.cases.models import Case

        return Case.objects.filter(type_code=self.type_code, state="step4").count()


# --- Running and reporting -------------------------------------------------------


def timed(count: int, run_case: Callable[[], None], label: str) -> float:
    """Cases per second of `count` runs of `run_case` in this process, with progress lines."""
    start = time.perf_counter()
    for i in range(count):
        run_case()
        if (i + 1) % max(1, count // 4) == 0:
            print(f"  {label}: {i + 1}/{count}", flush=True)
    return count / (time.perf_counter() - start)


def _work(run_case: Callable[[], None], count: int, go: Any) -> None:
    from django.db import connection

    connection.ensure_connection()
    go.wait()
    for _ in range(count):
        run_case()
    connection.close()


def timed_parallel(count: int, run_case: Callable[[], None], label: str, workers: int) -> float:
    """Cases per second of `count` runs shared among `workers` forked processes.

    Each process has its own database connection; the clock runs from the moment all
    are connected and released together until the last one ends.
    """
    if workers == 1:
        return timed(count, run_case, label)
    from django.db import connections

    connections.close_all()  # a forked child must not share its parent's connection
    context = multiprocessing.get_context("fork")
    go = context.Event()
    share = count // workers
    processes = [context.Process(target=_work, args=(run_case, share, go)) for _ in range(workers)]
    for process in processes:
        process.start()
    time.sleep(0.5)  # let every process connect before the clock starts
    start = time.perf_counter()
    go.set()
    for process in processes:
        process.join()
    seconds = time.perf_counter() - start
    if any(process.exitcode != 0 for process in processes):
        raise RuntimeError(f"{label}: a worker process failed")
    print(f"  {label}: {share * workers}/{count}", flush=True)
    return share * workers / seconds


def child(url: str, options: argparse.Namespace) -> None:
    setup_django(url)
    from django.db import connection

    schema = build_schema()
    print(f"[{connection.vendor}] schema from {schema}", flush=True)
    result: dict[str, Any] = {
        "vendor": connection.vendor,
        "schema": schema,
        "rates": {},
        "cpu_ms": {},
    }
    runs: list[tuple[str, Callable[[], None], Callable[[], int]]] = []
    if "ours" in options.engines:
        ours = OurHost()
        queries: dict[str, int] = {}
        ours.run_case(queries)  # warm-up, counting statements per step
        result["queries"] = queries
        result["queries_per_case"] = sum(queries.values())
        if options.profile:
            profile(ours.run_case, options.count)
        runs.append(("ours", ours.run_case, ours.closed_count))
        floor = FloorHost(department_id=ours.lead.pk)
        runs.append(("floor", floor.run_case, floor.finished))
        raw = RawFloorHost(department_id=ours.lead.pk)
        runs.append(("raw_floor", raw.run_case, raw.finished))
        # Our statements per case less the six BEGIN/COMMIT pairs and the floor's three a
        # step, spread over the six steps as extra reads.
        extra = max(0, round((result["queries_per_case"] - 12) / 6) - 3)
        raw_ours = RawFloorHost(department_id=ours.lead.pk, extra_reads=extra)
        runs.append(("raw_statements", raw_ours.run_case, raw_ours.finished))
        result["raw_statements"] = 6 * (3 + extra)
    if "spiff" in options.engines:
        spiff = SpiffHost()
        spiff.run_case(reload=True)  # warm-up: imports, first statements
        runs.append(("spiff", lambda: spiff.run_case(reload=True), spiff.completed_count))
        runs.append(("spiff_kept", lambda: spiff.run_case(reload=False), spiff.completed_count))
    for name, run_case, finished in runs:
        for workers in sorted({1, options.workers}):
            before = finished()
            label = f"{name}, {_processes(workers)}"
            cpu = time.process_time()
            rate = timed_parallel(options.count, run_case, label, workers)
            if workers == 1:
                result["cpu_ms"][name] = (time.process_time() - cpu) * 1000 / options.count
            done = finished() - before
            if done != options.count - options.count % workers:
                raise RuntimeError(f"{name}: {done} of {options.count} cases finished")
            result["rates"][f"{name}_{workers}"] = rate
    emit(result)


def profile(run_case: Callable[[], None], count: int) -> None:
    """Where our engine spends its time (cProfile; the figures are not the benchmark's)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        run_case()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(50)
    print(out.getvalue(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="cases per engine (default 500)")
    parser.add_argument("--quick", action="store_true", help="50 cases: a smoke run")
    parser.add_argument("--db", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes for the parallel figure (default 2)"
    )
    parser.add_argument(
        "--engines", default="ours,spiff", help="comma-separated: ours, spiff (default both)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile our engine first")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.quick:
        options.count = 50
    options.engines = set(options.engines.split(","))
    if options.child:
        child(options.child, options)
        return

    forwarded = ["--count", str(options.count), "--workers", str(options.workers)]
    forwarded += ["--engines", ",".join(sorted(options.engines))]
    if options.profile:
        forwarded.append("--profile")
    results = {
        label: run_child(__file__, url, forwarded)
        for label, url in database_urls(options.db, pg_name="dc_bench_cases").items()
    }
    report(results, options)


def _processes(n: int) -> str:
    return f"{n} process" + ("es" if n > 1 else "")


LABELS = {
    "ours": "digitalcity.cases",
    "floor": "ORM floor (6 steps × 3 statements)",
    "raw_floor": "driver floor (6 steps × 3 statements)",
    "raw_statements": "driver, our statement count",
    "spiff": "SpiffWorkflow, per request",
    "spiff_kept": "SpiffWorkflow, kept in memory",
}


def report(results: dict[str, dict[str, Any]], options: argparse.Namespace) -> None:
    counts = sorted({1, options.workers})
    print(f"\n{options.count} cases per engine and column; one transaction per step; cases/s")
    print("(last column: CPU ms per case of the benchmark process in the 1-process run —")
    print(" less sensitive to other load; SQLite runs inside it, PostgreSQL's server does not)")
    print(f"machine: {machine_note()}")
    last: dict[str, float | int | str] = {}
    for label, r in results.items():
        rates = r["rates"]
        print(f"\n{r['vendor']} (tables built from {r['schema']})")
        print(f"{'':42}" + "".join(f"{_processes(n):>14}" for n in counts) + f"{'CPU ms':>10}")
        for name, title in LABELS.items():
            if f"{name}_1" in rates:
                cpu = r.get("cpu_ms", {}).get(name)
                print(
                    f"  {title:<40}"
                    + "".join(f"{rates[f'{name}_{n}']:14.1f}" for n in counts)
                    + (f"{cpu:10.2f}" if cpu is not None else "")
                )
        if "ours_1" in rates and "spiff_1" in rates:
            for other in ("spiff", "spiff_kept"):
                print(
                    f"  {'ratio to ' + LABELS[other]:<40}"
                    + "".join(
                        f"{rates[f'ours_{n}'] / rates[f'{other}_{n}']:13.2f}×" for n in counts
                    )
                )
        if "queries" in r:
            steps = ", ".join(f"{step} {n}" for step, n in r["queries"].items())
            print(f"  statements per case: {r['queries_per_case']} ({steps})")
            if "raw_statements" in r:
                print(
                    f'  driver row "our statement count": {r["raw_statements"]} statements'
                    " a case besides BEGIN and COMMIT (case row reads added to the floor's)"
                )
            last[f"queries_per_case_{label}"] = r["queries_per_case"]
        best = counts[-1]
        if "ours_1" in rates:
            last[f"cases_per_s_{label}"] = rates[f"ours_{best}"]
            if "ours" in r.get("cpu_ms", {}):
                last[f"cpu_ms_per_case_{label}"] = r["cpu_ms"]["ours"]
        if "floor_1" in rates:
            last[f"floor_per_s_{label}"] = rates[f"floor_{best}"]
        if "raw_floor_1" in rates:
            last[f"raw_floor_per_s_{label}"] = rates[f"raw_floor_{best}"]
            last[f"raw_statements_per_s_{label}"] = rates[f"raw_statements_{best}"]
        if "spiff_1" in rates:
            last[f"spiff_per_s_{label}"] = rates[f"spiff_{best}"]
            last[f"spiff_kept_per_s_{label}"] = rates[f"spiff_kept_{best}"]
        if "ours_1" in rates and "spiff_1" in rates:
            last[f"ratio_{label}"] = rates[f"ours_{best}"] / rates[f"spiff_{best}"]
            last[f"ratio_kept_{label}"] = rates[f"ours_{best}"] / rates[f"spiff_kept_{best}"]
    print("\ngoal: ≥ 300 cases/s and ≥ 10× SpiffWorkflow on 2 cores")
    print(f"name=value figures are those of {_processes(counts[-1])}:")
    print(pairs(last))


if __name__ == "__main__":
    main()
