"""Case numbers: per prefix and year, gap-free, unique under concurrent requests."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from contextlib import suppress

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction

from digitalcity.core.models import NumberSequence
from digitalcity.core.numbering import next_number
from digitalcity.core.tests.test_audit import ThreadedDatabase

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def threads_database(transactional_db, tmp_path):
    return ThreadedDatabase(tmp_path)


def test_numbers_count_per_prefix_and_year(db):
    assert next_number("SP", year=2026) == "SP-2026-000001"
    assert next_number("SP", year=2026) == "SP-2026-000002"
    assert next_number("GD", year=2026) == "GD-2026-000001"
    assert next_number("SP", year=2025) == "SP-2025-000001"
    assert next_number("SP", year=2026) == "SP-2026-000003"


def test_the_width_pads_and_never_truncates(db):
    assert next_number("XF", year=2026, width=4) == "XF-2026-0001"
    NumberSequence.objects.filter(prefix="XF", year=2026).update(last_value=9999)
    assert next_number("XF", year=2026, width=4) == "XF-2026-10000"


def test_a_new_local_year_starts_again_at_one(db, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    with time_machine.travel(dt.datetime(2026, 12, 31, 23, 59, tzinfo=SHANGHAI), tick=False):
        assert next_number("SP") == "SP-2026-000001"
        assert next_number("SP") == "SP-2026-000002"
    # 00:30 in Shanghai is still 2026 in UTC: the local date decides.
    with time_machine.travel(dt.datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI), tick=False):
        assert next_number("SP") == "SP-2027-000001"


def test_a_rolled_back_transaction_gives_its_number_back(db):
    assert next_number("SP", year=2026) == "SP-2026-000001"
    with suppress(RuntimeError), transaction.atomic():
        assert next_number("SP", year=2026) == "SP-2026-000002"
        raise RuntimeError  # the case creation fails after taking a number
    assert next_number("SP", year=2026) == "SP-2026-000002"


@pytest.mark.parametrize("prefix", ["sp", "S", "SPABCDE", "S1", "SP-", "", "ＳＰ"])
def test_it_rejects_a_prefix_that_is_not_two_to_six_latin_capitals(db, prefix):
    with pytest.raises(ValidationError) as exc:
        next_number(prefix, year=2026)
    [message] = exc.value.message_dict["prefix"]
    assert "2 至 6 位大写英文字母" in message
    assert NumberSequence.objects.count() == 0


def test_concurrent_requests_get_distinct_gap_free_numbers(threads_database):
    threads_n, per_thread = 8, 25
    issued: list[str] = []
    lock = threading.Lock()

    def take(_worker: int) -> None:
        for _ in range(per_thread):
            with transaction.atomic():
                number = next_number("SP", year=2026)
            with lock:
                issued.append(number)

    threads_database.run(take, threads=threads_n)

    total = threads_n * per_thread
    assert len(set(issued)) == total
    assert sorted(int(n.rsplit("-", 1)[1]) for n in issued) == list(range(1, total + 1))
    last = threads_database.read(
        lambda: NumberSequence.objects.get(prefix="SP", year=2026).last_value
    )
    assert last == total


def test_concurrent_rollbacks_leave_no_gap(threads_database):
    threads_n, per_thread = 8, 10
    committed: list[int] = []
    lock = threading.Lock()

    def take(worker: int) -> None:
        for i in range(per_thread):
            try:
                with transaction.atomic():
                    number = next_number("GD", year=2026)
                    if (worker + i) % 3 == 0:
                        raise RuntimeError  # this request fails after numbering
            except RuntimeError:
                continue
            with lock:
                committed.append(int(number.rsplit("-", 1)[1]))

    threads_database.run(take, threads=threads_n)

    assert sorted(committed) == list(range(1, len(committed) + 1))
