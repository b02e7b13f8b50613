"""National identifiers: vectors from STANDARDS.md §1.4 and §2.4, published USCCs, and
property tests against python-stdnum as an independent implementation."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from digitalcity.core.divisions import stdnum_division_periods
from digitalcity.core.ids import (
    Sex,
    citizen_id_check_char,
    citizen_id_division_warning,
    clean_division_code,
    org_code_check_char,
    parse_citizen_id,
    parse_org_code,
    parse_uscc,
    uscc_check_char,
    validate_citizen_id,
    validate_division_code,
    validate_org_code,
    validate_uscc,
)
from digitalcity.core.models import Division, DivisionLevel

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _verdicts_agree(
    parse: Callable[[str], object], reference: Callable[[str], bool], numbers: list[str]
) -> None:
    """Our accept/reject verdict equals the reference's on every number, and the sample
    holds both valid and invalid numbers (else the comparison proves nothing)."""
    verdicts = set()
    for number in numbers:
        try:
            parse(number)
            ours = True
        except ValidationError:
            ours = False
        assert ours == reference(number), number
        verdicts.add(ours)
    assert verdicts == {True, False}


def _error(func: object, text: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(text)  # type: ignore[operator]
    return info.value


# --- GB 11643-1999 citizen ID --------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "sex", "birth"),
    [
        ("11010519491231002X", Sex.FEMALE, datetime.date(1949, 12, 31)),
        ("440524188001010014", Sex.MALE, datetime.date(1880, 1, 1)),
        ("360426199101010071", Sex.MALE, datetime.date(1991, 1, 1)),
        ("44011320141005001X", Sex.MALE, datetime.date(2014, 10, 5)),
        ("110101199003074477", Sex.MALE, datetime.date(1990, 3, 7)),
        ("412723199010050012", Sex.MALE, datetime.date(1990, 10, 5)),
    ],
)
def test_it_accepts_the_standards_valid_citizen_ids(
    number: str, sex: Sex, birth: datetime.date
) -> None:
    parsed = parse_citizen_id(number)
    assert parsed.number == number
    assert parsed.division_code == number[:6]
    assert parsed.birth_date == birth
    assert parsed.sex == sex
    assert parsed.sex_label == ("男" if sex == Sex.MALE else "女")
    assert parsed.upgraded_from is None


@pytest.mark.parametrize(
    ("number", "code", "message"),
    [
        ("110105194912310021", "citizen_id_checksum", "应为 X，实为 1"),
        ("11010219840506970X", "citizen_id_checksum", "应为 1，实为 X"),
        ("440524189001010014", "citizen_id_checksum", "应为 9，实为 4"),
        ("36042619910102009X", "citizen_id_checksum", "应为 3，实为 X"),
        ("360426199113010079", "citizen_id_birth_date", "19911301 不是有效日期"),
        ("T60426199101010078", "citizen_id_format", "前 17 位须为数字"),
        ("11010519491231002", "citizen_id_length", "实为 17 位"),
        ("110105190002290014", "citizen_id_birth_date", "19000229 不是有效日期"),
        ("11010519491231002Y", "citizen_id_format", "第 18 位须为数字或 X"),
        ("11010549123100A", "citizen_id_format", "15 位公民身份号码须全部为数字"),
    ],
)
def test_it_rejects_invalid_citizen_ids_naming_the_rule(
    number: str, code: str, message: str
) -> None:
    error = _error(parse_citizen_id, number)
    assert error.code == code
    assert message in error.messages[0]


def test_the_checksum_message_cites_the_standard_with_expected_and_actual() -> None:
    error = _error(parse_citizen_id, "110105194912310021")
    assert error.messages == ["公民身份号码校验码错误：按 GB 11643-1999 应为 X，实为 1"]


def test_it_rejects_a_birth_date_in_the_future() -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    body = f"110105{tomorrow:%Y%m%d}002"
    error = _error(parse_citizen_id, body + citizen_id_check_char(body))
    assert error.code == "citizen_id_future_birth_date"
    assert "晚于今天" in error.messages[0]


def test_it_accepts_a_leap_day_in_a_leap_year() -> None:
    body = "11010520000229002"
    assert parse_citizen_id(body + citizen_id_check_char(body)).birth_date == datetime.date(
        2000, 2, 29
    )


@pytest.mark.parametrize(
    "text",
    [
        "11010519491231002x",
        "  11010519491231002X\n",
        "１１０１０５１９４９１２３１００２Ｘ",
        "11010519491231002ｘ",
    ],
)
def test_it_normalises_case_whitespace_and_full_width_characters(text: str) -> None:
    assert parse_citizen_id(text).number == "11010519491231002X"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("110105491231002", "11010519491231002X"),
        ("440524800101001", "440524198001010013"),
        ("130503670401001", "130503196704010016"),
    ],
)
def test_it_upgrades_15_digit_numbers_with_century_19(old: str, new: str) -> None:
    parsed = parse_citizen_id(old)
    assert parsed.number == new
    assert parsed.upgraded_from == old


def test_the_1800s_rule_for_sequence_996_to_999_is_opt_in() -> None:
    assert parse_citizen_id("110105800101997").birth_date.year == 1980
    parsed = parse_citizen_id("110105800101997", allow_1800s_sequence=True)
    assert parsed.birth_date == datetime.date(1880, 1, 1)
    assert parsed.number == "11010518800101997" + citizen_id_check_char("11010518800101997")
    # Ordinary sequence codes keep century 19 even with the rule on.
    assert parse_citizen_id("110105800101995", allow_1800s_sequence=True).birth_date.year == 1980


def test_an_unknown_address_code_is_a_warning_not_a_rejection() -> None:
    parsed = parse_citizen_id("990426199112010074")
    assert parsed.division_code == "990426"
    warning = citizen_id_division_warning("990426199112010074")
    assert warning == "地址码 990426 不在 GB/T 2260 历史行政区划代码表中"


@pytest.mark.parametrize(
    "number", ["11010519491231002X", "440524188001010014", "360426199101010071"]
)
def test_codes_in_force_at_or_after_birth_give_no_warning(number: str) -> None:
    # 440524 潮阳县 was listed 1983–1993: the standard's 1880 example still passes,
    # because the card was issued after birth (stdnum itself rejects it).
    assert citizen_id_division_warning(number) is None


def test_a_code_abolished_before_birth_draws_a_warning() -> None:
    body = "11010320120101002"  # 崇文区, abolished 2010
    warning = citizen_id_division_warning(body + citizen_id_check_char(body))
    assert warning is not None
    assert "110103（崇文区）已于 2010 年撤销" in warning


def test_the_citizen_id_check_char_refuses_a_malformed_body() -> None:
    with pytest.raises(ValueError, match="17 ASCII digits"):
        citizen_id_check_char("1101051949123100")
    with pytest.raises(ValueError, match="17 ASCII digits"):
        citizen_id_check_char("1101051949123100A")


def test_our_citizen_id_check_char_agrees_with_stdnum_on_random_bodies() -> None:
    rng = random.Random(11643)
    for _ in range(2000):
        body = "".join(rng.choice("0123456789") for _ in range(17))
        assert citizen_id_check_char(body) == stdnum_ric.calc_check_digit(body + "0")


def test_our_citizen_id_verdict_agrees_with_stdnum_on_random_numbers() -> None:
    # stdnum also checks the address code for the birth year, so draw codes that have
    # been in force throughout (no period in loc.dat) and compare checksum/date verdicts.
    always = sorted(
        code
        for code, periods in stdnum_division_periods().items()
        if len(periods) == 1 and periods[0].valid_from is None and periods[0].valid_until is None
    )
    rng = random.Random(1999)
    numbers = []
    for _ in range(2000):
        code = rng.choice(always)
        date = f"{rng.randint(1930, 2020)}{rng.randint(1, 13):02d}{rng.randint(1, 31):02d}"
        body = code + date + f"{rng.randint(0, 999):03d}"
        check = citizen_id_check_char(body) if rng.random() < 0.5 else rng.choice("0123456789X")
        numbers.append(body + check)
    _verdicts_agree(parse_citizen_id, stdnum_ric.is_valid, numbers)


# --- GB 11714 organisation code -------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["60003734-1", "MA1K3BTP-2", "55323005-X", "07837106-3", "12345678-8", "00000000-0"]
)
def test_it_accepts_the_standards_organisation_codes_with_or_without_hyphen(code: str) -> None:
    assert parse_org_code(code).display == code
    assert parse_org_code(code.replace("-", "")).display == code
    assert parse_org_code(code.lower()).code == code.replace("-", "")


def test_it_rejects_an_organisation_code_with_a_wrong_check() -> None:
    error = _error(parse_org_code, "60003734-2")
    assert error.code == "org_code_checksum"
    assert error.messages == ["组织机构代码校验码错误：按 GB 11714 应为 1，实为 2"]


@pytest.mark.parametrize("code", ["6000373-1", "60003734-A", "6000_734-1", "600037341X"])
def test_it_rejects_a_malformed_organisation_code(code: str) -> None:
    assert _error(parse_org_code, code).code == "org_code_format"


def test_the_org_code_check_char_counts_letters_with_the_full_alphabet() -> None:
    assert org_code_check_char("MA1K3BTP") == "2"
    assert org_code_check_char("55323005") == "X"
    assert org_code_check_char("00000000") == "0"
    with pytest.raises(ValueError, match="8 of 0-9A-Z"):
        org_code_check_char("ma1k3btp")


# --- GB 32100-2015 USCC ---------------------------------------------------------------

STANDARD_USCCS = [
    ("91110000600037341L", "60003734-1"),
    ("121200004013590816", "40135908-1"),
    ("91310115MA1K3BTP2B", "MA1K3BTP-2"),
    ("91440300568520498A", "56852049-8"),
    ("92340602MA2PBMEM24", "MA2PBMEM-2"),
    ("911522010783710635", "07837106-3"),
]

# A sample of the numbers "found online" in python-stdnum's tests/test_cn_uscc.doctest
# (arthurdejong/python-stdnum); the installed package does not ship its tests.
PUBLISHED_USCCS = [
    "91110000710926094P",
    "91120224064012553U",
    "91152201078371135X",
    "9115220107837757XE",
    "9115220107839138X8",
    "91310000631696382C",
    "91310000797046224D",
    "913101127033980359",
    "913101145852519045",
    "913101153325803473",
    "9131012056010553X5",
    "91320214745555318W",
    "913205056082348768",
    "913304007429141869",
    "91340600MA2PBM9HXD",
    "91340603MA2UJXXCXF",
    "913505007821784439",
    "91371082775260043P",
    "914112810713741814",
    "91420684MA4927PJ7B",
    "9144030071526726XG",
    "9144060573144633XL",
    "91442000696462712R",
    "91620100719023721L",
    "91620105224521729E",
    "91620105L015101280",
    "91620105MA73NBBLXE",
    "92340603MA2PBQ16XJ",
    "92340604MA2UK2B104",
    "92340621MA2UK3PJXE",
    "92340621MA2PBKRXXG",
    "92340603MA2UK1TD00",
]


@pytest.mark.parametrize(("code", "org_code"), STANDARD_USCCS)
def test_it_accepts_the_standards_valid_usccs(code: str, org_code: str) -> None:
    parsed = parse_uscc(code)
    assert parsed.code == code
    assert parsed.org_code == org_code
    assert parsed.division_code == code[2:8]
    assert parsed.check == code[17]
    assert parsed.warnings == []


def test_it_reads_authority_and_category_names() -> None:
    parsed = parse_uscc("92340602MA2PBMEM24")
    assert (parsed.registration_authority, parsed.registration_authority_name) == (
        "9",
        "工商（市场监管）",
    )
    assert (parsed.category, parsed.category_name) == ("2", "个体工商户")
    assert parse_uscc("121200004013590816").category_name == "事业单位"


@pytest.mark.parametrize("code", PUBLISHED_USCCS)
def test_it_accepts_published_usccs_and_so_does_stdnum(code: str) -> None:
    parsed = parse_uscc(code)
    assert parsed.warnings == []
    assert stdnum_uscc.is_valid(code)


@pytest.mark.parametrize(
    ("code", "error_code", "message"),
    [
        ("91110000600037341N", "uscc_checksum", "按 GB 32100-2015 应为 L，实为 N"),
        ("9111000060003IOZSV", "uscc_forbidden_letter", "不允许的字母 I、O、Z、S、V"),
        ("9111000060003734", "uscc_length", "须为 18 位，实为 16 位"),
        ("A1110000600037341L", "uscc_checksum", "应为 K，实为 L"),
        ("91A10000600037341L", "uscc_division_format", "第 3–8 位"),
        ("91110000600037341_", "uscc_format", "只能由数字和大写字母"),
    ],
)
def test_it_rejects_invalid_usccs_naming_the_rule(code: str, error_code: str, message: str) -> None:
    error = _error(parse_uscc, code)
    assert error.code == error_code
    assert message in error.messages[0]


def test_it_accepts_a_lower_case_uscc_after_normalising() -> None:
    assert parse_uscc(" 91110000600037341l ").code == "91110000600037341L"
    assert parse_uscc("９１１１００００６０００３７３４１Ｌ").code == "91110000600037341L"


def _uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


@pytest.mark.parametrize(
    ("prefix", "authority", "category"),
    [
        ("A1", "中央军委改革和编制办公室", "军队事业单位"),
        ("N2", "农业", "村级集体经济组织"),
        ("Y1", "其他", "其他"),
    ],
)
def test_it_accepts_letter_authorities_that_stdnum_rejects(
    prefix: str, authority: str, category: str
) -> None:
    code = _uscc(prefix + "110000" + "600037341")
    parsed = parse_uscc(code)
    assert (parsed.registration_authority_name, parsed.category_name) == (authority, category)
    assert parsed.warnings == []
    assert not stdnum_uscc.is_valid(code)


def test_an_unknown_authority_category_pair_is_a_warning_not_a_rejection() -> None:
    parsed = parse_uscc(_uscc("94110000600037341"))
    assert parsed.category_name is None
    assert parsed.category_warning == "登记管理部门代码 9 与机构类别代码 4 的组合不在已知代码表中"
    parsed = parse_uscc(_uscc("B1110000600037341"))
    assert parsed.registration_authority_name is None
    assert parsed.warnings == [parsed.category_warning]


def test_an_embedded_org_code_failing_its_own_check_is_a_warning_not_a_rejection() -> None:
    parsed = parse_uscc(_uscc("91110000600037342"))
    assert parsed.org_code == "60003734-2"
    assert parsed.org_code_warning == "内嵌的组织机构代码 60003734-2 未通过 GB 11714 校验：应为 1"
    assert parsed.category_warning is None


def test_a_body_summing_to_a_multiple_of_31_gets_check_zero() -> None:
    # The pitfall of STANDARDS.md §2.2: ALPHA[31 - S % 31] indexes past the end here.
    weights = [pow(3, i, 31) for i in range(17)]
    rng = random.Random(32100)
    found = 0
    while found < 20:
        body = "91" + "".join(rng.choice("0123456789") for _ in range(15))
        if sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, weights, strict=True)) % 31:
            continue
        found += 1
        assert uscc_check_char(body) == "0"
        assert stdnum_uscc.calc_check_digit(body) == "0"
        assert parse_uscc(body + "0").check == "0"


def test_the_uscc_check_char_refuses_a_malformed_body() -> None:
    with pytest.raises(ValueError, match="USCC body"):
        uscc_check_char("9111000060003734I")
    with pytest.raises(ValueError, match="USCC body"):
        uscc_check_char("9111000060003734")


def test_our_uscc_check_char_agrees_with_stdnum_on_random_bodies() -> None:
    rng = random.Random(2015)
    for _ in range(2000):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(
            rng.choice(USCC_ALPHABET) for _ in range(9)
        )
        assert uscc_check_char(body) == stdnum_uscc.calc_check_digit(body)


def test_our_uscc_verdict_agrees_with_stdnum_on_random_digit_only_codes() -> None:
    # stdnum demands digits in positions 1–8; within that space the verdicts must match.
    rng = random.Random(31)
    codes = []
    for _ in range(2000):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(
            rng.choice(USCC_ALPHABET) for _ in range(9)
        )
        check = uscc_check_char(body) if rng.random() < 0.5 else rng.choice(USCC_ALPHABET)
        codes.append(body + check)
    _verdicts_agree(parse_uscc, stdnum_uscc.is_valid, codes)


# --- field validators -----------------------------------------------------------------


def test_the_field_validators_raise_the_parsers_errors() -> None:
    validate_citizen_id("11010519491231002X")
    validate_uscc("91110000600037341L")
    validate_org_code("60003734-1")
    assert _error(validate_citizen_id, "110105194912310021").code == "citizen_id_checksum"
    assert _error(validate_uscc, "91110000600037341N").code == "uscc_checksum"
    assert _error(validate_org_code, "60003734-2").code == "org_code_checksum"


@pytest.mark.parametrize("code", ["11010", "1101050", "11010500101", "1101050010011", "11010a"])
def test_a_division_code_must_have_6_9_or_12_digits(code: str) -> None:
    error = _error(clean_division_code, code)
    assert error.code == "division_format"
    assert "须为 6 位（县级及以上）、9 位（乡级）或 12 位（村级）数字" in error.messages[0]


@pytest.mark.django_db
def test_validate_division_code_checks_the_division_table() -> None:
    Division.objects.create(code="110000", name="北京市", level=DivisionLevel.PROVINCE)
    validate_division_code("110000")
    validate_division_code(" １１００００ ")
    error = _error(validate_division_code, "120000")
    assert error.code == "division_unknown"
    assert error.messages == ["行政区划代码 120000 不存在：请先导入行政区划或检查代码"]
    assert _error(validate_division_code, "1100").code == "division_format"
