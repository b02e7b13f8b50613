"""Short-lived per-process caches of reference rows read on hot paths.

Some rows are read by every request of a busy endpoint and change a few times a year:
the 12345 center's department, the deadline rules, the category tree. Reading them
once per request was a third of the statements of an Open311 POST (bench/
hotline_open311.py). A `ReferenceCache` keeps what its loader returned for `ttl`
seconds in this process only (ADR 0019):

- an edit made in this process clears the cache at once (`invalidate_on` connects
  post_save / post_delete of the models it is built from, after commit);
- an edit made in another process is seen there within `ttl` seconds at most — the
  same bound as the Open311 API-key cache. Nothing that must be exact (numbers,
  clocks, rights) is cached: only which rule or row applies, as of a few seconds ago;
- `clear_all()` empties every cache (the tests call it around each test: a test
  database's rows are rolled back, a cached row would outlive them).

A cache holds one loaded value per key (a dict from `loader(key)`), each with its own
expiry; a key the loader finds nothing for is cached as None like any other answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

__all__ = ["ReferenceCache", "clear_all"]

T = TypeVar("T")
_ALL: list[ReferenceCache[Any]] = []
MAX_KEYS = 10_000  # a cache of more keys than this starts again (codes typed by callers)


class ReferenceCache(Generic[T]):
    def __init__(self, name: str, loader: Callable[[Hashable], T], *, ttl: float = 30.0) -> None:
        self.name = name
        self.loader = loader
        self.ttl = ttl
        self._values: dict[Hashable, tuple[float, T]] = {}
        self._lock = threading.Lock()  # gthread workers: several threads per process
        _ALL.append(self)

    def get(self, key: Hashable = None) -> T:
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = self.loader(key)
        with self._lock:
            if len(self._values) >= MAX_KEYS:
                self._values.clear()
            self._values[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def invalidate_on(self, *senders: type[models.Model]) -> ReferenceCache[T]:
        """Clear this cache when a row of `senders` is saved or deleted in this process
        (once the transaction commits: a rolled-back edit leaves the cache as it was)."""

        def handler(**_kwargs: Any) -> None:
            self.clear()
            transaction.on_commit(self.clear)

        for sender in senders:
            post_save.connect(handler, sender=sender, weak=False)
            post_delete.connect(handler, sender=sender, weak=False)
        return self


def clear_all() -> None:
    for cache in _ALL:
        cache.clear()
