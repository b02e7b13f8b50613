"""Periodic jobs run by `digitalcity worker`.

Apps register their jobs in `AppConfig.ready()`:

    register_periodic("notifications.sweep", sweep_due, every_seconds=30)

Every worker process runs every job on its own schedule, so with several workers a job
runs several times per period: jobs must be idempotent and claim rows with a
conditional UPDATE (STYLE.md 7). Nothing is kept between runs but the last-run time,
so a restart only means the jobs run again at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger("digitalcity.worker")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: Callable[[], object]
    every_seconds: float


_registry: dict[str, PeriodicJob] = {}


def register_periodic(name: str, func: Callable[[], object], every_seconds: float) -> None:
    """Run `func()` about every `every_seconds` in each worker. Registering a name again
    replaces the earlier job (ready() may run more than once in tests)."""
    if every_seconds <= 0:
        raise ValueError(f"periodic job {name!r}: every_seconds must be positive")
    _registry[name] = PeriodicJob(name=name, func=func, every_seconds=every_seconds)


def unregister_periodic(name: str) -> None:
    _registry.pop(name, None)


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_registry.values(), key=lambda job: job.name)


class PeriodicScheduler:
    """Tracks when each job last ran in this process and runs the ones that are due."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_run: dict[str, float] = {}

    def run_due(self) -> list[str]:
        """Run every due job once (all of them on the first call); returns their names.

        A job that raises is logged and counted as run, so one broken job neither stops
        the worker nor runs in a tight loop.
        """
        ran: list[str] = []
        for job in periodic_jobs():
            last = self._last_run.get(job.name)
            now = self._clock()
            if last is not None and now - last < job.every_seconds:
                continue
            self._last_run[job.name] = now
            started = time.monotonic()
            try:
                result = job.func()
            except Exception:
                logger.exception("定时任务 %s 出错", job.name)
            else:
                logger.info(
                    "定时任务 %s 完成（%.2f 秒）：%s", job.name, time.monotonic() - started, result
                )
            ran.append(job.name)
        return ran

    def seconds_until_next(self) -> float:
        """How long until the earliest job is due (0 if one is due now)."""
        now = self._clock()
        waits = [
            self._last_run[job.name] + job.every_seconds - now
            for job in periodic_jobs()
            if job.name in self._last_run
        ]
        if len(waits) < len(periodic_jobs()):
            return 0.0
        return max(0.0, min(waits, default=float("inf")))
