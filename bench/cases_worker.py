"""Benchmark: the clock sweep with many open cases, 10,000 of them falling due at once.

Fills the case engine's tables set-based (INSERT … SELECT over generate_series on
PostgreSQL, over a recursive CTE on SQLite) with open cases — each with its lead
department, its "created" event and a running legal clock whose next signal is days
ahead — and closed cases whose clocks are stopped. Then it makes 10,000 open clocks
(spread over the whole table) fall due now, and times the real sweep the worker runs
(`digitalcity.cases.sweep.sweep`) until all 10,000 are signalled, checking that exactly
10,000 Signal rows were written, one per clock.

The scales grow in one database (rows are added, never rebuilt): by default 100k and
1M open with no closed case, then 1M open with 1M closed. Goal: < 2 s at 1 million
open, not growing with the number of closed cases.

    .venv/bin/python bench/cases_worker.py                       # PostgreSQL (else SQLite)
    .venv/bin/python bench/cases_worker.py --db both --quick     # 20k/50k open, 50k closed
    .venv/bin/python bench/cases_worker.py --scales 100000:0,1000000:0,1000000:1000000

PostgreSQL is BENCH_DATABASE_URL or postgres://postgres@127.0.0.1:5432/dc_bench_worker,
dropped and recreated.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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

DEFAULT_SCALES = "100000:0,1000000:0,1000000:1000000"
QUICK_SCALES = "20000:0,50000:0,50000:50000"
BLOCK = 250_000  # rows per INSERT … SELECT: keeps each statement's memory and WAL bounded
TYPE_CODE = "example.parallel"
CLOCK_CODE = "legal"


@dataclass
class Table:
    """The rows generated so far, by id range (ids are assigned by the generator)."""

    open_ranges: list[tuple[int, int]] = field(default_factory=list)
    next_id: int = 1
    open_count: int = 0
    closed_count: int = 0
    rounds: int = 0


# --- Set-based generation -----------------------------------------------------------


def _series_insert(
    model: Any, values: dict[str, str], lo: int, hi: int, params: dict[str, Any]
) -> None:
    """INSERT INTO model's table one row per g in lo..hi, each column from an SQL expression.

    Every column of the model must be given (the id may be left to the database), so a
    column added to the engine later
    makes the benchmark stop with its name instead of writing inconsistent rows.
    """
    from django.db import connection

    columns = [f.column for f in model._meta.concrete_fields]
    if "id" not in values:  # rows the engine also writes during the run take ids from it
        columns.remove("id")
    missing = set(columns) - set(values)
    extra = set(values) - set(columns)
    if missing or extra:
        raise SystemExit(f"{model.__name__}: columns not generated {missing}, unknown {extra}")
    quote = connection.ops.quote_name
    target = f"{quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)})"
    select = ", ".join(values[c] for c in columns)
    # Table and column names come from the models, values from the expressions above.
    if connection.vendor == "postgresql":
        sql = (
            f"INSERT INTO {target} SELECT {select} "  # noqa: S608
            f"FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS s(g)"
        )
    else:
        series = (
            "WITH RECURSIVE s(g) AS (SELECT %(lo)s UNION ALL SELECT g + 1 FROM s WHERE g < %(hi)s)"
        )
        sql = f"{series} INSERT INTO {target} SELECT {select} FROM s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "lo": lo, "hi": hi})


def _at(seconds_expr: str) -> str:
    """SQL for the moment `seconds_expr` seconds after %(now)s."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"(%(now)s::timestamptz + ({seconds_expr}) * interval '1 second')"
    return f"datetime(%(now)s, ({seconds_expr}) || ' seconds')"


def _now_param(now: datetime) -> Any:
    from django.db import connection

    # Django stores SQLite datetimes as UTC text; datetime() above reads and writes that.
    return now if connection.vendor == "postgresql" else now.strftime("%Y-%m-%d %H:%M:%S")


