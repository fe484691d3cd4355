"""统一社会信用代码 (GB 32100-2015) and 公民身份号码 (GB 11643-1999) validation."""

from __future__ import annotations

from datetime import date

import pytest

from trading.parties.identifiers import (
    InvalidIdentifier,
    mask_resident_id,
    resident_id_check_digit,
    resident_id_hash,
    uscc_check_char,
    validate_region_code,
    validate_resident_id,
    validate_uscc,
)

TODAY = date(2026, 11, 26)
# A sample code printed in many official explanations of GB 32100; it is valid.
PUBLISHED_USCC = "91350100M000100Y43"
# The example of GB 11643-1999 itself.
STANDARD_ID = "11010519491231002X"


def test_published_uscc_is_valid() -> None:
    assert validate_uscc(PUBLISHED_USCC) == PUBLISHED_USCC


def test_uscc_is_trimmed_and_upper_cased() -> None:
    assert validate_uscc(f"  {PUBLISHED_USCC.lower()} ") == PUBLISHED_USCC


def test_check_char_generates_valid_codes() -> None:
    first17 = "91320812MA1X00039"
    code = first17 + uscc_check_char(first17)
    assert validate_uscc(code) == code


def test_check_char_31_is_written_as_zero() -> None:
    # Search a body whose weighted sum is ≡ 0 (mod 31): its check character is '0', not '31'.
    for n in range(10_000):
        first17 = f"9132080000000{n:04d}"
        if uscc_check_char(first17) == "0":
            assert validate_uscc(first17 + "0")
            return
    pytest.fail("no code with check character 0 found")


def test_uscc_wrong_check_char_says_expected_and_given() -> None:
    wrong = PUBLISHED_USCC[:-1] + ("4" if PUBLISHED_USCC[-1] != "4" else "5")
    with pytest.raises(InvalidIdentifier) as caught:
        validate_uscc(wrong)
    assert caught.value.rule == "check_char"
    assert "'3'" in caught.value.message
    assert repr(wrong[-1]) in caught.value.message


@pytest.mark.parametrize("code", [PUBLISHED_USCC[:-1], PUBLISHED_USCC + "0", ""])
def test_uscc_wrong_length(code: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_uscc(code)
    assert caught.value.rule == "length"


@pytest.mark.parametrize(("char", "position"), [("I", 9), ("O", 10), ("Z", 11), ("S", 12), ("V", 13), ("-", 14)])
def test_uscc_illegal_characters_name_the_character_and_position(char: str, position: int) -> None:
    code = PUBLISHED_USCC[: position - 1] + char + PUBLISHED_USCC[position:]
    with pytest.raises(InvalidIdentifier) as caught:
        validate_uscc(code)
    assert caught.value.rule == "charset"
    assert repr(char) in caught.value.message
    assert f"position {position}" in caught.value.message


@pytest.mark.parametrize("region", ["ABCDEF", "990100", "00ABCD"])
def test_uscc_region_must_be_a_division_code(region: str) -> None:
    first17 = "91" + region + "M000100Y4"
    with pytest.raises(InvalidIdentifier) as caught:
        validate_uscc(first17 + uscc_check_char(first17))
    assert caught.value.rule == "region"


def test_standard_id_number_is_valid_and_lowercase_x_is_normalised() -> None:
    assert validate_resident_id(STANDARD_ID, today=TODAY) == STANDARD_ID
    assert validate_resident_id(STANDARD_ID.lower(), today=TODAY) == STANDARD_ID


def test_id_check_digit() -> None:
    assert resident_id_check_digit(STANDARD_ID[:17]) == "X"
    with pytest.raises(InvalidIdentifier) as caught:
        validate_resident_id(STANDARD_ID[:17] + "1", today=TODAY)
    assert caught.value.rule == "check_digit"
    assert "'X'" in caught.value.message


@pytest.mark.parametrize("number", ["110105194912310", STANDARD_ID + "1", "1101051949123100"])
def test_id_wrong_length(number: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_resident_id(number, today=TODAY)
    assert caught.value.rule == "length"


@pytest.mark.parametrize(("number", "position"), [("1101051949123100XX", 17), ("A1010519491231002X", 1)])
def test_id_illegal_characters(number: str, position: int) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_resident_id(number, today=TODAY)
    assert caught.value.rule == "charset"
    assert f"position {position}" in caught.value.message


def _with_birth(birth: str) -> str:
    first17 = "110105" + birth + "002"
    return first17 + resident_id_check_digit(first17)


@pytest.mark.parametrize("birth", ["19490231", "20231301", "20230000", "18991231"])
def test_id_impossible_birth_date(birth: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_resident_id(_with_birth(birth), today=TODAY)
    assert caught.value.rule == "birth_date"


def test_id_birth_date_in_the_future() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_resident_id(_with_birth("20261127"), today=TODAY)
    assert caught.value.rule == "birth_date"
    assert validate_resident_id(_with_birth("20261126"), today=TODAY)


def test_leap_day_birth_is_a_real_date() -> None:
    assert validate_resident_id(_with_birth("20000229"), today=TODAY)


def test_mask_and_keyed_hash() -> None:
    assert mask_resident_id(STANDARD_ID) == "110105********002X"
    first = resident_id_hash(STANDARD_ID, b"key-one")
    assert first == resident_id_hash(STANDARD_ID, b"key-one")
    assert first != resident_id_hash(STANDARD_ID, b"key-two")
    assert STANDARD_ID not in first
    assert len(first) == 64


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("32080", "format"),
        ("3208121", "format"),
        ("32O812", "format"),
        ("３２０８１２", "format"),
        ("990000", "region"),
    ],
)
def test_region_codes_are_six_digits_under_a_province(value: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        validate_region_code(value)
    assert refused.value.rule == rule


def test_region_codes_pass_trimmed() -> None:
    assert validate_region_code(" 320812 ") == "320812"
    assert validate_region_code("100000") == "100000"
