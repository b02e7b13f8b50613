"""12345 SMS: time from an inbound message to the acknowledgement handed to the gateway.

GB/T 33358 asks a hotline to answer an SMS within 3 minutes. This posts N signed inbound
messages to a running server's webhook (`/api/hotline/sms/inbound`, the real protocol)
while a real `digitalcity worker` sends the replies through core.notifications, then reads
each message's `received_at` and its reply's `sent_at` from the database and prints the
latency figures (the same ones the figures page shows).

    DC_VAR_DIR=/tmp/demo digitalcity runserver 127.0.0.1:8765 --insecure &
    DC_VAR_DIR=/tmp/demo .venv/bin/python bench/hotline_sms.py --url http://127.0.0.1:8765 -n 30

Runs against the database the settings point at (the server's), so run it only on a
demo or test installation: it creates N orders.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("--interval", type=float, default=1.0, help="worker idle interval")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digitalcity.settings")
    import django

    django.setup()
    from django.conf import settings

    from digitalcity.hotline.management.commands.hotline_simulate import post_signed
    from digitalcity.hotline.models import SmsMessage

    settings.DC_HOTLINE_FLOOD_LIMIT = 0  # this run is the flood; the server has its own limit
    worker = subprocess.Popen(  # noqa: S603 - our own CLI
        [str(ROOT / ".venv/bin/digitalcity"), "worker", "--interval", str(args.interval)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ids: list[str] = []
    http: list[float] = []
    try:
        run = secrets.token_hex(3)
        for i in range(args.n):
            gateway_id = f"bench-{run}-{i}"
            started = time.perf_counter()
            post_signed(
                f"{args.url.rstrip('/')}/api/hotline/sms/inbound",
                "sms",
                {"id": gateway_id, "from": f"139{i:08d}", "body": f"压测短信诉求 {i}：路灯不亮"},
            )
            http.append(time.perf_counter() - started)
            ids.append(gateway_id)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            pending = SmsMessage.objects.filter(gateway_id__in=ids, reply__sent_at__isnull=True)
            if not pending.exists():
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(10)
    latencies = [
        (m.reply.sent_at - m.received_at).total_seconds()
        for m in SmsMessage.objects.filter(gateway_id__in=ids).select_related("reply")
        if m.reply is not None and m.reply.sent_at is not None
    ]
    if not latencies:
        sys.exit("no reply was sent (is the worker configured with an SMS backend?)")
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(f"messages: {len(ids)}, replies sent: {len(latencies)}")
    median_ms, max_ms = statistics.median(http) * 1000, max(http) * 1000
    print(f"webhook answer: median {median_ms:.0f} ms, max {max_ms:.0f} ms")
    within = sum(v <= 180 for v in latencies)
    print(
        f"SMS reply latency: median {statistics.median(latencies):.2f} s, p95 {p95:.2f} s, "
        f"max {max(latencies):.2f} s; within 180 s: {within}/{len(latencies)}"
    )
    print(f"ratio to the 180 s rule (max / 180 s): {max(latencies) / 180:.3f}")


if __name__ == "__main__":
    main()