def add_cases(table: Table, count: int, *, closed: bool, departments: tuple[int, int]) -> None:
    """Append `count` cases (open or closed), each with its lead department, one review
    task, a "created" event, the legal clock and the task's clock.

    Open: state "reviewing", opened up to 10 days ago, the task open, both clocks running
    with their prompt 1–20 days ahead (nothing to signal yet). Closed: state "closed",
    the task completed, the clocks stopped with nothing left to signal — so the sweep's
    partial index does not hold them.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from digitalcity.cases.models import Case, CaseDepartment, Clock, Event, Task

    pg = connection.vendor == "postgresql"
    first_dept, n_dept = departments
    opened = _at("-(g %% 864000)")
    due = _at("86400 * (2 + g %% 20) + (g %% 3600)")
    if closed:
        closed_at, state, clock_state = _at("-(g %% 3600)"), "'closed'", "'stopped'"
        due_at = prompt_at = red_at = next_signal_at = "NULL"
    else:
        closed_at, state, clock_state = "NULL", "'reviewing'", "'running'"
        due_at = due
        prompt_at = _at("86400 * (1 + g %% 20) + (g %% 3600)")
        red_at = _at("86400 * (7 + g %% 20) + (g %% 3600)")
        next_signal_at = prompt_at
    dept = f"(%(first_dept)s + g %% {n_dept})"
    case_values = {
        "id": "g",
        "number": "'BW-' || g",
        "type_code": f"'{TYPE_CODE}'",
        "subject": "'基准办件 ' || g",
        "applicant_id": "NULL",
        "applicant_name": "'市民'",
        "applicant_phone": "''",
        "channel": "'online'",
        "division_id": "NULL",
        "department_id": dept,
        "state": state,
        "priority": "0",
        "opened_at": opened,
        "closed_at": closed_at,
        "is_confidential": "FALSE",
        "round": "1",
        "updated_at": opened if not closed else closed_at,
    }
    involved = {
        "id": "g",
        "case_id": "g",
        "department_id": dept,
        "role": "'lead'",
        "added_at": opened,
    }
    event = {
        "case_id": "g",
        "task_id": "NULL",
        "actor_id": "NULL",
        "actor_label": "'市民'",
        "at": opened,
        "kind": "'created'",
        "transition": "''",
        "from_state": "''",
        "to_state": "'submitted'",
        "reason": "''",
        "data": "'{}'::jsonb" if pg else "'{}'",
        "public": "TRUE",
    }
    task = {
        "id": "g",
        "case_id": "g",
        "spec": "'review'",
        "kind": "'review'",
        "group": "'review-bench'",
        "join": "'all'",
        "department_id": dept,
        "assignee_id": "NULL",
        "state": "'completed'" if closed else "'open'",
        "locked_by_id": "NULL",
        "locked_at": "NULL",
        "outcome": "'agree'" if closed else "''",
        "opinion": "'同意'" if closed else "''",
        "return_reason": "''",
        "created_at": opened,
        "completed_at": closed_at,
        "updated_at": opened if not closed else closed_at,
    }

    def clock(clock_id: str, task_id: str, code: str, limit: int, red_after: str) -> dict[str, str]:
        return {
            "id": clock_id,
            "case_id": "g",
            "task_id": task_id,
            "code": f"'{code}'",
            "unit": "'workdays'",
            "limit": str(limit),
            "extended": "0",
            "prompt_before": "1",
            "red_after": red_after,
            "state": clock_state,
            "run": "1",
            "started_at": opened,
            "paused_at": "NULL",
            "stopped_at": closed_at,
            "segment_started_at": "NULL" if closed else opened,
            "used": "0",
            "due_at": due_at,
            "prompt_at": prompt_at,
            "red_at": "NULL" if red_after == "NULL" else red_at,
            "signal_stage": "'none'",
            "next_signal_at": next_signal_at,
            "estimated": "FALSE",
            "sweep_token": "''",
        }

    # Clock ids: 2g - 1 for the case's legal clock, 2g for its review task's clock.
    case_clock = clock("2 * g - 1", "NULL", CLOCK_CODE, 20, "5")
    task_clock = clock("2 * g", "g", "review", 10, "NULL")
    params = {"now": _now_param(timezone.now()), "first_dept": first_dept}
    start = table.next_id
    for lo in range(start, start + count, BLOCK):
        hi = min(lo + BLOCK, start + count) - 1
        with transaction.atomic():
            for model, values in (
                (Case, case_values),
                (CaseDepartment, involved),
                (Task, task),
                (Event, event),
                (Clock, case_clock),
                (Clock, task_clock),
            ):
                _series_insert(model, values, lo, hi, params)
        print(f"  generated {hi:,} cases", flush=True)
    table.next_id = start + count
    if closed:
        table.closed_count += count
    else:
        table.open_ranges.append((start, start + count - 1))
        table.open_count += count
    _after_bulk_load()


def _after_bulk_load() -> None:
    """Restart the id sequences past the generated ids and refresh the planner's statistics."""
    from django.core.management.color import no_style
    from django.db import connection

    from digitalcity.cases.models import Case, CaseDepartment, Clock, Event, Task

    models = [Case, CaseDepartment, Task, Event, Clock]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            # What autovacuum would do within a minute of such a load.
            for model in models:
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
            # Write the load's dirty pages now, not in a checkpoint during the measurement.
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("ANALYZE")


