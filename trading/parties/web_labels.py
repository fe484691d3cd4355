"""What the parties pages call their fields and how they word each broken rule (``LABELS``).

The API reports the same field and rule with an English message; pages show these, translated,
without the rule code. A few rule codes mean different things on different fields (``length`` of a
credit code and of an ID number): the table words those as ``field.rule``, which the kernel's one
translator looks up before the bare rule.
"""

from __future__ import annotations

from typing import TypeVar

from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_

T = TypeVar("T")

_TOO_LONG_PASSWORD = N_("The password may have at most 128 characters.")

LABELS = Labels(
    fields={
        "uscc": N_("Unified social credit code"),
        "organisation_name": N_("Organisation name"),
        "organisation_kind": N_("Kind of organisation"),
        "role": N_("Role"),
        "username": N_("Username"),
        "display_name": N_("Your name"),
        "password": N_("Password"),
        "id_number": N_("Resident ID number"),
        "person_name": N_("Name on the ID card"),
        "totp": N_("Verification code"),
        "code": N_("Verification code"),
        "current_password": N_("Current password"),
        "new_password": N_("New password"),
    },
    rules={
        "uscc.length": N_("A unified social credit code has exactly 18 characters."),
        "uscc.charset": N_(
            "The code contains a character that is never used: only digits and capital letters except I, O, Z, S and V."
        ),
        "region": N_("Characters 3 to 8 must be the 6-digit code of the region of registration."),
        "check_char": N_("The last character does not match the others: check the code for a typing mistake."),
        "uscc.unique": N_("An organisation with this code is already registered."),
        "format": N_(
            "Use 3 to 64 lower-case letters, digits, dots, hyphens or underscores, starting with a letter or digit."
        ),
        "username.unique": N_("This username is taken."),
        "min_length": N_("The password needs at least 10 characters."),
        "password.max_length": _TOO_LONG_PASSWORD,
        "new_password.max_length": _TOO_LONG_PASSWORD,
        "not_username": N_("The password must not be the username."),
        "matches": N_("The current password is wrong."),
        "role_fits_kind": N_("This role does not fit the kind of organisation."),
        "self_registration": N_("This role is created by a trading centre administrator."),
        "id_number.length": N_("A resident ID number has exactly 18 characters."),
        "id_number.charset": N_("A resident ID number has 17 digits followed by a digit or X."),
        "birth_date": N_("The birth date in the ID number (characters 7 to 14) is not possible."),
        "check_digit": N_("The last character does not match the others: check the number for a typing mistake."),
        "totp": N_("The code is wrong or has expired. Enter the current code from your app."),
        "enrolment_started": N_("Start setting up two-step sign-in first."),
        "not_enabled": N_("Two-step sign-in is already on."),
        "required": N_("This field is required."),
        "max_length": N_("This is too long."),
    },
)

CHOICES = {
    "role": N_("Choose a role from the list."),
    "organisation_kind": N_("Choose a kind of organisation from the list."),
}
"""What a select field says when the browser sent a value that is not one of its options."""
