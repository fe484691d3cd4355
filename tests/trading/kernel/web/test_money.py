"""Amounts with separators, in Chinese capitals (大写) and with the currency in the reader's words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trading.kernel.web import i18n
from trading.kernel.web.money import amount, amount_in_words, currency


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1234567.89", "1,234,567.89"),
        (Decimal(1180000), "1,180,000.00"),
        (1234.5, "1,234.50"),
        ("0", "0.00"),
        ("-2500.005", "-2,500.01"),
        ("999.995", "1,000.00"),
        (None, "—"),
        ("", "—"),
        ("n/a", "n/a"),
        ("NaN", "NaN"),
        ("1e30", "1,000,000,000,000,000,000,000,000,000,000.00"),
    ],
)
def test_amount_has_thousands_separators_and_never_raises(value: object, expected: str) -> None:
    assert amount(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # The examples banks print on cheques and the rules they show: 整 after whole yuan,
        # one 零 for skipped places, 角 without 分.
        ("1234567.89", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
        ("0", "零元整"),
        ("0.00", "零元整"),
        ("100", "壹佰元整"),
        ("10", "壹拾元整"),
        ("100.05", "壹佰元零伍分"),
        ("1001.10", "壹仟零壹元壹角"),
        ("105000.00", "壹拾万伍仟元整"),
        ("10000001", "壹仟万零壹元整"),
        ("100000000.01", "壹亿元零壹分"),
        ("0.09", "玖分"),
        ("1,180,000.00", "壹佰壹拾捌万元整"),
        ("2.345", "贰元叁角伍分"),  # rounded half up to the fen, not cut off
        ("-5", "负伍元整"),
        (None, ""),
        ("about a million", ""),
        ("1e30", ""),
    ],
)
def test_amount_in_words(value: object, expected: str) -> None:
    assert amount_in_words(value) == expected


def test_currency_is_yuan_in_chinese_and_cny_in_english() -> None:
    with i18n.use_locale("zh_CN"):
        assert currency("CNY") == "元"
        assert currency("USD") == "USD"
        assert currency(None) == ""
    with i18n.use_locale("en"):
        assert currency("CNY") == "CNY"
