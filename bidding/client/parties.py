"""The parties a bid declares in its structured response (issue 19 §1): the project manager
(项目经理), the contacts (联系人) and, for a cash bond, the account it was paid from.

Shared by the bidder client (`bidding.client.sdk`, before sealing), the platform's response reader
(`bidding.evaluation.response.bid`) and the opening (`bidding.opening`, which records them for the
integrity screens). Pure: the standard library only. The sealing page's
``bidding/static/js/response_check.js`` checks the same rules under the same names.

In ``ggzy-response/1`` (all three optional: a response without them stays valid)::

    "projectManager": {"name": "张三", "idNumber": "110101199003074514", "registrationNo": "京111060800123"},
    "contacts": [{"name": "李四", "phone": "138 0013 8000", "email": "li@example.com"}],
    "bidSecurityPayer": {"accountNo": "6222 0210 0112 3456 789", "bank": "中国工商银行北京海淀支行"}

Rules (``problems`` gives each with its JSON path): ``project-manager-name`` (a name is required),
``project-manager-identity`` (an identity number or a registration number is required),
``id-number-format`` / ``id-number-checksum`` (a 居民身份证 number: 18 characters, a real birth
date, the GB 11643 check character), ``registration-no-format`` (注册编号: letters, digits, CJK and
``-``, 4–40), ``contact-name``, ``contact-reachable`` (a phone or an e-mail), ``phone-format`` (a
mainland mobile, optionally +86, or a landline with its area code and extension), ``email-format``,
``contacts-count`` (at most `MAX_CONTACTS`), ``account-number-format`` (8–32 digits once spaces and
hyphens are dropped: corporate accounts follow no common checksum, so none is checked),
``bank-name`` (the bank is required).

`declared_parties` gives the normalised values the opening records: a phone as its digits (+86
dropped), an e-mail in lower case, an identity number with an upper-case X, an account as digits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

MAX_CONTACTS: Final = 5
NAME_LIMIT: Final = 50
BANK_LIMIT: Final = 100
EMAIL_LIMIT: Final = 254
_ID_WORDS: Final = {
    "id-number-format": "not an 18-character identity number with a real birth date",
    "id-number-checksum": "its check character is wrong",
}
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"
_ID_SHAPE: Final = re.compile(r"^[1-9]\d{16}[\dX]$")
_MOBILE: Final = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE: Final = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
_LANDLINE_DIGITS: Final = re.compile(r"^0\d{9,11}$")  # area code and number, no extension
_EMAIL: Final = re.compile(
    r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)
_REGISTRATION: Final = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff-]{4,40}$")
_ACCOUNT: Final = re.compile(r"^\d{8,32}$")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class PartyProblem:
    """One declared value breaking a rule: its JSON path, the rule's code and what is wrong."""

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} ({self.rule})"


def id_number_problem(value: str) -> str | None:
    """``id-number-format`` or ``id-number-checksum`` when ``value`` is not a valid 18-character
    居民身份证 number (GB 11643-1999), else None.
    """
    text = value.strip().upper()
    if not _ID_SHAPE.match(text):
        return "id-number-format"
    try:
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return "id-number-format"
    return None if id_check_character(text[:17]) == text[17] else "id-number-checksum"


