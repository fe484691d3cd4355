"""``ggzy bid`` at the opening (开标): ``decrypt``, ``release-share``, ``sign-record``, ``sign-in``
(签到), ``object`` (异议), ``confirm`` (确认开标结果) and ``coefficients`` (抽取系数, recomputed
here). Every statement is signed on this machine.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from bidding.client.cli_inputs import (
    EXISTING_FILE,
    api_token,
    auth_options,
    load_decryption_key,
    load_signer,
    reporting_refusals,
)
from bidding.client.coefficients import check
from bidding.client.hall import (
    answer_clarification_signed,
    checked_price_table,
    confirm_price_table,
    decrypt_bid,
    expect_price_table,
    file_signed_objection,
    file_signed_publicity_objection,
    our_bidder_uscc,
    release_holder_shares,
    sign_in_signed,
)
from bidding.client.sdk import (
    CONTRACT_REASON,
    NOTICE_REASON,
    REPORT_REASON,
    sign_contract,
    sign_notice,
    sign_record,
    sign_report,
)
from bidding.client.sync_client import SyncBidClient
from certs.tsa.client import HttpTsa


@click.command()
@click.option("--tender", required=True)
@click.option("--lot", required=True)
@click.option("--bidder", required=True, help="our USCC (the envelopes must name it)")
@click.option("--p12", "p12_path", type=EXISTING_FILE, required=True, help="the encryption certificate (PKCS#12)")
@click.option("--p12-password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True)
@auth_options
@reporting_refusals
def decrypt(  # noqa: PLR0917 - one parameter per click option
    tender: str,
    lot: str,
    bidder: str,
    p12_path: Path,
    p12_password: str,
    server: str,
    token: str | None,
    user: str | None,
    password: str | None,
) -> None:
    """Decrypt our bid at the opening: unwrap the content keys here, send the price summary's, then the
    package's. The private key never leaves this machine.
    """
    key, _ = load_decryption_key(p12_path, p12_password)
    client = SyncBidClient(server, api_token(server, token, user, password))
    answer = client.run(lambda c: decrypt_bid(c, tender, lot, bidder, key))
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))


@click.command("release-share")
@click.option("--tender", required=True)
@click.option("--lot", required=True)
@click.option("--bidder", required=True, help="the USCC of the bid to open through the escrow")
@click.option("--p12", "p12_path", type=EXISTING_FILE, required=True, help="the key holder's encryption PKCS#12")
@click.option("--p12-password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True)
@click.option("--sign-p12", type=EXISTING_FILE, default=None, help="the holder's signing PKCS#12 (default: --p12)")
@click.option("--sign-password", envvar="GGZY_SIGN_PASSWORD", default=None, help="default: --p12-password")
@auth_options
@reporting_refusals
def release_share_command(  # noqa: PLR0917 - one parameter per click option
    tender: str,
    lot: str,
    bidder: str,
    p12_path: Path,
    p12_password: str,
    sign_p12: Path | None,
    sign_password: str | None,
    server: str,
    token: str | None,
    user: str | None,
    password: str | None,
) -> None:
    """Release our key-holder share of one bid (signed), after the host recorded a platform-side cause."""
    key, certificate = load_decryption_key(p12_path, p12_password)
    signer = load_signer(sign_p12 or p12_path, sign_password if sign_password is not None else p12_password)
    client = SyncBidClient(server, api_token(server, token, user, password))
    answer = client.run(
        lambda c: release_holder_shares(c, tender, lot, bidder, holder=certificate, key=key, signer=signer)
    )
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))


@click.command("sign-record")
@click.option("--p12", "p12_path", type=EXISTING_FILE, required=True, help="the host's signing certificate (PKCS#12)")
@click.option("--password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password")
@click.option("--in", "in_path", type=EXISTING_FILE, required=True, help="the platform-signed record (record.pdf)")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--tsa", "tsa_url", required=True, help="an RFC 3161 TSA, e.g. https://ggzy.example/api/v1/tsa")
@click.option("--reason", default="开标主持人确认开标记录", show_default=True)
@reporting_refusals
def sign_record_command(  # noqa: PLR0917 - one parameter per click option
    p12_path: Path, password: str, in_path: Path, out_path: Path, tsa_url: str, reason: str
) -> None:
    """Sign the opening record as its host: an incremental PAdES signature, timestamped, appended to
    the platform-signed PDF (``GET /api/v1/bidding/opening/{code}/record.pdf``). Upload the result to
    ``POST /api/v1/bidding/opening/{code}/record/host-signature``.
    """
    signer = load_signer(p12_path, password)
    pdf = in_path.read_bytes()
    if not pdf.startswith(b"%PDF-"):
        raise click.BadParameter(f"{in_path} is not a PDF", param_hint="--in")
    signed = asyncio.run(sign_record(pdf, signer, tsa=HttpTsa(tsa_url), reason=reason))
    out_path.write_bytes(signed)
    click.echo(f"{out_path}: {len(signed)} bytes, signed by {signer.certificate.subject.rfc4514_string()}")


@click.command("sign-report")
@click.option("--p12", "p12_path", type=EXISTING_FILE, required=True, help="your signing certificate (PKCS#12)")
@click.option("--password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password")
@click.option("--in", "in_path", type=EXISTING_FILE, required=True, help="the current revision (report.pdf)")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--tsa", "tsa_url", required=True, help="an RFC 3161 TSA, e.g. https://ggzy.example/api/v1/tsa")
@click.option("--reason", default=REPORT_REASON, show_default=True)
@reporting_refusals
def sign_report_command(  # noqa: PLR0917 - one parameter per click option
    p12_path: Path, password: str, in_path: Path, out_path: Path, tsa_url: str, reason: str
) -> None:
    """Sign the evaluation report (评标报告) as a member of the committee: an incremental PAdES
    signature, timestamped, appended to the current revision
    (``GET /api/v1/evaluation/e/{id}/report.pdf``). Upload the result on the report page or to
    ``POST /api/v1/evaluation/e/{id}/report/signatures``.
    """
    signer = load_signer(p12_path, password)
    pdf = in_path.read_bytes()
    if not pdf.startswith(b"%PDF-"):
        raise click.BadParameter(f"{in_path} is not a PDF", param_hint="--in")
    signed = asyncio.run(sign_report(pdf, signer, tsa=HttpTsa(tsa_url), reason=reason))
    out_path.write_bytes(signed)
    click.echo(f"{out_path}: {len(signed)} bytes, signed by {signer.certificate.subject.rfc4514_string()}")


@click.command("sign-contract")
@click.option("--p12", "p12_path", type=EXISTING_FILE, required=True, help="your organisation's signing certificate")
@click.option("--password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password")
@click.option("--in", "in_path", type=EXISTING_FILE, required=True, help="the current revision (contract.pdf)")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--tsa", "tsa_url", required=True, help="an RFC 3161 TSA, e.g. https://ggzy.example/api/v1/tsa")
@click.option("--reason", default=CONTRACT_REASON, show_default=True)
@reporting_refusals
def sign_contract_command(  # noqa: PLR0917 - one parameter per click option
    p12_path: Path, password: str, in_path: Path, out_path: Path, tsa_url: str, reason: str
) -> None:
    """Sign the award's contract (合同) as a party, the winner first, then the tenderee: an
    incremental PAdES signature, timestamped, appended to the current revision
    (``GET /bidding/tenders/{code}/contract.pdf``). Upload the result on the contract page
    (``/bidding/tenders/{code}/contract``).
    """
    signer = load_signer(p12_path, password)
    pdf = in_path.read_bytes()
    if not pdf.startswith(b"%PDF-"):
        raise click.BadParameter(f"{in_path} is not a PDF", param_hint="--in")
    signed = asyncio.run(sign_contract(pdf, signer, tsa=HttpTsa(tsa_url), reason=reason))
    out_path.write_bytes(signed)
    click.echo(f"{out_path}: {len(signed)} bytes, signed by {signer.certificate.subject.rfc4514_string()}")


@click.command("sign-notice")
@click.option("--p12", "p12_path", type=EXISTING_FILE, required=True, help="the tenderee's certificate (PKCS#12)")
@click.option("--password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password")
@click.option("--in", "in_path", type=EXISTING_FILE, required=True, help="the notice's draft (notice.pdf)")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--tsa", "tsa_url", required=True, help="an RFC 3161 TSA, e.g. https://ggzy.example/api/v1/tsa")
@click.option("--reason", default=NOTICE_REASON, show_default=True)
@reporting_refusals
def sign_notice_command(  # noqa: PLR0917 - one parameter per click option
    p12_path: Path, password: str, in_path: Path, out_path: Path, tsa_url: str, reason: str
) -> None:
    """Sign an award notice (中标通知书) or result notice (中标结果通知书) as the tenderee: an
    incremental PAdES signature, timestamped, with the e-seal of the certificate's organisation on
    the page, appended to the draft downloaded from the tender's notices page
    (``/bidding/manage/tenders/{code}/notices``). Upload the result on that page.
    """
    signer = load_signer(p12_path, password)
    pdf = in_path.read_bytes()
    if not pdf.startswith(b"%PDF-"):
        raise click.BadParameter(f"{in_path} is not a PDF", param_hint="--in")
    signed = asyncio.run(sign_notice(pdf, signer, tsa=HttpTsa(tsa_url), reason=reason))
    out_path.write_bytes(signed)
    click.echo(f"{out_path}: {len(signed)} bytes, signed by {signer.certificate.subject.rfc4514_string()}")


_bidder_option = click.option(
    "--bidder", default=None, help="our USCC (default: the one our receipts for --tender name)"
)
_sign_p12_option = click.option(
    "--p12", "p12_path", type=EXISTING_FILE, required=True, help="our signing certificate (PKCS#12)"
)
_p12_password_option = click.option(
    "--p12-password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password"
)


@click.command("sign-in")
@click.option("--tender", required=True)
@_bidder_option
@_sign_p12_option
@_p12_password_option
@auth_options
@reporting_refusals
def sign_in_command(  # noqa: PLR0917 - one parameter per click option
    tender: str,
    bidder: str | None,
    p12_path: Path,
    p12_password: str,
    server: str,
    token: str | None,
    user: str | None,
    password: str | None,
) -> None:
    """Sign in to the opening hall (签到), signed here with our signing certificate over the statement
    ``{"action": "sign-in", "bidder", "tender", "type": "ggzy-opening-sign-in/1"}`` (canonical JSON).
    Only a bidder that signed in may decrypt.
    """
    signer = load_signer(p12_path, p12_password)
    client = SyncBidClient(server, api_token(server, token, user, password))
    uscc = bidder or client.run(lambda c: our_bidder_uscc(c, tender))
    answer = client.run(lambda c: sign_in_signed(c, tender, uscc, signer))
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))


def _objection_text(text: str | None, text_file: Path | None) -> str:
    if (text is None) == (text_file is None):
        raise click.UsageError("give the objection with --text or --text-file (one of them)")
    if text_file is not None:
        text = text_file.read_text(encoding="utf-8")
    value = (text or "").strip()  # as the hall's form does: no leading or trailing blank lines
    if not value:
        raise click.BadParameter("the objection is empty", param_hint="--text")
    return value


@click.command("object")
@click.option("--tender", required=True)
@click.option(
    "--stage",
    type=click.Choice(["opening", "publicity", "announcement"]),
    default="opening",
    show_default=True,
    help="opening: in the opening hall; publicity: to the candidates' publicity (中标候选人公示); "
    "announcement: GP 质疑 to the result announcement (中标/成交结果公告)",
)
@click.option("--lot-group", default=None, help="publicity: the lot group, when the tender has several")
@click.option("--text", default=None, help="the objection (异议), as filed and signed")
@click.option("--text-file", type=EXISTING_FILE, default=None, help="read the objection from this UTF-8 file")
@_bidder_option
@_sign_p12_option
@_p12_password_option
@auth_options
@reporting_refusals
def object_command(  # noqa: PLR0917 - one parameter per click option
    tender: str,
    stage: str,
    lot_group: str | None,
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
    """File an objection (异议) in the opening hall, signed here with our signing certificate over
    the statement ``{"bidder", "tender", "text", "type": "ggzy-opening-objection/1"}`` (canonical
    JSON). Prints the objection's id and the statement's SHA-256. Possible until the confirmation
    stage ends. ``--stage publicity``: an objection to the candidates' publicity, signed over
    ``{"bidder", "lotGroup", "publicitySha256", "tender", "text", "type": "ggzy-award-objection/1"}``
    during the publicity. ``--stage announcement``: a GP 质疑 to the result announcement, signed over
    the same statement with the announcement's content SHA-256, within 7 working days after its term.
    """
    statement_text = _objection_text(text, text_file)
    signer = load_signer(p12_path, p12_password)
    client = SyncBidClient(server, api_token(server, token, user, password))
    uscc = bidder or client.run(lambda c: our_bidder_uscc(c, tender))
    if stage in {"publicity", "announcement"}:
        answer = client.run(
            lambda c: file_signed_publicity_objection(
                c, tender, uscc, statement_text, signer, lot_group=lot_group, stage=stage
            )
        )
    else:
        answer = client.run(lambda c: file_signed_objection(c, tender, uscc, statement_text, signer))
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))


def _show_price_table(tender: str, table: list[dict[str, Any]], digest: str, bidder: str) -> None:
    click.echo(f"price table of {tender} (唱标), the one this confirmation signs:", err=True)
    for line in table:
        price = f"{line['totalPrice']} {line.get('currency') or ''}".strip() if line.get("totalPrice") else "—"
        cause = f" ({line['cause']})" if line.get("cause") else ""
        ours = "  <- us" if line.get("bidder") == bidder else ""
        click.echo(
            f"  {line.get('lot')}  {line.get('bidderName')} {line.get('bidder')}  {price}  "
            f"{line.get('outcome')}{cause}{ours}",
            err=True,
        )
    click.echo(f"priceTableSha256: {digest}", err=True)


@click.command("confirm")
@click.option("--tender", required=True)
@_bidder_option
@_sign_p12_option
@_p12_password_option
@click.option(
    "--expect-sha256", default=None, help="send nothing unless the price table still has this SHA-256 (reviewed)"
)
@auth_options
@reporting_refusals
def confirm_command(  # noqa: PLR0917 - one parameter per click option
    tender: str,
    bidder: str | None,
    p12_path: Path,
    p12_password: str,
    expect_sha256: str | None,
    server: str,
    token: str | None,
    user: str | None,
    password: str | None,
) -> None:
    """Confirm the opening result (确认开标结果): show the hall's price table (bidder, price, outcome)
    and its SHA-256 (recomputed here), then sign and send the confirmation statement naming that
    digest. With --expect-sha256, a table other than the one reviewed is refused here, unsent.
    """
    signer = load_signer(p12_path, p12_password)
    client = SyncBidClient(server, api_token(server, token, user, password))
    table, digest = checked_price_table(client.run(lambda c: c.opening(tender)))
    uscc = bidder or client.run(lambda c: our_bidder_uscc(c, tender))
    _show_price_table(tender, table, digest, uscc)
    expect_price_table(digest, expect_sha256)
    answer = client.run(lambda c: confirm_price_table(c, tender, uscc, digest, signer))
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))


@click.command("coefficients")
@click.option("--tender", required=True)
@auth_options
@reporting_refusals
def coefficients_command(tender: str, server: str, token: str | None, user: str | None, password: str | None) -> None:
    """The hall's random coefficients (浮动系数, 抽取系数): each range, the seed's SHA-256 published
    when the opening started and, once drawn, the revealed seed and value, each recomputed here
    (`bidding.client.coefficients`). Exits with status 1 when a drawn value does not recompute or a
    seed does not match its commitment.
    """
    client = SyncBidClient(server, api_token(server, token, user, password))
    view = client.run(lambda c: c.opening(tender))
    checks = [check(coefficient) for coefficient in view.get("coefficients") or []]
    for published, checked in zip(view.get("coefficients") or [], checks, strict=True):
        state = (
            f"= {published['value']} (recomputed {checked['recomputed']}; "
            f"commitment {'ok' if checked['commitmentMatches'] else 'MISMATCH'})"
            if checked["drawn"]
            else "not drawn yet"
        )
        click.echo(
            f"{published['name']} in [{published['low']}, {published['high']}] step {published['step']}: {state}",
            err=True,
        )
    click.echo(json.dumps({"tender": tender, "stage": view.get("stage"), "coefficients": checks}, indent=2))
    if any(c["drawn"] and not (c["commitmentMatches"] and c["valueMatches"]) for c in checks):
        raise SystemExit(1)


@click.group("clarification")
def clarification_group() -> None:
    """The evaluation committee's clarification requests (澄清) to our organisation."""


