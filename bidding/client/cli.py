r"""``ggzy bid …``: the bidder's command line (seal offline, submit resumably, verify receipts).

Runs on the bidder's machine with nothing of the platform but its API::

    ggzy bid seal --tender E320… --lot 001 --bidder 9132… --deadline 2026-12-01T09:30:00+08:00 \
        --p12 sign.p12 --encryption-cert enc.pem --total-price 1234567.89 --duration-days 180 \
        --out bid.ggzy 技术标.pdf 商务标.pdf
    ggzy bid submit bid.ggzy --server https://ggzy.example --user alice --receipt-dir receipts/
    ggzy bid verify-receipt receipts/R-….json --ca platform_root.pem --container bid.ggzy

and at the opening (开标): ``sign-in`` (签到, signed), ``decrypt``, ``object`` (异议), ``confirm``
(确认开标结果), ``release-share`` (key holders) and ``sign-record`` (the host)::

    ggzy bid object --server https://ggzy.example --user alice --tender E320… --p12 sign.p12 \
        --text-file 异议.txt
    ggzy bid object --stage publicity --server https://ggzy.example --user alice --tender E320… \
        --p12 sign.p12 --text-file 异议.txt        # to the candidates' publicity (中标候选人公示)
    ggzy bid complain --server https://ggzy.example --user alice --tender E320… --p12 sign.p12 \
        --text-file 投诉.txt                       # to the supervisor, after the objection (投诉)
    ggzy bid confirm --server https://ggzy.example --user alice --tender E320… --p12 sign.p12 \
        --expect-sha256 3f5a…

**Sealing with another tool** (Order 20 Art. 8). The parts are standard CMS AuthEnvelopedData
(`certs.envelope.cms_env`): ``openssl cms -decrypt -inform DER -inkey enc.key`` opens them. A
separately developed tool can seal them too: ``--seal-with`` runs it once per part with the
plaintext on stdin and the DER envelope on stdout, and ``ggzy`` adds the bid's binding (the
documented binding step, also alone as ``ggzy bid bind``)::

    ggzy bid seal … --seal-with "openssl cms -encrypt -aes-256-gcm -binary -outform DER -recip enc.pem"

(RSA certificates add ``-keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt
rsa_mgf1_md:sha256``; with key holders give ``--encryption-key`` so the content key can be split.)

After the deadline, within the bid validity period, ``revoke`` (撤销) replaces ``withdraw`` (撤回)
and states its consequence (the bid security may be kept or claimed) before signing::

    ggzy bid revoke --server https://ggzy.example --user alice --tender E320… --lot 001 --p12 sign.p12

Refusals print the server's field and rule and exit 1; ``verify-receipt`` exits 1 when the receipt
does not verify.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import click
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from bidding.client import cli_complaints, cli_hall
from bidding.client import format as fmt
from bidding.client.cli_inputs import (
    EXISTING_FILE,
    api_token,
    auth_options,
    load_certificate,
    load_signer,
    parse_deadline,
    reporting_refusals,
)
from bidding.client.fingerprint import DeviceFingerprint, device_fingerprint
from bidding.client.receipts import Receipt
from bidding.client.sdk import (
    BidBuildError,
    PriceSummary,
    ReceiptInvalid,
    bind_part,
    build_container,
    check_against_requirements,
    load_pem_certificates,
    read_built,
    verify_receipt,
)
from bidding.client.sync_client import SyncBidClient, receipt_json
from certs.cms import SigningIdentity
from certs.envelope.sealed_bid import AES_256_GCM, SM4_GCM, BidBinding


def _parse_items(items: tuple[str, ...]) -> list[tuple[str, Decimal]]:
    parsed = []
    for item in items:
        name, sep, price = item.rpartition("=")
        try:
            parsed.append((name, Decimal(price)))
        except InvalidOperation:
            sep = ""
        if not sep or not name:
            raise click.BadParameter(f"write items as NAME=PRICE, not {item!r}", param_hint="--item")
    return parsed


def _price_summary(
    *,
    tender: str,
    lot: str,
    bidder: str,
    price_file: Path | None,
    total_price: str | None,
    duration_days: int | None,
    items: tuple[str, ...],
    currency: str,
) -> PriceSummary:
    data: dict[str, Any] = json.loads(price_file.read_text(encoding="utf-8")) if price_file else {}
    total = total_price if total_price is not None else data.get("totalPrice")
    duration = duration_days if duration_days is not None else data.get("durationDays")
    if total is None or duration is None:
        raise click.UsageError("give the total price and the duration (options or --price-summary JSON)")
    listed = _parse_items(items) or [(str(i["name"]), Decimal(str(i["price"]))) for i in data.get("items", [])]
    try:
        amount = Decimal(str(total))
    except InvalidOperation:
        raise click.BadParameter(f"not an amount: {total}", param_hint="--total-price") from None
    return PriceSummary(
        tender=tender,
        lot=lot,
        bidder=bidder,
        currency=str(data.get("currency", currency)),
        total_price=amount,
        duration_days=int(duration),
        items=listed,
    )


def _tender_from_server(server: str, token: str, code: str, lot: str) -> tuple[datetime, list[x509.Certificate], int]:
    """Deadline and key-holder committee of a tender, from the server's tender resource."""
    tender = SyncBidClient(server, token).tender(code)
    deadline_text = tender.get("deadline")
    if not deadline_text:
        raise click.ClickException(f"tender {code} has no bid deadline yet")
    lots = [str(entry.get("code")) for entry in tender.get("lots", []) if isinstance(entry, dict)]
    if lots and lot not in lots:
        raise click.ClickException(f"tender {code} has no lot {lot} (lots: {', '.join(lots)})")
    # The tender resource lists the key-holder committee as ``keyHolders`` with ``keyThreshold``.
    committee = tender.get("keyHolders") or []
    holders = [x509.load_pem_x509_certificate(str(h["certificate"]).encode()) for h in committee]
    return parse_deadline(str(deadline_text)), holders, int(tender.get("keyThreshold") or 0)