def id_check_character(first17: str) -> str:
    """The GB 11643 check character of an identity number's first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalise_phone(value: str) -> str:
    """Spaces and brackets dropped; a mainland mobile without +86/0086 and a landline without an
    extension as their digits (so ``021-64281234`` and ``(021) 6428 1234`` compare equal); a
    landline with an extension keeps its hyphens.
    """
    text = re.sub(r"[\s()（）]", "", value)
    for prefix in ("+86", "0086"):
        if text.startswith(prefix) and _MOBILE.match(text[len(prefix) :].replace("-", "")):
            text = text[len(prefix) :]
    digits = text.replace("-", "")
    return digits if _MOBILE.match(digits) or _LANDLINE_DIGITS.match(digits) else text


def normalise_account(value: str) -> str:
    """An account number without the spaces and hyphens people write it with."""
    return re.sub(r"[\s-]", "", value)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def problems(document: Mapping[str, Any]) -> list[PartyProblem]:
    """Every rule the response's ``projectManager``, ``contacts`` and ``bidSecurityPayer`` break
    (absent ones break none).
    """
    found: list[PartyProblem] = []
    manager = document.get("projectManager")
    if isinstance(manager, Mapping):
        found += _manager_problems(manager)
    contacts = document.get("contacts")
    if isinstance(contacts, list):
        if len(contacts) > MAX_CONTACTS:
            found.append(PartyProblem("$.contacts", "contacts-count", f"at most {MAX_CONTACTS} contacts"))
        for i, contact in enumerate(contacts):
            if isinstance(contact, Mapping):
                found += _contact_problems(f"$.contacts[{i}]", contact)
    payer = document.get("bidSecurityPayer")
    if isinstance(payer, Mapping):
        found += account_problems(payer.get("accountNo"), payer.get("bank"), "$.bidSecurityPayer")
    return found


def _name_problems(path: str, value: Any, rule: str) -> list[PartyProblem]:
    text = _text(value)
    if text is None:
        return [PartyProblem(path, rule, "a name is required")]
    if len(text) > NAME_LIMIT or _CONTROL.search(text):
        return [PartyProblem(path, rule, f"a name of at most {NAME_LIMIT} characters on one line")]
    return []


def _manager_problems(manager: Mapping[str, Any]) -> list[PartyProblem]:
    found = _name_problems("$.projectManager.name", manager.get("name"), "project-manager-name")
    id_number, registration = _text(manager.get("idNumber")), _text(manager.get("registrationNo"))
    if id_number is None and registration is None:
        found.append(
            PartyProblem(
                "$.projectManager", "project-manager-identity", "give the identity number or the registration number"
            )
        )
    if id_number is not None and (rule := id_number_problem(id_number)) is not None:
        words = _ID_WORDS[rule]
        found.append(PartyProblem("$.projectManager.idNumber", rule, words))
    if registration is not None and not _REGISTRATION.match(registration):
        found.append(
            PartyProblem(
                "$.projectManager.registrationNo", "registration-no-format", "letters, digits, Chinese and -, 4 to 40"
            )
        )
    return found


def _contact_problems(path: str, contact: Mapping[str, Any]) -> list[PartyProblem]:
    found = _name_problems(f"{path}.name", contact.get("name"), "contact-name")
    phone, email = _text(contact.get("phone")), _text(contact.get("email"))
    if phone is None and email is None:
        found.append(PartyProblem(path, "contact-reachable", "give a phone number or an e-mail address"))
    if phone is not None:
        normal = normalise_phone(phone)
        if not (_MOBILE.match(normal) or _LANDLINE_DIGITS.match(normal) or _LANDLINE.match(normal)):
            found.append(
                PartyProblem(f"{path}.phone", "phone-format", "a mobile (13800138000) or a landline with area code")
            )
    if email is not None and (len(email) > EMAIL_LIMIT or not _EMAIL.match(email)):
        found.append(PartyProblem(f"{path}.email", "email-format", "not an e-mail address"))
    return found


def account_problems(number: Any, bank: Any, path: str = "$") -> list[PartyProblem]:
    """``account-number-format`` and ``bank-name`` of one payer account (paths ``<path>.accountNo``
    and ``<path>.bank``).
    """
    found = []
    text = _text(number)
    if text is None or not _ACCOUNT.match(normalise_account(text)):
        found.append(PartyProblem(f"{path}.accountNo", "account-number-format", "an account number of 8 to 32 digits"))
    bank_name = _text(bank)
    if bank_name is None or len(bank_name) > BANK_LIMIT or _CONTROL.search(bank_name):
        found.append(PartyProblem(f"{path}.bank", "bank-name", f"the bank's name, at most {BANK_LIMIT} characters"))
    return found


def declared_parties(document: Mapping[str, Any]) -> dict[str, Any] | None:
    """The response's declared parties, normalised, as the opening records them; None when it
    declares none. Call only on a document `problems` found nothing wrong with.
    """
    recorded: dict[str, Any] = {}
    manager = document.get("projectManager")
    if isinstance(manager, Mapping):
        id_number = _text(manager.get("idNumber"))
        recorded["projectManager"] = {
            "name": _text(manager.get("name")),
            "idNumber": id_number.upper() if id_number else None,
            "registrationNo": _text(manager.get("registrationNo")),
        }
    contacts = document.get("contacts")
    if isinstance(contacts, list) and contacts:
        recorded["contacts"] = [
            {
                "name": _text(c.get("name")),
                "phone": normalise_phone(phone) if (phone := _text(c.get("phone"))) else None,
                "email": email.lower() if (email := _text(c.get("email"))) else None,
            }
            for c in contacts
            if isinstance(c, Mapping)
        ]
    payer = document.get("bidSecurityPayer")
    if isinstance(payer, Mapping):
        recorded["bidSecurityPayer"] = {
            "accountNo": normalise_account(str(payer.get("accountNo") or "")),
            "bank": _text(payer.get("bank")),
        }
    return recorded or None


def mask_account(number: str) -> str:
    """An account number as pages show it: its last four digits only."""
    return "****" + number[-4:] if len(number) > 4 else "****"  # noqa: PLR2004 - four digits shown
