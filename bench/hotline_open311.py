"""Benchmark: Open311 `POST requests` under concurrent load on gunicorn with PostgreSQL.

Issue 6's benchmark. A real gunicorn (gthread workers by default, 2 of them: "on 2
cores") serves the platform on a fresh PostgreSQL database (BENCH_DATABASE_URL, or
postgres://postgres@127.0.0.1:5432/dc_bench_open311, dropped and recreated). A Python
load generator (threads with keep-alive connections) sends concurrent POSTs:

1. **bare**: a bare Django JSON view (registered only by this script's URLconf) that
   parses the same form body through the same middleware stack: what the stack itself
   costs per request;
2. **open311**: `POST /open311/v2/requests.json` with an API key, a description, a
   location inside the city and an idempotency key — each one a real work order through
   the hotline's intake and the case engine (a `hotline.order` case, its clock, events).

Prints requests/second, p50 and p99 latency of each, the ratio, and checks afterwards that
the database holds exactly one order per 201 answer (nothing lost, no duplicates). Goal
(issue 6): ≥ 200 orders/s and p99 < 200 ms on 2 cores. `--profile` first runs the same
POSTs in-process under cProfile (Django's test client, same database) and prints where
the time goes. The load generator runs on the same 2 cores as the server: the figures
include its cost.

    .venv/bin/python bench/hotline_open311.py                       # 3000 POSTs, 16 concurrent
    .venv/bin/python bench/hotline_open311.py --requests 500 --quick-warmup
    .venv/bin/python bench/hotline_open311.py --workers 2 --threads 8 --concurrency 32 --profile
    .venv/bin/python bench/hotline_open311.py --worker-class sync --workers 4

Last line: `orders_per_s p50_ms p99_ms bare_per_s bare_p50_ms bare_p99_ms ratio`.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import ROOT, emit, machine_note, pairs, pg_problem, run_child, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/dc_bench_open311"
SETTINGS = """from digitalcity.settings import *  # noqa: F403

ROOT_URLCONF = "dc_bench_open311_urls"
"""
URLS = '''"""The platform's URLs plus one bare JSON view, for bench/hotline_open311.py only."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from digitalcity.urls import urlpatterns as platform_urls


@csrf_exempt
def bare(request):
    return JsonResponse([{"fields": len(request.POST)}], safe=False, status=201)


