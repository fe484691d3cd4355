"""National identifiers of parties: validation, check characters, and how ID numbers are kept.

Pure functions, no database. Each validator returns the normalised value or raises
:class:`InvalidIdentifier` naming the rule that broke, so the service can report the field and
the rule to the user.

* 统一社会信用代码 (unified social credit code, USCC) of organisations: GB 32100-2015.
* 公民身份号码 (citizen identity number, on the 居民身份证) of people: GB 11643-1999.

An ID number is sensitive personal information (GB/T 35273-2020 Annex B), so the platform never
stores it: :func:`resident_id_hash` gives a keyed hash for lookup and uniqueness and
:func:`mask_resident_id` the form shown back to people.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

# GB 32100-2015 §4: the 31 characters of the code: digits and capitals without I, O, Z, S, V
# (too easily read as 1, 0, 2, 5, U).
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {char: index for index, char in enumerate(USCC_CHARSET)}
# GB 32100-2015 §5, the weights W_i = 3^(i-1) mod 31 for positions 1..17.
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_LENGTH = 18

# GB/T 2260 province-level prefixes of the 6-digit administrative division code; "10" is the
# nation-wide code (100000) used by organisations registered with central authorities.
_PROVINCE_PREFIXES = frozenset(
    {
        "10",
        *("11", "12", "13", "14", "15"),
        *("21", "22", "23"),
        *("31", "32", "33", "34", "35", "36", "37"),
        *("41", "42", "43", "44", "45", "46"),
        *("50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65"),
        *("71", "81", "82"),
    }
)

# GB 11643-1999 §8.2 (ISO 7064 MOD 11-2): W_i = 2^(18-i) mod 11 for positions 1..17.
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"
RESIDENT_ID_LENGTH = 18
# Nobody alive was born before this; an earlier birth date is a typo, not a person.
_EARLIEST_BIRTH_YEAR = 1900


class InvalidIdentifier(ValueError):
    """An identifier broke ``rule`` (length, charset, region, check_char, birth_date, check_digit)."""

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule


# --- 统一社会信用代码 (GB 32100-2015) -------------------------------------------------------


def uscc_check_char(first17: str) -> str:
    """The check character (position 18) of a USCC whose first 17 characters are ``first17``.

    GB 32100-2015 §5: C18 = 31 − (Σ C_i × W_i mod 31), and a result of 31 is written as '0'.
    """
    if len(first17) != USCC_LENGTH - 1:
        raise InvalidIdentifier(f"the check character needs exactly 17 characters, got {len(first17)}", rule="length")
    total = 0
    for position, (char, weight) in enumerate(zip(first17, USCC_WEIGHTS, strict=True), start=1):
        value = _USCC_VALUE.get(char)
        if value is None:
            raise InvalidIdentifier(
                f"character {char!r} at position {position} is not allowed in a 统一社会信用代码",
                rule="charset",
            )
        total += value * weight
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Check a 统一社会信用代码 and return it normalised (trimmed, upper case).

    Rules, in the order they are checked (GB 32100-2015):

    * ``length``: exactly 18 characters;
    * ``charset``: every character from ``0-9 A-H J-N P-R T U W-Y`` (no I, O, Z, S, V);
    * ``region``: positions 3–8 are a 6-digit administrative division code (GB/T 2260) with a
      known province prefix;
    * ``check_char``: position 18 equals the weighted MOD 31 check character.

    Positions 1–2 (registration authority and organisation category) and 9–17 (the GB 11714
    organisation code) are not checked further: their code lists grow by notice.
    """
    code = value.strip().upper()
    if len(code) != USCC_LENGTH:
        raise InvalidIdentifier(f"a 统一社会信用代码 has 18 characters, this one has {len(code)}", rule="length")
    for position, char in enumerate(code, start=1):
        if char not in _USCC_VALUE:
            raise InvalidIdentifier(
                f"character {char!r} at position {position} is not allowed in a 统一社会信用代码 "
                "(digits and capitals except I, O, Z, S, V)",
                rule="charset",
            )
    region = code[2:8]
    if not region.isdigit() or region[:2] not in _PROVINCE_PREFIXES:
        raise InvalidIdentifier(f"positions 3–8 ({region}) are not an administrative division code", rule="region")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise InvalidIdentifier(f"the check character is {code[17]!r} but should be {expected!r}", rule="check_char")
    return code


