"""core.refcache: reference rows cached per process, cleared by edits made here."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from digitalcity.core.models import Division
from digitalcity.core.refcache import ReferenceCache, clear_all

pytestmark = pytest.mark.django_db


def _counting_cache(ttl: float = 30.0) -> tuple[ReferenceCache[Any], list[Any]]:
    calls: list[Any] = []

    def load(code: Any) -> str | None:
        calls.append(code)
        found = Division.objects.filter(code=code).first()
        return found.name if found else None

    return ReferenceCache("test.divisions", load, ttl=ttl).invalidate_on(Division), calls


def test_it_reads_a_key_once_within_the_ttl() -> None:
    Division.objects.create(code="149901", name="甲县", level="county")
    cache, calls = _counting_cache()
    assert cache.get("149901") == "甲县"
    assert cache.get("149901") == "甲县"
    assert calls == ["149901"]


def test_a_missing_row_is_an_answer_too() -> None:
    cache, calls = _counting_cache()
    assert cache.get("nobody") is None
    assert cache.get("nobody") is None
    assert calls == ["nobody"]


def test_an_expired_entry_is_read_again() -> None:
    Division.objects.create(code="149902", name="乙县", level="county")
    cache, calls = _counting_cache(ttl=0)
    cache.get("149902")
    # An edit that sends no signal (as another process's edit): seen once expired.
    Division.objects.filter(code="149902").update(name="乙县（新）")
    assert cache.get("149902") == "乙县（新）"
    assert calls == ["149902", "149902"]


def test_an_edit_in_this_process_clears_it_at_once() -> None:
    division = Division.objects.create(code="149903", name="丙县", level="county")
    cache, _calls = _counting_cache()
    assert cache.get("149903") == "丙县"
    division.name = "丙县（改）"
    division.save()
    assert cache.get("149903") == "丙县（改）"


def test_a_rolled_back_edit_leaves_the_committed_row() -> None:
    division = Division.objects.create(code="149904", name="丁县", level="county")
    cache, _calls = _counting_cache()
    assert cache.get("149904") == "丁县"

    def edit_then_fail() -> None:
        with transaction.atomic():
            division.name = "未生效"
            division.save()
            raise RuntimeError("回滚")

    with pytest.raises(RuntimeError):
        edit_then_fail()
    # The edit cleared the cache; nothing read it before the rollback, so the next read
    # is the committed row (a read inside the rolled-back transaction would keep its
    # value for the TTL: ADR 0019).
    assert cache.get("149904") == "丁县"


def test_clear_all_empties_every_cache() -> None:
    Division.objects.create(code="149905", name="戊县", level="county")
    cache, calls = _counting_cache()
    cache.get("149905")
    clear_all()
    cache.get("149905")
    assert calls == ["149905", "149905"]
