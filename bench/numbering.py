"""Benchmark: case numbers per second from core.numbering.next_number.

Each number is taken in its own transaction, as a case creation would: serially, then
from several threads at once (they queue on the sequence row: that is what makes the
numbers gap-free). Runs on a throw-away SQLite file, and on PostgreSQL when
BENCH_DATABASE_URL is set (a database the script may migrate and fill). Prints
numbers/second and the ratio of the concurrent to the serial rate.

    .venv/bin/python bench/numbering.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/dc_bench .venv/bin/python bench/numbering.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

SERIAL = int(os.environ.get("BENCH_SERIAL", "2000"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
PER_THREAD = int(os.environ.get("BENCH_PER_THREAD", "500"))


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="dc-bench-")
    os.environ["DC_VAR_DIR"] = tmp
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digitalcity.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections, transaction

    from digitalcity.core.models import NumberSequence
    from digitalcity.core.numbering import next_number

    call_command("migrate", verbosity=0)
    NumberSequence.objects.filter(prefix__in=["BS", "BT"]).delete()
    engine = connection.vendor

    def take(prefix: str, count: int) -> list[str]:
        out = []
        for _ in range(count):
            with transaction.atomic():
                out.append(next_number(prefix, year=2026))
        return out

    start = time.perf_counter()
    serial_numbers = take("BS", SERIAL)
    serial_rate = SERIAL / (time.perf_counter() - start)

    results: list[list[str]] = []
    lock = threading.Lock()

    def worker() -> None:
        got = take("BT", PER_THREAD)
        with lock:
            results.append(got)
        connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    concurrent_rate = THREADS * PER_THREAD / (time.perf_counter() - start)
    numbers = sorted(n for chunk in results for n in chunk)
    expected = [f"BT-2026-{i:06d}" for i in range(1, THREADS * PER_THREAD + 1)]

    print(f"engine: {engine}")
    print(f"serial:     {SERIAL} numbers, {serial_rate:,.0f} numbers/s")
    print(
        f"concurrent: {THREADS} threads x {PER_THREAD}, {concurrent_rate:,.0f} numbers/s "
        f"(ratio to serial {concurrent_rate / serial_rate:.2f})"
    )
    print(f"gap-free and unique: {numbers == expected and len(set(serial_numbers)) == SERIAL}")
    # A city's busiest intake (12345 plus approvals) is in the order of 10^4 cases a day:
    print(f"seconds of numbering for 10,000 cases: {10_000 / concurrent_rate:.2f}")


if __name__ == "__main__":
    main()