def make_due(table: Table, due: int) -> list[int]:
    """Make `due` open clocks, spread evenly over the open cases, fall due a minute ago.

    They were prompted the day before (stage "prompted"), so the sweep owes each one a
    yellow card. Each round picks other clocks than the rounds before.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from digitalcity.cases.models import Clock

    ids: list[int] = []
    total = table.open_count
    step = total / due
    if step < 2:
        raise SystemExit(f"{due} due clocks need at least {2 * due} open cases")
    offset = table.rounds % int(step)
    for i in range(due):
        index = int(i * step) + offset
        for lo, hi in table.open_ranges:
            if index <= hi - lo:
                ids.append(2 * (lo + index) - 1)  # the case's legal clock
                break
            index -= hi - lo + 1
    table.rounds += 1
    now = timezone.now()
    due_at = now - timedelta(minutes=1)
    with transaction.atomic():
        for chunk in range(0, len(ids), 5000):
            Clock.objects.filter(id__in=ids[chunk : chunk + 5000]).update(
                state="running",
                due_at=due_at,
                prompt_at=due_at - timedelta(days=1),
                red_at=due_at + timedelta(days=7),
                signal_stage="prompted",
                next_signal_at=due_at,
            )
    with connection.cursor() as cursor:
        # In real life the due moments arrive over time and autovacuum clears the dead
        # row versions of earlier sweeps and of the UPDATE above in between; without
        # this the first batch would wade through tens of thousands of them.
        vacuum = "VACUUM " if connection.vendor == "postgresql" else ""
        cursor.execute(f"{vacuum}ANALYZE {Clock._meta.db_table}")
    return ids


# --- Measuring --------------------------------------------------------------------


def measure(ids: list[int]) -> dict[str, Any]:
    """Run the worker's sweep until every clock in `ids` is signalled; time it."""
    from django.db.models import Max

    from digitalcity.cases.models import Clock, Signal
    from digitalcity.cases.sweep import sweep

    before = Signal.objects.aggregate(m=Max("id"))["m"] or 0
    calls = 0
    start = time.perf_counter()
    deadline = start + 600
    while True:
        sweep()
        calls += 1
        done = Signal.objects.filter(id__gt=before).count()
        if done >= len(ids) or time.perf_counter() > deadline:
            break
    seconds = time.perf_counter() - start
    new = Signal.objects.filter(id__gt=before)
    per_clock = set(new.values_list("clock_id", flat=True))
    left = Clock.objects.filter(id__in=ids[:5000], signal_stage="prompted").count()
    ok = new.count() == len(ids) and per_clock == set(ids) and left == 0
    return {"seconds": seconds, "signals": new.count(), "calls": calls, "ok": ok}


def seed_departments(n: int) -> tuple[int, int]:
    """`n` departments with consecutive ids, each with a clerk and a head (recipients)."""
    from django.db import transaction

    from digitalcity.core.divisions import load_divisions
    from digitalcity.core.models import Department, DepartmentKind, Division, Membership
    from digitalcity.identity.models import AccountKind, User

    load_divisions(prefix="4201")
    city = Division.objects.get(code="420100")
    with transaction.atomic():
        departments = [
            Department.objects.create(
                name=f"基准部门{i:02d}",
                code=f"bench-{i:02d}",
                kind=DepartmentKind.BUREAU,
                division=city,
            )
            for i in range(n)
        ]
        for d in departments:
            for role in ("clerk", "head"):
                user = User.objects.create_user(
                    username=f"{d.code}-{role}",
                    kind=AccountKind.STAFF,
                    password=None,
                    real_name=f"{d.name}{role}",
                )
                Membership.objects.create(user=user, department=d, role=role)
    ids = [d.id for d in departments]
    if ids != list(range(ids[0], ids[0] + n)):
        raise SystemExit("departments did not get consecutive ids")
    return ids[0], n