def _progress(done: int, total: int) -> None:
    click.echo(f"\r{done}/{total} bytes ({done * 100 // max(total, 1)}%)", nl=False, err=True)


def _report_receipt(receipt: Receipt, receipt_dir: Path, roots: tuple[Path, ...], expected: dict[str, str]) -> None:
    json_path, p7s_path = receipt.save(receipt_dir)
    if roots:
        trust = [c for root in roots for c in load_pem_certificates(root.read_bytes())]
        try:
            receipt.verify(trust, expected=expected)
        except ReceiptInvalid as invalid:
            raise click.ClickException(
                f"the receipt does not verify ({invalid.reason}); kept in {json_path} for evidence"
            ) from None
        click.echo("receipt verified against the given CA", err=True)
    else:
        mismatched = [k for k, v in expected.items() if receipt.record.get(k) != v]
        if mismatched:
            raise click.ClickException(f"the receipt names other {', '.join(mismatched)} than the container sent")
    click.echo(receipt_json(receipt))
    click.echo(f"saved {json_path} and {p7s_path}", err=True)


@click.group()
def bid() -> None:
    """Bidder client: seal a bid offline, submit it resumably, verify the platform's receipts."""


@bid.command()
@click.argument("files", nargs=-1, required=True, type=EXISTING_FILE)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="the container to write")
@click.option("--tender", required=True, help="the tender's 统一交易标识码")
@click.option("--lot", required=True, help="the lot code")
@click.option("--bidder", required=True, help="the bidder's USCC (统一社会信用代码)")
@click.option("--deadline", default=None, help="ISO time with offset; fetched with --server when omitted")
@click.option("--server", default=None, help="fetch deadline and key holders of --tender from this platform")
@click.option("--token", envvar="GGZY_TOKEN", default=None, help="API token for --server")
@click.option("--p12", "p12_path", type=EXISTING_FILE, required=True, help="the signing certificate (PKCS#12)")
@click.option("--password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password")
@click.option("--encryption-cert", type=EXISTING_FILE, required=True, help="the bidder's encryption certificate")
@click.option("--key-holder", "key_holders", multiple=True, type=EXISTING_FILE, help="key holder certificate (n)")
@click.option("--threshold", default=0, show_default=True, help="key holders needed to open (k of n)")
@click.option("--price-summary", "price_file", type=EXISTING_FILE, default=None, help="price summary JSON")
@click.option("--total-price", default=None, help="total price, e.g. 1234567.89")
@click.option("--duration-days", type=int, default=None)
@click.option("--item", "items", multiple=True, help="a priced item, NAME=PRICE (repeatable)")
@click.option("--currency", default="CNY", show_default=True)
@click.option("--guarantee-form", type=click.Choice(["cash", "guarantee"]), default="cash", show_default=True)
@click.option("--guarantee-ref", default="", help="the guarantee (保函) number")
@click.option("--content-algorithm", type=click.Choice([AES_256_GCM, SM4_GCM]), default=AES_256_GCM, show_default=True)
@click.option("--seal-with", default=None, help="seal each part with this command (stdin plaintext, stdout CMS DER)")
@click.option("--encryption-key", type=EXISTING_FILE, default=None, help="PEM key; --seal-with and key holders")
@click.option(
    "--response", "response", type=EXISTING_FILE, default=None, help="structured response JSON (ggzy-response)"
)
@click.option(
    "--requirements",
    "requirements",
    type=EXISTING_FILE,
    default=None,
    help="the tender's requirement set (ggzy bid requirements): refuse a response that does not answer it",
)
@reporting_refusals
def seal(  # noqa: PLR0917 - one parameter per click option
    files: tuple[Path, ...],
    out: Path,
    tender: str,
    lot: str,
    bidder: str,
    deadline: str | None,
    server: str | None,
    token: str | None,
    p12_path: Path,
    password: str,
    encryption_cert: Path,
    key_holders: tuple[Path, ...],
    threshold: int,
    price_file: Path | None,
    total_price: str | None,
    duration_days: int | None,
    items: tuple[str, ...],
    currency: str,
    guarantee_form: str,
    guarantee_ref: str,
    content_algorithm: str,
    seal_with: str | None,
    encryption_key: Path | None,
    response: Path | None,
    requirements: Path | None,
) -> None:
    """Seal FILES and a price summary into a signed ``ggzy-bid/1`` container, offline; with
    ``--response`` the structured response goes into the package as ``ggzy-response.json``
    (checked first against ``--requirements``, the tender's published requirement set, if given).
    """
    if requirements is not None:
        if response is None:
            raise click.UsageError("--requirements checks a --response: give both")
        problems = check_against_requirements(response, requirements)
        if problems:
            raise click.ClickException("the response does not answer the requirement set:\n" + "\n".join(problems))
    holders = [load_certificate(p, "--key-holder") for p in key_holders]
    if server is not None:
        fetched_deadline, fetched_holders, fetched_threshold = _tender_from_server(server, token or "", tender, lot)
        bound_deadline = parse_deadline(deadline) if deadline else fetched_deadline
        if fetched_holders and not holders:
            holders, threshold = fetched_holders, fetched_threshold
    elif deadline is None:
        raise click.UsageError("give --deadline, or --server to fetch it")
    else:
        bound_deadline = parse_deadline(deadline)
    summary = _price_summary(
        tender=tender,
        lot=lot,
        bidder=bidder,
        price_file=price_file,
        total_price=total_price,
        duration_days=duration_days,
        items=items,
        currency=currency,
    )
    # Issue 19: the device fingerprint goes into the public manifest; the bidder is told so here.
    device = device_fingerprint()
    _disclose_device(device)
    built = build_container(
        out,
        tender=tender,
        lot=lot,
        bidder_uscc=bidder,
        deadline=bound_deadline,
        files=list(files),
        price_summary=summary,
        guarantee={"form": guarantee_form, "reference": guarantee_ref},
        signer=load_signer(p12_path, password),
        bidder_encryption=load_certificate(encryption_cert, "--encryption-cert"),
        key_holders=holders,
        threshold=threshold,
        content_algorithm=content_algorithm,
        sealer=_external_sealer(seal_with, encryption_key, holders, threshold) if seal_with else None,
        response=response,
        device=device,
    )
    click.echo(
        json.dumps(
            {
                "container": str(built.path),
                "size": built.size,
                "sha256": built.sha256,
                "manifestSha256": built.manifest_sha256,
                "parts": built.part_sha256,
                "deadline": bound_deadline.isoformat(),
                "keyHolders": len(holders),
                "threshold": threshold if holders else 0,
                "response": fmt.RESPONSE_FILE if response else None,
                "deviceFingerprint": device.manifest_entry() if device else None,
            },
            ensure_ascii=False,
            indent=2,
        )
    )


