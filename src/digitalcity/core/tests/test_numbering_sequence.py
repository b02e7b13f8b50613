"""Numbers that need not be gap-free (`gap_free=False`): a PostgreSQL sequence per prefix and year.

On SQLite the same call uses the counter row, so the SQLite tests here check that nothing
changed there; the tests of the sequence itself need PostgreSQL and are skipped on SQLite.
"""

from __future__ import annotations

import threading
import time
from contextlib import suppress

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from digitalcity.core.models import NumberSequence
from digitalcity.core.numbering import next_number, sequence_name
from digitalcity.core.tests.test_audit import ThreadedDatabase

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL sequences: run with DATABASE_URL=postgres://… (SQLite uses the counter row)",
)
only_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="checks the SQLite path (the counter row)"
)


def _sequences() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE 'dc_num_%%'"
        )
        return {name for (name,) in cursor.fetchall()}


def _drop_sequences() -> None:
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        for name in _sequences():
            cursor.execute(f"DROP SEQUENCE IF EXISTS {q(name)}")


@pytest.fixture
def threads_database(transactional_db, tmp_path):
    """Threads on their own connections; on PostgreSQL the sequences they commit are
    dropped afterwards (a flush empties tables, not sequences)."""
    threads = ThreadedDatabase(tmp_path)
    if connection.vendor == "postgresql":
        _drop_sequences()
    yield threads
    if connection.vendor == "postgresql":
        _drop_sequences()


def _wait_for_a_lock_waiter(timeout: float = 10) -> bool:
    """True once another backend waits for a lock (polled: no race on a sleep)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # pg_locks is read live (pg_stat_activity would be frozen for the transaction).
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            (waiting,) = cursor.fetchone()
            if waiting:
                return True
            cursor.execute("SELECT pg_sleep(0.02)")
    return False


def _serial(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def test_threads_get_distinct_numbers_including_the_first_use(threads_database):
    """8 threads × 50 numbers, all starting at once on a prefix never used this year, so
    on PostgreSQL they race to create the sequence; on SQLite they share the row."""
    threads_n, per_thread = 8, 50
    issued: list[str] = []
    lock = threading.Lock()

    def take(_worker: int) -> None:
        for _ in range(per_thread):
            with transaction.atomic():
                number = next_number("GD", year=2026, gap_free=False)
            with lock:
                issued.append(number)

    threads_database.run(take, threads=threads_n)

    total = threads_n * per_thread
    assert len(issued) == total
    assert all(n.startswith("GD-2026-") and len(n) == len("GD-2026-000001") for n in issued)
    # Nothing rolled back, so even the sequence hands out exactly 1 … total.
    assert sorted(_serial(n) for n in issued) == list(range(1, total + 1))
    rows = threads_database.read(lambda: list(NumberSequence.objects.values_list("last_value")))
    if connection.vendor == "postgresql":
        assert rows == [(0,)]  # the row only recorded where the sequence started
        assert threads_database.read(_sequences) == {"dc_num_gd_2026"}
    else:
        assert rows == [(total,)]


@needs_postgresql
def test_a_prefix_switched_mid_year_continues_after_the_rows_last_value(db):
    assert next_number("GD", year=2026) == "GD-2026-000001"
    assert next_number("GD", year=2026) == "GD-2026-000002"
    assert next_number("GD", year=2026) == "GD-2026-000003"

    assert next_number("GD", year=2026, gap_free=False) == "GD-2026-000004"
    assert next_number("GD", year=2026, gap_free=False) == "GD-2026-000005"
    # The row stays where it was; another year or prefix starts at 1.
    assert NumberSequence.objects.get(prefix="GD", year=2026).last_value == 3
    assert next_number("GD", year=2027, gap_free=False) == "GD-2027-000001"
    assert next_number("ZX", year=2026, gap_free=False) == "ZX-2026-000001"
    assert _sequences() == {"dc_num_gd_2026", "dc_num_gd_2027", "dc_num_zx_2026"}


@needs_postgresql
def test_the_sequence_waits_for_a_row_number_still_being_committed(threads_database):
    """A gap-free number taken from the row but not yet committed when the sequence is
    created: the creation waits for it, so the sequence starts after it."""
    row_taken, sequence_asked = threading.Event(), threading.Event()
    issued: dict[str, str] = {}

    def run(worker: int) -> None:
        if worker == 0:
            with transaction.atomic():
                issued["row"] = next_number("GD", year=2026)
                row_taken.set()
                # Hold the row until the other thread waits for it inside next_number.
                assert sequence_asked.wait(timeout=10)
                assert _wait_for_a_lock_waiter()
        else:
            assert row_taken.wait(timeout=10)
            sequence_asked.set()
            with transaction.atomic():
                issued["sequence"] = next_number("GD", year=2026, gap_free=False)

    threads_database.run(run, threads=2)
    assert issued == {"row": "GD-2026-000001", "sequence": "GD-2026-000002"}


@needs_postgresql
def test_a_sequence_number_holds_no_lock_until_commit(threads_database):
    """While one transaction holds a sequence number, another takes and commits one; the
    same with the gap-free row would have to wait for the first transaction's end."""
    next_number("GD", year=2026, gap_free=False)  # the sequence exists (committed)

    def race(gap_free: bool) -> tuple[bool, list[str]]:
        first_has, second_done = threading.Event(), threading.Event()
        seen: list[bool] = []
        numbers: list[str] = []

        def run(worker: int) -> None:
            if worker == 0:
                with transaction.atomic():
                    numbers.append(next_number("GD", year=2026, gap_free=gap_free))
                    first_has.set()
                    seen.append(second_done.wait(timeout=2 if gap_free else 20))
            else:
                assert first_has.wait(timeout=20)
                with transaction.atomic():
                    numbers.append(next_number("GD", year=2026, gap_free=gap_free))
                second_done.set()

        threads_database.run(run, threads=2)
        return seen[0], numbers

    finished_meanwhile, numbers = race(gap_free=False)
    assert finished_meanwhile  # the second creation did not wait for the first's COMMIT
    assert numbers == ["GD-2026-000002", "GD-2026-000003"]
    finished_meanwhile, numbers = race(gap_free=True)
    assert not finished_meanwhile  # the row lock made it wait
    assert numbers == ["GD-2026-000001", "GD-2026-000002"]