@clarification_group.command("list")
@auth_options
@reporting_refusals
def clarification_list(server: str, token: str | None, user: str | None, password: str | None) -> None:
    """Our requests (id, tender, question, due time, status), newest first."""
    client = SyncBidClient(server, api_token(server, token, user, password))
    click.echo(json.dumps(client.run(lambda c: c.clarifications()), ensure_ascii=False, indent=2))


@clarification_group.command("answer")
@click.option("--id", "clarification_id", required=True, help="the request's id (ggzy bid clarification list)")
@click.option("--text", default=None, help="the answer, as signed and sent")
@click.option("--text-file", type=EXISTING_FILE, default=None, help="read the answer from this UTF-8 file")
@_sign_p12_option
@_p12_password_option
@auth_options
@reporting_refusals
def clarification_answer(  # noqa: PLR0917 - one parameter per click option
    clarification_id: str,
    text: str | None,
    text_file: Path | None,
    p12_path: Path,
    p12_password: str,
    server: str,
    token: str | None,
    user: str | None,
    password: str | None,
) -> None:
    """Answer a clarification request, signed here with our signing certificate over
    ``{"answerSha256", "bidder", "clarification", "questionSha256", "tender",
    "type": "ggzy-evaluation-clarification-answer/1"}`` (canonical JSON). Refused after the due time.
    """
    if (text is None) == (text_file is None):
        raise click.UsageError("give the answer with --text or --text-file (one of them)")
    answer = (text_file.read_text(encoding="utf-8") if text_file is not None else text or "").strip()
    if not answer:
        raise click.BadParameter("the answer is empty", param_hint="--text")
    signer = load_signer(p12_path, p12_password)
    client = SyncBidClient(server, api_token(server, token, user, password))
    answered = client.run(lambda c: answer_clarification_signed(c, clarification_id, answer, signer))
    click.echo(json.dumps(answered, ensure_ascii=False, indent=2))


COMMANDS = (
    decrypt,
    release_share_command,
    sign_record_command,
    sign_in_command,
    object_command,
    confirm_command,
    coefficients_command,
    clarification_group,
    sign_report_command,
    sign_notice_command,
    sign_in_command,
    object_command,
    confirm_command,
    sign_contract_command,
)
"""The opening-hall commands, added to the ``bid`` group by `bidding.client.cli`."""