def _disclose_device(device: DeviceFingerprint | None) -> None:
    """Say what the manifest will carry about this machine (bidding.client.fingerprint)."""
    if device is None:
        click.echo("device fingerprint: none readable on this machine; the manifest carries none", err=True)
        return
    click.echo(
        f"device fingerprint (public manifest signals.deviceHash, seen by the platform): {device.device_hash}\n"
        f"  hashed from: {', '.join(device.identifiers)} (values stay on this machine)",
        err=True,
    )


def _external_sealer(
    command: str, key_path: Path | None, holders: list[x509.Certificate], threshold: int
) -> Callable[[bytes, BidBinding], bytes]:
    """``--seal-with``: the bidder's own tool seals each part, then the binding step (`bind_part`)."""
    if holders and key_path is None:
        raise click.UsageError("--seal-with and key holders need --encryption-key to split the content key")
    key = load_pem_private_key(key_path.read_bytes(), None) if key_path else None
    if key is not None and not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise click.UsageError("--encryption-key must be an EC or RSA key")

    def sealer(plaintext: bytes, binding: BidBinding) -> bytes:
        done = subprocess.run(shlex.split(command), input=plaintext, capture_output=True, check=False)  # noqa: S603
        if done.returncode != 0:
            msg = f"--seal-with failed ({done.returncode}): {done.stderr.decode(errors='replace')[:500]}"
            raise BidBuildError(msg)
        return bind_part(done.stdout, binding, key=key, key_holders=holders, threshold=threshold)

    return sealer


