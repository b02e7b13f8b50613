from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ..imports import import_file
from ..models import ImportBatch
from .factories import City, make_city


@pytest.fixture
def city(db: None) -> City:
    return make_city()


@pytest.fixture
def load(city: City, tmp_path: Path) -> Callable[..., ImportBatch]:
    """load("police", b"...csv bytes...", name="x.csv", data_date=...) -> the batch."""
    counter = iter(range(1, 10_000))

    def run(
        source: str, content: bytes, *, name: str = "data.csv", **kwargs: object
    ) -> ImportBatch:
        path = tmp_path / f"{next(counter)}-{name}"
        path.write_bytes(content)
        return import_file(source=city.sources[source], path=path, **kwargs)  # type: ignore[arg-type]

    return run
