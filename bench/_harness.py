"""What the case benchmarks share: databases, Django set-up, the schema, child processes.

Django's settings are process-wide, so a benchmark that compares SQLite with PostgreSQL
runs each database in a child process of itself (`run_child`) and compares the figures
the children print as their last line (JSON). Not a benchmark itself: `make bench` skips
files starting with an underscore.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/{name}"


def database_urls(which: str, *, pg_name: str) -> dict[str, str]:
    """Map of label → database URL for `which` in sqlite / pg / both / auto.

    SQLite is a fresh file in a temporary directory. PostgreSQL is BENCH_DATABASE_URL or
    the local server's `pg_name`; with "both" it is left out (with a note) when the
    server does not answer, so `make bench` still runs on a machine without PostgreSQL.
    "auto" is PostgreSQL when it answers, else SQLite.
    """
    urls: dict[str, str] = {}
    if which in ("pg", "both", "auto"):
        url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_PG.format(name=pg_name)
        problem = pg_problem(url)
        if problem is None:
            urls["pg"] = url
        elif which == "pg":
            raise SystemExit(f"PostgreSQL at {url}: {problem}")
        else:
            print(f"note: PostgreSQL left out ({problem})", flush=True)
    if which in ("sqlite", "both") or (which == "auto" and not urls):
        tmp = tempfile.mkdtemp(prefix="dc-bench-")
        urls = {"sqlite": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", **urls}
    return urls


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def pg_problem(url: str) -> str | None:
    """None if the PostgreSQL server of `url` answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(_admin_url(url), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def recreate_pg_database(url: str) -> None:
    """Drop and create the database of `url`: the benchmarks fill it with throw-away rows.

    Refuses a database whose name does not contain "bench", so a mistyped
    BENCH_DATABASE_URL cannot wipe a real one.
    """
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(
            f"refusing to recreate {name!r}: a benchmark database name contains 'bench'"
        )
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str) -> None:
    """Point Django at `url` (a fresh database) and set it up, with a throw-away var dir."""
    if url.startswith("postgres"):
        recreate_pg_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DC_VAR_DIR"] = tempfile.mkdtemp(prefix="dc-bench-var-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digitalcity.settings")
    # Cases opened in late autumn run into next year, which no calendar package covers
    # before the State Council's notice: the clocks are then computed and flagged as
    # estimates (the platform's documented behaviour), which costs the same.
    os.environ.setdefault("DC_CALENDAR_ALLOW_ESTIMATE", "1")
    sys.path.insert(0, str(ROOT / "src"))

    import django

    django.setup()


def build_schema() -> str:
    """Create the tables; returns how: "migrations" or "models".

    The migrations are used when they describe the current models. While the models are
    ahead of them (a branch before its migrations are regenerated) the tables are built
    from the models directly, as the test suite's --nomigrations does.
    """
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.state import ProjectState

    loader = MigrationLoader(None, ignore_no_migrations=True)
    changes = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(apps)).changes(
        graph=loader.graph
    )
    if not changes:
        call_command("migrate", verbosity=0)
        return "migrations"
    settings.MIGRATION_MODULES = {config.label: None for config in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0)
    return "models"


def run_child(script: str, url: str, args: list[str]) -> dict[str, Any]:
    """Run `script --child URL args…` and return the JSON of its last output line.

    The child's other lines (progress) are passed through as they come.
    """
    cmd = [sys.executable, script, "--child", url, *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert proc.stdout is not None  # noqa: S101
    last = ""
    for line in proc.stdout:
        if line.startswith("{"):
            last = line
        else:
            print(line, end="", flush=True)
    if proc.wait() != 0 or not last:
        raise SystemExit(f"{script} failed on {url} (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(last)
    return result


def emit(result: dict[str, Any]) -> None:
    """The child's result line for `run_child`."""
    print(json.dumps(result), flush=True)


def pairs(values: dict[str, float | int | str]) -> str:
    """The `name=value` last line a script prints for machines to read."""
    out = []
    for key, value in values.items():
        if isinstance(value, float):
            value = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
        out.append(f"{key}={value}")
    return " ".join(out)


def machine_note() -> str:
    """Cores and load, printed beside figures: other processes skew them."""
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
