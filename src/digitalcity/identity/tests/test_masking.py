from __future__ import annotations

import pytest
from django.template import Context, Template

from digitalcity.identity.masking import (
    mask_address,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_uscc,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("110101199003074477", "110101********4477"),
        ("11010119900307447X", "110101********447X"),
        ("110101900307123", "110101*****7123"),
        ("", ""),
        (None, ""),
        ("12345678", "******78"),
    ],
)
def test_it_masks_id_numbers_keeping_division_and_last_four(
    value: str | None, expected: str
) -> None:
    assert mask_id_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("13812345678", "138****5678"), ("", ""), ("12345", "****5")],
)
def test_it_masks_phones_keeping_carrier_and_last_four(value: str, expected: str) -> None:
    assert mask_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三", "张*"),
        ("李小明", "李**"),
        ("欧阳娜娜", "欧阳**"),
        ("司马相如", "司马**"),
        ("王", "*"),
        ("", ""),
    ],
)
def test_it_masks_names_by_length(value: str, expected: str) -> None:
    assert mask_name(value) == expected


def test_it_masks_uscc_keeping_authority_type_and_division() -> None:
    assert mask_uscc("91350100M000100Y43") == "91350100********43"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("示范市东城区建设路12号3单元501", "示范市东城区****"),
        ("福建省福州市鼓楼区五四路100号", "福建省福州市鼓楼区****"),
        ("东城区和平街道幸福小区5号楼", "东城区和平街道****"),
        ("幸福小区5号楼", "幸福小****"),
    ],
)
def test_it_masks_addresses_after_the_administrative_part(value: str, expected: str) -> None:
    assert mask_address(value) == expected


def test_the_template_filters_mask() -> None:
    rendered = Template(
        "{% load masking %}{{ n|mask_id }} {{ p|mask_phone }} {{ m|mask_name }}"
    ).render(Context({"n": "110101199003074477", "p": "13812345678", "m": "张三"}))
    assert rendered == "110101********4477 138****5678 张*"
