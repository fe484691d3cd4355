"""What the bidder's seat shows to run on the bidder's own computer: the ``ggzy bid`` command lines
(`bidding.client.cli`; the private key never reaches the browser) and the exact statements a CA
client would sign instead.
"""

from __future__ import annotations

from typing import Final

from bidding.client import format as fmt


def decrypt_command(base_url: str, code: str, lot: str, bidder_uscc: str) -> str:
    """The ``ggzy bid decrypt`` command line a bidder runs on its own computer (`bidding.client.cli`)."""
    return " \\\n  ".join(
        [
            "ggzy bid decrypt",
            f"--server {base_url}",
            f"--tender {code}",
            f"--lot {lot}",
            f"--bidder {bidder_uscc}",
            "--p12 encryption.p12",
            "--user <your user name>",
        ]
    )


def objection_command(base_url: str, code: str, bidder_uscc: str) -> str:
    """The ``ggzy bid object`` command line: signs `format.objection_statement` and files it."""
    return " \\\n  ".join(
        [
            "ggzy bid object",
            f"--server {base_url}",
            f"--tender {code}",
            f"--bidder {bidder_uscc}",
            "--p12 signing.p12",
            "--user <your user name>",
            "--text-file objection.txt",
        ]
    )


def sign_in_command(base_url: str, code: str, bidder_uscc: str) -> str:
    """The ``ggzy bid sign-in`` command line: signs `format.sign_in_statement` and signs in."""
    return " \\\n  ".join(
        [
            "ggzy bid sign-in",
            f"--server {base_url}",
            f"--tender {code}",
            f"--bidder {bidder_uscc}",
            "--p12 signing.p12",
            "--user <your user name>",
        ]
    )


def confirm_command(base_url: str, code: str, bidder_uscc: str, price_table_sha256: str | None) -> str:
    """The ``ggzy bid confirm`` command line; with the table's digest it sends nothing for another table."""
    return " \\\n  ".join(
        [
            "ggzy bid confirm",
            f"--server {base_url}",
            f"--tender {code}",
            f"--bidder {bidder_uscc}",
            "--p12 signing.p12",
            "--user <your user name>",
            *([f"--expect-sha256 {price_table_sha256}"] if price_table_sha256 else []),
        ]
    )


OBJECTION_TEXT_PLACEHOLDER: Final = "<objection text>"


def objection_statement(code: str, bidder_uscc: str) -> str:
    """The objection statement a CA client signs, with a placeholder where the text goes (a JSON
    string: only quotes, backslashes and control characters such as line breaks are escaped).
    """
    return fmt.objection_statement(code, bidder_uscc, OBJECTION_TEXT_PLACEHOLDER).decode()


def statements(base_url: str, code: str, uscc: str, digest: str | None) -> dict[str, str | None]:
    """What the bidder's page shows for objections and the confirmation: the ``ggzy bid`` command
    lines and the exact statements a CA client would sign instead.
    """
    return {
        "sign_in_command": sign_in_command(base_url, code, uscc),
        "sign_in_statement": fmt.sign_in_statement(code, uscc).decode(),
        "objection_command": objection_command(base_url, code, uscc),
        "objection_statement": objection_statement(code, uscc),
        "confirm_command": confirm_command(base_url, code, uscc, digest),
        "confirmation_statement": fmt.confirmation_statement(code, uscc, digest).decode() if digest else None,
    }