def uscc_region(code: str) -> str:
    """The administrative division code (positions 3–8) of a valid USCC."""
    return code[2:8]


REGION_CODE_LENGTH = 6


def validate_region_code(value: str) -> str:
    """Check a GB/T 2260 administrative division code and return it trimmed.

    Rules: ``format`` (exactly 6 ASCII digits), ``region`` (a known province-level prefix, or the
    nation-wide 100000). Whether the county exists is not checked: the code list changes by notice.
    """
    code = value.strip()
    if len(code) != REGION_CODE_LENGTH or not code.isascii() or not code.isdigit():
        raise InvalidIdentifier(f"a region code (GB/T 2260) has 6 digits, not {code!r}", rule="format")
    if code[:2] not in _PROVINCE_PREFIXES:
        raise InvalidIdentifier(f"{code} does not start with a province code (GB/T 2260)", rule="region")
    return code


# --- 公民身份号码 (GB 11643-1999) -----------------------------------------------------------


def resident_id_check_digit(first17: str) -> str:
    """The check digit (position 18) of an ID number whose first 17 digits are ``first17``.

    GB 11643-1999 §8.2: a_18 = "10X98765432"[Σ a_i × W_i mod 11].
    """
    if len(first17) != RESIDENT_ID_LENGTH - 1 or not first17.isascii() or not first17.isdigit():
        raise InvalidIdentifier("the check digit needs exactly 17 digits", rule="charset")
    total = sum(int(digit) * weight for digit, weight in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK[total % 11]


def validate_resident_id(value: str, *, today: date) -> str:
    """Check a 公民身份号码 and return it normalised (trimmed, a lowercase ``x`` made ``X``).

    Rules, in the order they are checked (GB 11643-1999):

    * ``length``: exactly 18 characters (the 15-digit numbers of the first-generation card are
      no longer valid identity documents and are refused);
    * ``charset``: 17 digits, then a digit or ``X``;
    * ``birth_date``: positions 7–14 are a real date (YYYYMMDD), not after ``today`` and not
      before 1900;
    * ``check_digit``: position 18 equals the ISO 7064 MOD 11-2 check digit.

    ``today`` is the platform's date (from the database clock), passed in so this stays pure.
    """
    number = value.strip().upper()
    if len(number) != RESIDENT_ID_LENGTH:
        raise InvalidIdentifier(f"a 公民身份号码 has 18 characters, this one has {len(number)}", rule="length")
    for position, char in enumerate(number, start=1):
        allowed = char.isascii() and (char.isdigit() or (position == RESIDENT_ID_LENGTH and char == "X"))
        if not allowed:
            where = "the last position may be a digit or X" if position == RESIDENT_ID_LENGTH else "digits only"
            raise InvalidIdentifier(
                f"character {char!r} at position {position} is not allowed ({where})", rule="charset"
            )
    birth = number[6:14]
    try:
        born = date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        raise InvalidIdentifier(f"positions 7–14 ({birth}) are not a real date", rule="birth_date") from None
    if born > today:
        raise InvalidIdentifier(f"the birth date {born.isoformat()} is in the future", rule="birth_date")
    if born.year < _EARLIEST_BIRTH_YEAR:
        raise InvalidIdentifier(f"the birth date {born.isoformat()} is before 1900", rule="birth_date")
    expected = resident_id_check_digit(number[:17])
    if number[17] != expected:
        raise InvalidIdentifier(f"the check digit is {number[17]!r} but should be {expected!r}", rule="check_digit")
    return number


def resident_id_hash(number: str, key: bytes) -> str:
    """The keyed hash (HMAC-SHA256, hex) that stands in for a normalised ID number.

    A plain hash would not do: the space of ID numbers is small enough (regions × dates ×
    sequence numbers) to enumerate, so without the key a leaked table gives the numbers back.
    """
    return hmac.new(key, number.encode("ascii"), hashlib.sha256).hexdigest()


def mask_resident_id(number: str) -> str:
    """The displayable form: the region code (first 6) and the last 4, the birth date hidden."""
    return f"{number[:6]}********{number[-4:]}"
