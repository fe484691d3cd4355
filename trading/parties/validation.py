"""Field rules shared by the parties services: every error names its field and rule.

The services collect all field errors of a form in :class:`FieldErrors` and raise them together
as one 422 (``ValidationFailed`` whose ``errors`` lists each field and rule), so a form shows
every mistake at once and the API reports the same fields and rules as the pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone

from trading.kernel.auth.roles import Role
from trading.kernel.errors import ValidationFailed
from trading.parties import credentials, identifiers, policies
from trading.parties.models import OrganisationKind

# Birth dates on ID cards are calendar dates in China; compare them with the date there.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_NAME_MAX = {"organisation_name": 200, "display_name": 100, "person_name": 100, "name": 200}


@dataclass
class FieldErrors:
    """Collects every field error of a form, so the user sees them all at once."""

    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, field_name: str, rule: str, message: str) -> None:
        self.items.append({"field": field_name, "rule": rule, "message": message})

    def has(self, field_name: str) -> bool:
        return any(item["field"] == field_name for item in self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        message = first["message"] if len(self.items) == 1 else f"{len(self.items)} fields need attention"
        raise ValidationFailed(message, field=first["field"], rule=first["rule"], extra={"errors": self.items})


def normalise_username(username: str) -> str:
    return username.strip().lower()


def text(errors: FieldErrors, field_name: str, value: str | None, *, required: bool = True) -> str:
    """The trimmed value; rules ``required`` and ``max_length``."""
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            errors.add(field_name, "required", f"{field_name} is required")
        return cleaned
    limit = _NAME_MAX.get(field_name, 200)
    if len(cleaned) > limit:
        errors.add(field_name, "max_length", f"{field_name} is longer than {limit} characters")
    return cleaned


def username(errors: FieldErrors, value: str) -> str:
    """The normalised username; rule ``format``: 3–64 of ``a-z 0-9 . _ -``, starting alphanumeric."""
    name = normalise_username(value)
    if not _USERNAME.match(name):
        errors.add(
            "username",
            "format",
            "a username has 3–64 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
        )
    return name


def password(errors: FieldErrors, field_name: str, value: str, username: str) -> None:
    """Rules ``min_length`` (10), ``max_length`` (128) and ``not_username``."""
    if len(value) < credentials.PASSWORD_MIN_LENGTH:
        errors.add(field_name, "min_length", f"a password has at least {credentials.PASSWORD_MIN_LENGTH} characters")
    elif len(value) > credentials.PASSWORD_MAX_LENGTH:
        errors.add(field_name, "max_length", f"a password has at most {credentials.PASSWORD_MAX_LENGTH} characters")
    elif value.strip().lower() == username:
        errors.add(field_name, "not_username", "the password must not be the username")


def uscc(errors: FieldErrors, value: str) -> str:
    try:
        return identifiers.validate_uscc(value)
    except identifiers.InvalidIdentifier as exc:
        errors.add("uscc", exc.rule, exc.message)
        return value.strip().upper()


def resident_id(errors: FieldErrors, value: str | None, today: date) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return identifiers.validate_resident_id(value, today=today)
    except identifiers.InvalidIdentifier as exc:
        errors.add("id_number", exc.rule, exc.message)
        return None


def self_registrable(errors: FieldErrors, role: Role) -> bool:
    """Whether ``role`` may be chosen at registration (`policies.assert_self_registrable`)."""
    try:
        policies.assert_self_registrable(role)
    except ValidationFailed as exc:
        errors.add("role", exc.rule or "self_registration", exc.message)
        return False
    return True


def role_fits(errors: FieldErrors, role: Role, kind: OrganisationKind) -> None:
    try:
        policies.assert_role_fits_kind(role, kind)
    except ValidationFailed as exc:
        errors.add("role", exc.rule or "role_fits_kind", exc.message)
