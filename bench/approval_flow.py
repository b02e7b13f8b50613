"""Benchmark: licensing applications from the online form to the licence.

Each application goes through the approval service as people would, one transaction per
step: a citizen applies with two uploaded materials (type checked by content), the window
accepts, the lead and the co-department review in parallel, the lead grants (licence
numbered). Then the licence PDFs (ReportLab, CID font, QR code) are rendered, and the
supervision statistics are computed over all decided applications (from events, no
counters). A fresh SQLite file, and PostgreSQL when the server answers
(BENCH_DATABASE_URL or postgres://postgres@127.0.0.1:5432/dc_bench_approval, dropped and
recreated). Prints applications/s, statements per application, PDFs/s, the statistics'
time, the ratio of PDF rendering to the whole procedure, and a last name=value line.

    .venv/bin/python bench/approval_flow.py              # 200 applications, both databases
    .venv/bin/python bench/approval_flow.py --quick      # 20
    .venv/bin/python bench/approval_flow.py --db sqlite --count 500
"""

from __future__ import annotations

import argparse
import sys
import time
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


def child(url: str, count: int) -> None:
    setup_django(url)
    schema = build_schema()
    import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from digitalcity.approval.models import Licence
    from digitalcity.approval.pdf import licence_pdf
    from digitalcity.approval.services import (
        application_accept,
        application_apply,
        application_grant,
        review_opinion,
    )
    from digitalcity.approval.supervision import statistics
    from digitalcity.approval.tests.factories import FORM_DATA, make_world, uploads
    from digitalcity.core.calendar_import import seed_from_chinesecalendar
    from digitalcity.identity.tests.factories import make_personas

    seed_from_chinesecalendar()
    w = make_world(make_personas())

    def one() -> None:
        a = application_apply(
            item=w.item, actor=w.p.citizen, form_data=FORM_DATA, uploads=uploads()
        )
        application_accept(application=a, actor=w.window_a)
        review_opinion(application=a, actor=w.p.clerk_b, outcome="agree", opinion="同意")
        review_opinion(application=a, actor=w.p.clerk_a, outcome="agree", opinion="同意")
        application_grant(application=a, actor=w.head_a, opinion="准予")

    one()  # warm-up: imports, first numbers of the year
    with CaptureQueriesContext(connection) as queries:
        one()
    statements = len(queries.captured_queries)
    start = time.perf_counter()
    for _ in range(count):
        one()
    flow_rate = count / (time.perf_counter() - start)

    licences = list(Licence.objects.select_related("item", "department")[: min(count, 100)])
    start = time.perf_counter()
    size = 0
    for licence in licences:
        size += len(licence_pdf(licence))
    pdf_rate = len(licences) / (time.perf_counter() - start)

    from django.utils import timezone

    today = timezone.localdate()
    start = time.perf_counter()
    rows = statistics(today - datetime.timedelta(days=1), today + datetime.timedelta(days=2))
    stats_ms = (time.perf_counter() - start) * 1000
    decided = sum(r.decided for r in rows)
    emit(
        {
            "vendor": connection.vendor,
            "schema": schema,
            "flow_rate": flow_rate,
            "statements": statements,
            "pdf_rate": pdf_rate,
            "pdf_kb": size / len(licences) / 1024,
            "stats_ms": stats_ms,
            "decided": decided,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="20 applications: a smoke run")
    parser.add_argument("--db", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.quick:
        options.count = 20
    if options.child:
        child(options.child, options.count)
        return
    results: dict[str, dict[str, Any]] = {
        label: run_child(__file__, url, ["--count", str(options.count)])
        for label, url in database_urls(options.db, pg_name="dc_bench_approval").items()
    }
    print(f"\n{options.count} applications, apply → accept → 2 parallel reviews → grant")
    print(f"machine: {machine_note()}")
    last: dict[str, float | int | str] = {}
    for label, r in results.items():
        print(f"\n{r['vendor']} (tables built from {r['schema']})")
        print(f"  applications/s (5 transactions each)   {r['flow_rate']:10.1f}")
        print(f"  statements per application              {r['statements']:10d}")
        print(f"  licence PDFs/s ({r['pdf_kb']:.0f} KB each)           {r['pdf_rate']:10.1f}")
        print(f"  statistics over {r['decided']} decided, ms        {r['stats_ms']:10.1f}")
        print(f"  ratio PDF rate / application rate       {r['pdf_rate'] / r['flow_rate']:9.2f}×")
        last[f"{label}_apps_s"] = r["flow_rate"]
        last[f"{label}_statements"] = r["statements"]
        last[f"{label}_pdf_s"] = r["pdf_rate"]
        last[f"{label}_stats_ms"] = r["stats_ms"]
    print(pairs(last))


if __name__ == "__main__":
    main()