@needs_postgresql
def test_a_rolled_back_sequence_number_is_skipped_not_reissued(db):
    assert next_number("GD", year=2026, gap_free=False) == "GD-2026-000001"
    with suppress(RuntimeError), transaction.atomic():
        assert next_number("GD", year=2026, gap_free=False) == "GD-2026-000002"
        raise RuntimeError  # the creation fails after taking a number
    assert next_number("GD", year=2026, gap_free=False) == "GD-2026-000003"


@needs_postgresql
def test_a_rolled_back_first_use_leaves_no_sequence(db):
    with suppress(RuntimeError), transaction.atomic():
        assert next_number("GD", year=2026, gap_free=False) == "GD-2026-000001"
        raise RuntimeError
    assert _sequences() == set()  # the CREATE went with the transaction; nothing was issued
    assert next_number("GD", year=2026, gap_free=False) == "GD-2026-000001"


@needs_postgresql
def test_the_sequence_number_keeps_the_width_rules(db):
    assert next_number("XF", year=2026, width=4, gap_free=False) == "XF-2026-0001"
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('dc_num_xf_2026', 9999)")
    assert next_number("XF", year=2026, width=4, gap_free=False) == "XF-2026-10000"


@only_sqlite
def test_on_sqlite_it_is_the_gap_free_row(db):
    assert next_number("GD", year=2026, gap_free=False) == "GD-2026-000001"
    with suppress(RuntimeError), transaction.atomic():
        assert next_number("GD", year=2026, gap_free=False) == "GD-2026-000002"
        raise RuntimeError
    assert next_number("GD", year=2026, gap_free=False) == "GD-2026-000002"
    assert NumberSequence.objects.get(prefix="GD", year=2026).last_value == 2


@pytest.mark.parametrize("prefix", ["gd", "G", "GDABCDE", "G1", "GD;DROP", "", "ＧＤ"])
def test_a_bad_prefix_is_refused_before_any_sequence(db, prefix):
    with pytest.raises(ValidationError) as exc:
        next_number(prefix, year=2026, gap_free=False)
    [message] = exc.value.message_dict["prefix"]
    assert "2 至 6 位大写英文字母" in message
    with pytest.raises(ValueError, match="no number sequence"):
        sequence_name(prefix, 2026)
    assert NumberSequence.objects.count() == 0
    if connection.vendor == "postgresql":
        assert _sequences() == set()


def test_the_sequence_name_is_derived_from_prefix_and_year():
    assert sequence_name("GD", 2026) == "dc_num_gd_2026"
    assert sequence_name("ZS", 1) == "dc_num_zs_1"
    with pytest.raises(ValueError, match="no number sequence"):
        sequence_name("GD", 10000)
