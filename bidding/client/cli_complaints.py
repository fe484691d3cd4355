"""``ggzy bid complain``: a complaint (投诉) to the supervisory department after our objection to a
tender's result, signed here with our signing certificate (the key never leaves this machine).

Usage::

    ggzy bid complain --server https://ggzy.example --user alice --tender E320… --p12 sign.p12 \
        --text-file 投诉.txt [--objection OBJECTION-ID]

How it works: the client fetches our objections (``GET /api/v1/award/tenders/{code}/complaints/mine``), picks the
one named (or the only one whose complaint window is open), signs
``{"bidder", "lotGroup", "objection", "tender", "text", "type": "ggzy-award-complaint/1"}``
(canonical JSON, `format.award_complaint_statement`) and files it. With no objection to complain
after, it refuses before sending anything.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bidding.client import format as fmt
from bidding.client.cli_inputs import EXISTING_FILE, api_token, auth_options, load_signer, reporting_refusals
from bidding.client.hall import our_bidder_uscc
from bidding.client.problems import LocalRefusal
from bidding.client.sdk import sign_statement_async
from bidding.client.sync_client import SyncBidClient

if TYPE_CHECKING:
    from bidding.client.transport import BidClient
    from certs.cms import SigningIdentity


async def file_signed_complaint(
    client: BidClient,
    tender: str,
    bidder: str,
    text: str,
    signer: SigningIdentity,
    *,
    objection: str | None = None,
) -> dict[str, Any]:
    """投诉: pick our objection (``objection``, or the only one still open to a complaint), sign
    `fmt.award_complaint_statement` here and file it; the platform's answer plus the statement's SHA-256.
    """
    rows = await client.complaint_objections(tender)
    if objection is not None:
        rows = [r for r in rows if r["objection"] == objection]
    else:
        rows = [r for r in rows if r.get("complaintDeadline")]
    if len(rows) != 1:
        detail = (
            f"{len(rows)} objections of ours to {tender} may be complained about: name one with --objection"
            if rows
            else f"no objection of ours to the result of {tender} to complain after"
        )
        raise LocalRefusal("objection", "complaint_after_objection", detail)
    [chosen] = rows
    statement = fmt.award_complaint_statement(tender, chosen["lotGroup"], bidder, chosen["objection"], text)
    answer = await client.file_complaint(
        tender, chosen["award"], chosen["objection"], text, await sign_statement_async(statement, signer)
    )
    return {**answer, "tender": tender, "bidder": bidder, "statementSha256": hashlib.sha256(statement).hexdigest()}


def _complaint_text(text: str | None, text_file: Path | None) -> str:
    if (text is None) == (text_file is None):
        raise click.UsageError("give the complaint with --text or --text-file (one of them)")
    if text_file is not None:
        text = text_file.read_text(encoding="utf-8")
    value = (text or "").strip()
    if not value:
        raise click.BadParameter("the complaint is empty", param_hint="--text")
    return value


@click.command("complain")
@click.option("--tender", required=True)
@click.option("--objection", default=None, help="the objection the complaint follows (when we filed several)")
@click.option("--text", default=None, help="the complaint (投诉), as filed and signed")
@click.option("--text-file", type=EXISTING_FILE, default=None, help="read the complaint from this UTF-8 file")
@click.option("--bidder", default=None, help="our USCC (default: the one our receipts for --tender name)")
@click.option("--p12", "p12_path", type=EXISTING_FILE, required=True, help="our signing certificate (PKCS#12)")
@click.option("--p12-password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password")
@auth_options
@reporting_refusals
def complain_command(  # noqa: PLR0917 - one parameter per click option
    tender: str,
    objection: str | None,
    text: str | None,
    text_file: Path | None,
    bidder: str | None,
    p12_path: Path,
    p12_password: str,
    server: str,
    token: str | None,
    user: str | None,
    password: str | None,
) -> None:
    """File a complaint (投诉) to the supervisory department after our objection to the result,
    signed here. Prints the complaint (id, state, acceptance due) and the statement's SHA-256.
    """
    statement_text = _complaint_text(text, text_file)
    signer = load_signer(p12_path, p12_password)
    client = SyncBidClient(server, api_token(server, token, user, password))
    uscc = bidder or client.run(lambda c: our_bidder_uscc(c, tender))
    answer = client.run(lambda c: file_signed_complaint(c, tender, uscc, statement_text, signer, objection=objection))
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