def child(url: str, options: argparse.Namespace) -> None:
    setup_django(url)
    from django.db import connection

    schema = build_schema()
    vendor = connection.vendor
    print(f"[{vendor}] schema from {schema}", flush=True)
    departments = seed_departments(20)
    table = Table()
    rows = []
    for open_target, closed_target in options.scales:
        if open_target > table.open_count:
            print(f"[{vendor}] adding {open_target - table.open_count:,} open cases", flush=True)
            t = time.perf_counter()
            add_cases(table, open_target - table.open_count, closed=False, departments=departments)
            print(f"  in {time.perf_counter() - t:.0f} s", flush=True)
        if closed_target > table.closed_count:
            print(f"[{vendor}] adding {closed_target - table.closed_count:,} closed", flush=True)
            t = time.perf_counter()
            add_cases(
                table, closed_target - table.closed_count, closed=True, departments=departments
            )
            print(f"  in {time.perf_counter() - t:.0f} s", flush=True)
        runs = []
        for attempt in range(options.repeat):
            run = measure(make_due(table, options.due))
            runs.append(run)
            print(
                f"[{vendor}] open {table.open_count:,} closed {table.closed_count:,} "
                f"run {attempt + 1}: {run['signals']:,} signals in {run['seconds']:.2f} s "
                f"({run['calls']} sweep call){'' if run['ok'] else '  WRONG COUNT'}",
                flush=True,
            )
        seconds = sorted(run["seconds"] for run in runs)
        result = {
            "open": table.open_count,
            "closed": table.closed_count,
            "seconds": seconds[0],
            "median": seconds[len(seconds) // 2],
            "signals": runs[0]["signals"],
            "ok": all(run["ok"] for run in runs),
        }
        rows.append(result)
    emit({"vendor": vendor, "schema": schema, "rows": rows})


def parse_scales(text: str) -> list[tuple[int, int]]:
    scales = [tuple(int(x) for x in part.split(":")) for part in text.split(",")]
    for (o1, c1), (o2, c2) in itertools.pairwise(scales):
        if o2 < o1 or c2 < c1:
            raise SystemExit("--scales must not shrink: rows are added, never removed")
    return [(o, c) for o, c in scales]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        choices=("sqlite", "pg", "both", "auto"),
        default="auto",
        help="auto (default): PostgreSQL when it answers, else SQLite",
    )
    parser.add_argument(
        "--scales", default=DEFAULT_SCALES, help=f"open:closed,… (default {DEFAULT_SCALES})"
    )
    parser.add_argument("--due", type=int, default=10_000, help="clocks falling due at once")
    parser.add_argument(
        "--repeat", type=int, default=3, help="sweeps per scale, each on other clocks (default 3)"
    )
    parser.add_argument("--quick", action="store_true", help=f"scales {QUICK_SCALES}, 2,000 due")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.quick:
        options.scales, options.due = QUICK_SCALES, 2_000
    options.scales = parse_scales(options.scales)
    if options.child:
        child(options.child, options)
        return
    forwarded = ["--scales", ",".join(f"{o}:{c}" for o, c in options.scales)]
    forwarded += ["--due", str(options.due), "--repeat", str(options.repeat)]
    results = {
        label: run_child(__file__, url, forwarded)
        for label, url in database_urls(options.db, pg_name="dc_bench_worker").items()
    }
    report(results, options.due)


def report(results: dict[str, dict[str, Any]], due: int) -> None:
    print(f"\n{due:,} clocks falling due at once; seconds until all are signalled")
    print(f"machine: {machine_note()}")
    columns = ("open", 11), ("closed", 11), ("best s", 9), ("median s", 10), ("signals/s", 11)
    print(f"{'database':<11}" + "".join(f"{name:>{width}}" for name, width in columns) + "  check")
    last: dict[str, float | int | str] = {}
    for label, r in results.items():
        rows = r["rows"]
        for row in rows:
            print(
                f"{r['vendor']:<11}{row['open']:>11,}{row['closed']:>11,}{row['seconds']:>9.2f}"
                f"{row['median']:>10.2f}"
                f"{row['signals'] / row['seconds']:>11,.0f}  {'ok' if row['ok'] else 'WRONG'}"
            )
            last[f"s_{label}_{row['open']}_{row['closed']}"] = row["seconds"]
        if len(rows) > 1:
            by_open = [r2 for r2 in rows if r2["closed"] == 0]
            if len(by_open) > 1:
                growth = by_open[-1]["seconds"] / by_open[0]["seconds"]
                print(
                    f"{label}: ×{by_open[-1]['open'] / by_open[0]['open']:.3g} open cases → "
                    f"×{growth:.2f} time"
                )
                last[f"growth_open_{label}"] = growth
            top = max(row["open"] for row in rows)
            at_top = [r2 for r2 in rows if r2["open"] == top]
            if len(at_top) > 1:
                growth = at_top[-1]["seconds"] / at_top[0]["seconds"]
                print(f"{label}: +{at_top[-1]['closed']:,} closed cases → ×{growth:.2f} time")
                last[f"growth_closed_{label}"] = growth
        last[f"ok_{label}"] = int(all(row["ok"] for row in rows))
    print("goal: < 2 s at 1,000,000 open, not growing with the closed cases")
    print(pairs(last))


if __name__ == "__main__":
    main()