@bid.command("bind")
@click.argument("envelope", type=EXISTING_FILE)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="the bound envelope")
@click.option("--tender", required=True, help="the tender's 统一交易标识码")
@click.option("--lot", required=True, help="the lot code")
@click.option("--bidder", required=True, help="the bidder's USCC (统一社会信用代码)")
@click.option("--deadline", required=True, help="ISO time with offset")
@click.option("--manifest-sha256", required=True, help="SHA-256 of the package's inner manifest.json")
@reporting_refusals
def bind(  # noqa: PLR0917 - one parameter per click option
    envelope: Path, out: Path, tender: str, lot: str, bidder: str, deadline: str, manifest_sha256: str
) -> None:
    """Bind a CMS AuthEnvelopedData another tool wrote (DER) to a bid: the documented binding step
    (the binding as unauthenticated attributes; see `certs.envelope.cms_env`).
    """
    digest = manifest_sha256.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):  # noqa: PLR2004 - SHA-256 hex
        raise click.BadParameter("a SHA-256 in hex (64 digits)", param_hint="--manifest-sha256")
    binding = BidBinding(tender, lot, bidder, parse_deadline(deadline), digest)
    out.write_bytes(bind_part(envelope.read_bytes(), binding))
    click.echo(json.dumps({"envelope": str(out), "binding": binding.to_dict()}, ensure_ascii=False, indent=2))