urlpatterns = [path("bench/bare.json", bare), *platform_urls]
'''


# --- the database (a child process: Django's settings are process-wide) --------------


def child_setup(url: str) -> None:
    """Recreate the database, migrate, seed the calendar, the center and an API key."""
    setup_django(url)
    from _harness import build_schema

    how = build_schema()
    from django.utils import timezone

    from digitalcity.core.calendar_import import seed_from_chinesecalendar
    from digitalcity.core.models import Department, DepartmentKind, Division, DivisionLevel
    from digitalcity.hotline.conf import center_code
    from digitalcity.hotline.open311.services import issue_client

    if how == "models":
        # Built without migrations: their data steps (the category tree, the full-text
        # table) are run here instead.
        from digitalcity.core.fulltext import ensure_schema
        from digitalcity.hotline.categories import seed_categories

        seed_categories()
        ensure_schema()
    year = timezone.localdate().year
    seed_from_chinesecalendar(years=[year - 1, year])
    city = Division.objects.create(code="140500", name="示范市", level=DivisionLevel.CITY)
    Department.objects.create(
        code=center_code(),
        name="12345政务服务便民热线中心",
        kind=DepartmentKind.CENTER,
        division=city,
    )
    # A limit high enough not to refuse the benchmark, still counted on every POST.
    _client, key = issue_client(name="bench", rate_per_minute=1_000_000)
    emit({"key": key, "schema": how})


def child_count(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digitalcity.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.db.models import Count

    from digitalcity.hotline.models import Open311Submission, WorkOrder

    keys = WorkOrder.objects.exclude(idempotency_key="").values("idempotency_key")
    duplicates = keys.annotate(n=Count("id")).filter(n__gt=1).count()
    emit(
        {
            "orders": WorkOrder.objects.count(),
            "submissions": Open311Submission.objects.count(),
            "duplicate_keys": duplicates,
        }
    )


def child_profile(url: str, key: str, count: int) -> None:
    """The same POSTs in-process under cProfile (no gunicorn, no network)."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "digitalcity.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    bodies = [body(f"profile-{i}", i + 5_000_000) for i in range(count + 1)]
    response = client.post(
        "/open311/v2/requests.json", bodies[0], content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201, response.content  # noqa: S101
    with CaptureQueriesContext(connection) as queries:
        client.post(
            "/open311/v2/requests.json", bodies[1], content_type="application/x-www-form-urlencoded"
        )
    print(f"SQL statements per POST: {len(queries.captured_queries)}")
    for q in queries.captured_queries:
        print("   ", q["sql"][:150])
    reset_queries()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for data in bodies[2:]:
        client.post(
            "/open311/v2/requests.json", data, content_type="application/x-www-form-urlencoded"
        )
    profiler.disable()
    elapsed = time.perf_counter() - started
    done = len(bodies) - 2
    print(f"in-process: {done} POSTs in {elapsed:.2f} s = {done / elapsed:.0f}/s")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(r"digitalcity", 30)
    if os.environ.get("BENCH_PROFILE_ALL"):
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(45)
    print(out.getvalue())
    emit({"in_process_per_s": (len(bodies) - 2) / elapsed})


# --- load ------------------------------------------------------------------------------

API_KEY = ""


def body(idempotency: str, n: int) -> str:
    return urllib.parse.urlencode(
        {
            "api_key": API_KEY,
            "service_code": "010101",
            "description": f"小区门口垃圾三天没人清运，气味很大（压测 {n}）",
            "last_name": "张",
            "first_name": "三",
            # One number per order: the per-number flood limit stays out of the way.
            "phone": f"139{n % 10**8:08d}",
            "lat": "35.49",
            "long": "112.85",
            "idempotency_key": idempotency,
        }
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/open311/v2/services.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def drive(port: int, path: str, bodies: list[str], concurrency: int) -> dict[str, Any]:
    """POST every body, `concurrency` at a time; latencies in ms and status counts."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "keep-alive"}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        counts: dict[int, int] = {}
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                break
            started = time.perf_counter()
            try:
                conn.request("POST", path, bodies[i], headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            mine.append((time.perf_counter() - started) * 1000)
            counts[status] = counts.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for status, n in counts.items():
                statuses[status] = statuses.get(status, 0) + n

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    ok = statuses.get(201, 0)
    return {
        "per_s": ok / elapsed,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "max": latencies[-1],
        "elapsed": elapsed,
        "statuses": statuses,
        "ok": ok,
    }


def main() -> None:
    global API_KEY
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=3000, help="POSTs per phase (3000)")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads (16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (4)")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--profile", action="store_true", help="cProfile the path in-process first")
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="diagnosis only: PostgreSQL synchronous_commit=off for the server's connections "
        "(shows what the commit's WAL flush costs while the number row is locked)",
    )
    args = parser.parse_args()

    if args.child:
        url, what, *rest = args.child
        if what == "setup":
            child_setup(url)
        elif what == "count":
            child_count(url)
        elif what == "profile":
            API_KEY = rest[0]
            child_profile(url, rest[0], int(rest[1]))
        return

    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    problem = pg_problem(url)
    if problem:
        raise SystemExit(f"PostgreSQL at {url}: {problem} (this benchmark needs PostgreSQL)")
    print(f"machine: {machine_note()}")
    print(f"database: {url} (recreated)")
    setup = run_child(__file__, url, ["setup"])
    API_KEY = setup["key"]
    print(f"schema from {setup['schema']}")

    if args.profile:
        run_child(__file__, url, ["profile", API_KEY, "300"])

    before = run_child(__file__, url, ["count"])["orders"]
    tmp = Path(tempfile.mkdtemp(prefix="dc-bench-open311-"))
    (tmp / "dc_bench_open311_settings.py").write_text(SETTINGS)
    (tmp / "dc_bench_open311_urls.py").write_text(URLS)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "dc_bench_open311_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT / "src")]),
        "DC_VAR_DIR": str(tmp / "var"),
        "DC_CALENDAR_ALLOW_ESTIMATE": "1",
        "DEBUG": "false",
    }
    if args.async_commit:
        env["PGOPTIONS"] = "-c synchronous_commit=off"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    cmd = [
        gunicorn,
        "digitalcity.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--log-level",
        "warning",
        "--keep-alive",
        "5",
    ]
    if args.worker_class == "gthread":
        cmd += ["--threads", str(args.threads)]
    print("server:", " ".join(cmd[1:]))
    proc = subprocess.Popen(cmd, env=env, cwd=tmp)  # noqa: S603
    try:
        wait_ready(port, proc)
        warm = [body(f"warm-{i}", 9_000_000 + i) for i in range(100)]
        drive(port, "/bench/bare.json", warm, args.concurrency)
        warmed = drive(port, "/open311/v2/requests.json", warm, args.concurrency)

        n = args.requests
        bare = drive(
            port, "/bench/bare.json", [body(f"b-{i}", i) for i in range(n)], args.concurrency
        )
        orders = drive(
            port,
            "/open311/v2/requests.json",
            [body(f"o-{i}", 1_000_000 + i) for i in range(n)],
            args.concurrency,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    counted = run_child(__file__, url, ["count"])
    expected = before + orders["ok"] + warmed["ok"]
    print()
    print(
        f"{n} POSTs per phase, {args.concurrency} concurrent clients, "
        f"{args.workers} {args.worker_class} workers"
        + (f" × {args.threads} threads" if args.worker_class == "gthread" else "")
    )
    for label, r in (("bare Django JSON view", bare), ("Open311 POST requests", orders)):
        print(
            f"  {label:24s} {r['per_s']:7.0f}/s   p50 {r['p50']:6.1f} ms   p99 {r['p99']:6.1f} ms"
            f"   max {r['max']:6.1f} ms   statuses {json.dumps(r['statuses'])}"
        )
    ratio = orders["per_s"] / bare["per_s"] if bare["per_s"] else 0.0
    print(f"  orders/s ÷ bare/s = {ratio:.2f}")
    print(
        f"  database: {counted['orders']} orders, {counted['submissions']} submissions, "
        f"{counted['duplicate_keys']} duplicated idempotency keys (expected {expected} orders)"
    )
    if counted["orders"] != expected or counted["duplicate_keys"]:
        print("  WARNING: orders in the database do not match the 201 answers")
    goal = orders["per_s"] >= 200 and orders["p99"] < 200
    print(f"  goal ≥ 200 orders/s and p99 < 200 ms: {'met' if goal else 'NOT met'}")
    print(f"machine after: {machine_note()}")
    print(
        pairs(
            {
                "orders_per_s": orders["per_s"],
                "p50_ms": orders["p50"],
                "p99_ms": orders["p99"],
                "bare_per_s": bare["per_s"],
                "bare_p50_ms": bare["p50"],
                "bare_p99_ms": bare["p99"],
                "ratio": ratio,
            }
        )
    )


if __name__ == "__main__":
    main()
