"""Certificate subjects and identifiers shaped as Chinese CAs issue them: CA, organisation and
personal names, the USCC in ``serialNumber`` or in the ``1.2.156.10260.4.1.4`` extension, and
well-formed 统一社会信用代码 / resident ID numbers for made-up parties.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from certs.identifiers import id_number_check_char, uscc_check_char

OID_ORGANISATION_CODE = x509.ObjectIdentifier("1.2.156.10260.4.1.4")


def make_uscc(seed: int, region: str = "320000") -> str:
    """A well-formed 统一社会信用代码 (登记管理部门 9, 类别 1 = enterprise) with a correct check character."""
    body = f"91{region}{seed:09d}"
    return body + uscc_check_char(body)


def make_id_number(seed: int, region: str = "320102", birth: str = "19800101") -> str:
    """A well-formed 18-character resident ID number with a correct check character."""
    body = f"{region}{birth}{seed % 1000:03d}"
    return body + id_number_check_char(body)


def _printable(value: str) -> bytes:
    raw = value.encode("ascii")
    return bytes([0x13, len(raw)]) + raw


def common_name(value: str) -> x509.NameAttribute[str]:
    return x509.NameAttribute(NameOID.COMMON_NAME, value)


def ca_name(cn: str, organisation: str, province: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            common_name(cn),
        ]
    )


def organisation_name(name: str, uscc: str | None, province: str, *, uscc_in_subject: bool) -> x509.Name:
    """An organisation subject: C, ST, O, CN (and the USCC as ``serialNumber`` when in the subject)."""
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        common_name(name),
    ]
    if uscc_in_subject and uscc:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, uscc))
    return x509.Name(attrs)


def person_name(name: str, id_number: str, province: str) -> x509.Name:
    """A personal subject: C, ST, CN and the ID number as ``serialNumber``."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province),
            common_name(name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, id_number),
        ]
    )


def organisation_code_extension(uscc: str) -> tuple[x509.ExtensionType, bool]:
    """The ``1.2.156.10260.4.1.4`` extension carrying a USCC (PrintableString), as some CAs issue it."""
    return x509.UnrecognizedExtension(OID_ORGANISATION_CODE, _printable(uscc)), False