_receipt_dir_option = click.option(
    "--receipt-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="where <receiptNo>.json and .p7s are saved",
)
_ca_option = click.option(
    "--ca", "ca", multiple=True, type=EXISTING_FILE, help="trusted platform root (PEM) to verify the receipt"
)


@bid.command()
@click.argument("container", type=EXISTING_FILE)
@auth_options
@_receipt_dir_option
@_ca_option
@click.option("--chunk-size", default=8 * 1024 * 1024, show_default=True, help="bytes per PATCH")
@reporting_refusals
def submit(  # noqa: PLR0917 - one parameter per click option
    container: Path,
    server: str,
    token: str | None,
    user: str | None,
    password: str | None,
    receipt_dir: Path,
    ca: tuple[Path, ...],
    chunk_size: int,
) -> None:
    """Upload CONTAINER (tender and lot from its manifest), resuming after interruptions, and save the receipt."""
    inspected = read_built(container)
    client = SyncBidClient(server, api_token(server, token, user, password))
    receipt = client.upload(
        inspected.manifest["tender"], inspected.manifest["lot"], container, chunk_size=chunk_size, on_progress=_progress
    )
    click.echo("", err=True)
    expected = {"containerSha256": inspected.sha256, "manifestSha256": inspected.manifest_sha256}
    _report_receipt(receipt, receipt_dir, ca, expected)


@bid.command()
@click.argument("upload_id")
@click.argument("container", type=EXISTING_FILE)
@auth_options
@_receipt_dir_option
@_ca_option
@reporting_refusals
def resume(  # noqa: PLR0917 - one parameter per click option
    upload_id: str,
    container: Path,
    server: str,
    token: str | None,
    user: str | None,
    password: str | None,
    receipt_dir: Path,
    ca: tuple[Path, ...],
) -> None:
    """Continue the interrupted upload UPLOAD_ID of CONTAINER from the server's offset, then submit."""
    inspected = read_built(container)
    client = SyncBidClient(server, api_token(server, token, user, password))
    receipt = client.resume(upload_id, container, on_progress=_progress)
    click.echo("", err=True)
    expected = {"containerSha256": inspected.sha256, "manifestSha256": inspected.manifest_sha256}
    _report_receipt(receipt, receipt_dir, ca, expected)


_ACT_OPTIONS: Final = (
    click.option("--tender", required=True),
    click.option("--lot", required=True),
    click.option("--p12", "p12_path", type=EXISTING_FILE, required=True, help="our signing certificate (PKCS#12)"),
    click.option(
        "--p12-password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password"
    ),
    auth_options,
    _receipt_dir_option,
    _ca_option,
    reporting_refusals,
)


def _act_on_bid(command: Callable[..., None]) -> Callable[..., None]:
    """The options of a signed act on our bid for a lot (``withdraw``, ``revoke``), in this order."""
    for option in reversed(_ACT_OPTIONS):
        command = option(command)
    return command


def _signed_act(
    act: Callable[[SyncBidClient, str, str, SigningIdentity], Receipt],
    *,
    tender: str,
    lot: str,
    p12_path: Path,
    p12_password: str,
    server: str,
    token: str | None,
    user: str | None,
    password: str | None,
    receipt_dir: Path,
    ca: tuple[Path, ...],
) -> None:
    """Sign ``act`` here with our signing certificate, send it, save (and with ``--ca`` verify) the receipt."""
    signer = load_signer(p12_path, p12_password)
    receipt = act(SyncBidClient(server, api_token(server, token, user, password)), tender, lot, signer)
    _report_receipt(receipt, receipt_dir, ca, {"tender": tender, "lot": lot})


@bid.command()
@_act_on_bid
def withdraw(**options: Any) -> None:
    """Withdraw the bid for a lot before the deadline, signed here with our signing certificate over
    the withdrawal statement (tender, lot, our USCC, the receipt of the version withdrawn); saves the
    withdrawal receipt.
    """
    _signed_act(SyncBidClient.withdraw, **options)


