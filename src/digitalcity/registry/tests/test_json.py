"""registry.bulk.dumps: orjson writes the text the standard library's encoder wrote, so
row hashes stored before the switch still match (re-importing a file changes nothing)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from digitalcity.registry.bulk import dumps, loads

STDLIB = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))

VALUES: list[Any] = [
    {"name": "张伟", "id_number": "11010519491231002X", "birth_date": "1949-12-31"},
    {"b": "2", "a": "1", "B": "3", "中": "文", "_": ""},  # key order: code points
    {"address": '人民路 "1" 号\\东\t侧\n二楼\r', "ctl": "\x00\x01\x1f\x7f", "sep": "\u2028"},
    {"nested": {"z": [1, 2, {"y": None, "x": True}], "a": False}, "n": -(2**63)},
    ["顺序", "保留", 0, 1, [], {}],
    "",
    "emoji 😀 and 𠀀",
]


@pytest.mark.parametrize("value", VALUES)
def test_it_writes_what_the_standard_library_wrote(value: Any) -> None:
    assert dumps(value) == STDLIB.encode(value)
    assert loads(dumps(value)) == value


def test_what_orjson_refuses_falls_back_to_the_standard_library() -> None:
    for value in ({1: "int key"}, {"big": 2**70}, {"bad": "\ud800"}):
        assert dumps(value) == STDLIB.encode(value)
    assert loads(dumps({"big": 2**70})) == {"big": 2**70}