@bid.command()
@click.option("--yes", is_flag=True, help="we have read the consequence: do not ask")
@_act_on_bid
def revoke(yes: bool, **options: Any) -> None:  # noqa: FBT001 - a click flag
    """Revoke (撤销) the bid for a lot after the deadline, within the bid validity period, signed here
    with our signing certificate over the revocation statement (tender, lot, our USCC, the receipt of
    the version revoked, and the consequence: the bid security may be kept or claimed, 实施条例
    Art. 35); saves the revocation receipt. Before the deadline use ``withdraw`` (撤回).
    """
    click.echo(fmt.REVOCATION_CONSEQUENCE, err=True)
    if not yes:
        click.confirm("revoke the bid?", abort=True, err=True)
    _signed_act(SyncBidClient.revoke, **options)


@bid.command()
@click.option("--tender", default=None, help="only this tender")
@auth_options
@reporting_refusals
def status(tender: str | None, server: str, token: str | None, user: str | None, password: str | None) -> None:
    """List my bids with every version's receipt number."""
    bids = SyncBidClient(server, api_token(server, token, user, password)).my_bids(tender)
    summary = [
        {
            "tender": b.get("tender"),
            "lot": b.get("lot"),
            "status": b.get("status"),
            "versions": [
                {"number": v.get("number"), "kind": v.get("kind"), "receiptNo": v.get("receiptNo")}
                for v in b.get("versions", [])
            ],
        }
        for b in bids
    ]
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@bid.command()
@click.option("--tender", required=True, help="the tender's project code")
@click.option("--server", required=True, help="the platform, e.g. https://ggzy.example.cn")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="where to save it")
@reporting_refusals
def requirements(tender: str, server: str, out: Path | None) -> None:
    """Fetch the tender's published requirement set (ggzy-requirements) and check its SHA-256;
    build the structured response against it, then ``ggzy bid seal --response … --requirements …``.
    """
    content, stated = SyncBidClient(server, "").requirements(tender)
    digest = hashlib.sha256(content).hexdigest()
    if stated and stated != digest:
        raise click.ClickException(f"the downloaded set's SHA-256 is {digest}, the platform states {stated}")
    target = out or Path(f"{tender}-requirements.json")
    target.write_bytes(content)
    click.echo(json.dumps({"file": str(target), "sha256": digest, "size": len(content)}, ensure_ascii=False, indent=2))


@bid.command("verify-receipt")
@click.argument("receipt_path", type=EXISTING_FILE)
@click.option("--signature", type=EXISTING_FILE, default=None, help="the .p7s (default: next to the receipt)")
@click.option("--ca", "ca", multiple=True, type=EXISTING_FILE, required=True, help="trusted platform root (PEM)")
@click.option("--container", type=EXISTING_FILE, default=None, help="check the receipt names this container")
def verify_receipt_command(
    receipt_path: Path, signature: Path | None, ca: tuple[Path, ...], container: Path | None
) -> None:
    """Verify a saved receipt offline: exit 0 when it verifies, 1 (with the reason) when not."""
    signature = signature or receipt_path.with_suffix(".p7s")
    if not signature.is_file():
        raise click.BadParameter(f"{signature} not found", param_hint="--signature")
    expected = None
    if container is not None:
        inspected = read_built(container)
        expected = {"containerSha256": inspected.sha256, "manifestSha256": inspected.manifest_sha256}
    try:
        roots = [c for path in ca for c in load_pem_certificates(path.read_bytes())]
        record = verify_receipt(receipt_path.read_bytes(), signature.read_bytes(), roots, expected=expected)
    except ReceiptInvalid as invalid:
        click.echo(f"invalid: {invalid.reason}", err=True)
        raise SystemExit(1) from None
    click.echo(json.dumps(record, ensure_ascii=False, indent=2))
    click.echo("valid", err=True)


for _command in cli_hall.COMMANDS:
    bid.add_command(_command)
bid.add_command(cli_complaints.complain_command)
