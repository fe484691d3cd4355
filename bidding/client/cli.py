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

Refusals print the server's field and rule and exit 1; ``verify-receipt`` exits 1 when the receipt
does not verify.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

from bidding.client import format as fmt
from bidding.client.sdk import (
    BidBuildError,
    PriceSummary,
    ReceiptInvalid,
    bind_part,
    build_container,
    load_pem_certificates,
    read_built,
    sign_record,
    verify_receipt,
)
from bidding.client.transport import (
    BidRejected,
    LocalRefusal,
    Receipt,
    SyncBidClient,
    checked_price_table,
    confirm_price_table,
    decrypt_bid,
    expect_price_table,
    file_signed_objection,
    login_sync,
    our_bidder_uscc,
    receipt_json,
    release_holder_shares,
    sign_in_signed,
)
from certs.cms import SigningIdentity
from certs.envelope.sealed_bid import AES_256_GCM, SM4_GCM, BidBinding
from certs.errors import Refused
from certs.tsa.client import HttpTsa

P = ParamSpec("P")
R = TypeVar("R")

_EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _reporting_refusals(command: Callable[P, R]) -> Callable[P, R]:
    """Turn refusals into a one-line message and exit status 1 instead of a traceback."""
    import functools  # noqa: PLC0415 - only the decorator needs it

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except BidRejected as rejected:
            raise click.ClickException(f"refused: {rejected}") from None
        except LocalRefusal as refusal:
            raise click.ClickException(f"refused here, nothing sent: {refusal}") from None
        except (BidBuildError, fmt.ContainerRefused) as error:
            raise click.ClickException(str(error)) from None
        except Refused as refusal:
            raise click.ClickException(f"{refusal.reason}: {refusal.text}") from None
        except httpx.HTTPError as error:  # the platform unreachable, a dropped connection …
            raise click.ClickException(f"cannot reach the platform: {error}") from None

    return run


# --- inputs -----------------------------------------------------------------------------------


def _load_signer(p12_path: Path, password: str) -> SigningIdentity:
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(p12_path.read_bytes(), password.encode())
    except ValueError as exc:
        raise click.BadParameter(f"cannot read {p12_path}: {exc}", param_hint="--p12") from None
    if certificate is None or not isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise click.BadParameter(f"{p12_path} holds no usable signing key and certificate", param_hint="--p12")
    intermediates = [c for c in chain if c.issuer != c.subject]  # the root is the verifier's business
    return SigningIdentity.from_key(key, certificate, intermediates)


def _load_certificate(path: Path, hint: str) -> x509.Certificate:
    data = path.read_bytes()
    try:
        return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise click.BadParameter(f"{path} is not a certificate: {exc}", param_hint=hint) from None


def _parse_deadline(text: str) -> datetime:
    try:
        deadline = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"not an ISO time: {text}", param_hint="--deadline") from None
    if deadline.tzinfo is None:
        raise click.BadParameter("give the deadline with its offset, e.g. +08:00", param_hint="--deadline")
    return deadline


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
    return _parse_deadline(str(deadline_text)), holders, int(tender.get("keyThreshold") or 0)


def _token(server: str, token: str | None, user: str | None, password: str | None) -> str:
    if token:
        return token
    if not user:
        raise click.UsageError("authenticate with --token (or GGZY_TOKEN), or --user and --password")
    secret = password if password is not None else click.prompt("password", hide_input=True)
    return login_sync(server, user, secret)


def _auth_options(command: Callable[P, R]) -> Callable[P, R]:
    for option in reversed(
        (
            click.option("--server", envvar="GGZY_SERVER", required=True, help="the platform, https://…"),
            click.option("--token", envvar="GGZY_TOKEN", default=None, help="an API token (POST /api/v1/auth/tokens)"),
            click.option("--user", default=None, help="log in with this user instead of a token"),
            click.option("--password", envvar="GGZY_PASSWORD", default=None, help="prompted when missing"),
        )
    ):
        command = option(command)
    return command


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


# --- commands ---------------------------------------------------------------------------------


@click.group()
def bid() -> None:
    """Bidder client: seal a bid offline, submit it resumably, verify the platform's receipts."""


@bid.command()
@click.argument("files", nargs=-1, required=True, type=_EXISTING_FILE)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="the container to write")
@click.option("--tender", required=True, help="the tender's 统一交易标识码")
@click.option("--lot", required=True, help="the lot code")
@click.option("--bidder", required=True, help="the bidder's USCC (统一社会信用代码)")
@click.option("--deadline", default=None, help="ISO time with offset; fetched with --server when omitted")
@click.option("--server", default=None, help="fetch deadline and key holders of --tender from this platform")
@click.option("--token", envvar="GGZY_TOKEN", default=None, help="API token for --server")
@click.option("--p12", "p12_path", type=_EXISTING_FILE, required=True, help="the signing certificate (PKCS#12)")
@click.option("--password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password")
@click.option("--encryption-cert", type=_EXISTING_FILE, required=True, help="the bidder's encryption certificate")
@click.option("--key-holder", "key_holders", multiple=True, type=_EXISTING_FILE, help="key holder certificate (n)")
@click.option("--threshold", default=0, show_default=True, help="key holders needed to open (k of n)")
@click.option("--price-summary", "price_file", type=_EXISTING_FILE, default=None, help="price summary JSON")
@click.option("--total-price", default=None, help="total price, e.g. 1234567.89")
@click.option("--duration-days", type=int, default=None)
@click.option("--item", "items", multiple=True, help="a priced item, NAME=PRICE (repeatable)")
@click.option("--currency", default="CNY", show_default=True)
@click.option("--guarantee-form", type=click.Choice(["cash", "guarantee"]), default="cash", show_default=True)
@click.option("--guarantee-ref", default="", help="the guarantee (保函) number")
@click.option("--content-algorithm", type=click.Choice([AES_256_GCM, SM4_GCM]), default=AES_256_GCM, show_default=True)
@click.option("--seal-with", default=None, help="seal each part with this command (stdin plaintext, stdout CMS DER)")
@click.option("--encryption-key", type=_EXISTING_FILE, default=None, help="PEM key; --seal-with and key holders")
@_reporting_refusals
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
) -> None:
    """Seal FILES and a price summary into a signed ``ggzy-bid/1`` container, offline."""
    holders = [_load_certificate(p, "--key-holder") for p in key_holders]
    if server is not None:
        fetched_deadline, fetched_holders, fetched_threshold = _tender_from_server(server, token or "", tender, lot)
        bound_deadline = _parse_deadline(deadline) if deadline else fetched_deadline
        if fetched_holders and not holders:
            holders, threshold = fetched_holders, fetched_threshold
    elif deadline is None:
        raise click.UsageError("give --deadline, or --server to fetch it")
    else:
        bound_deadline = _parse_deadline(deadline)
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
    built = build_container(
        out,
        tender=tender,
        lot=lot,
        bidder_uscc=bidder,
        deadline=bound_deadline,
        files=list(files),
        price_summary=summary,
        guarantee={"form": guarantee_form, "reference": guarantee_ref},
        signer=_load_signer(p12_path, password),
        bidder_encryption=_load_certificate(encryption_cert, "--encryption-cert"),
        key_holders=holders,
        threshold=threshold,
        content_algorithm=content_algorithm,
        sealer=_external_sealer(seal_with, encryption_key, holders, threshold) if seal_with else None,
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
            },
            ensure_ascii=False,
            indent=2,
        )
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
@click.argument("envelope", type=_EXISTING_FILE)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="the bound envelope")
@click.option("--tender", required=True, help="the tender's 统一交易标识码")
@click.option("--lot", required=True, help="the lot code")
@click.option("--bidder", required=True, help="the bidder's USCC (统一社会信用代码)")
@click.option("--deadline", required=True, help="ISO time with offset")
@click.option("--manifest-sha256", required=True, help="SHA-256 of the package's inner manifest.json")
@_reporting_refusals
def bind(  # noqa: PLR0917 - one parameter per click option
    envelope: Path, out: Path, tender: str, lot: str, bidder: str, deadline: str, manifest_sha256: str
) -> None:
    """Bind a CMS AuthEnvelopedData another tool wrote (DER) to a bid: the documented binding step
    (the binding as unauthenticated attributes; see `certs.envelope.cms_env`).
    """
    digest = manifest_sha256.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):  # noqa: PLR2004 - SHA-256 hex
        raise click.BadParameter("a SHA-256 in hex (64 digits)", param_hint="--manifest-sha256")
    binding = BidBinding(tender, lot, bidder, _parse_deadline(deadline), digest)
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
    "--ca", "ca", multiple=True, type=_EXISTING_FILE, help="trusted platform root (PEM) to verify the receipt"
)


@bid.command()
@click.argument("container", type=_EXISTING_FILE)
@_auth_options
@_receipt_dir_option
@_ca_option
@click.option("--chunk-size", default=8 * 1024 * 1024, show_default=True, help="bytes per PATCH")
@_reporting_refusals
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
    client = SyncBidClient(server, _token(server, token, user, password))
    receipt = client.upload(
        inspected.manifest["tender"], inspected.manifest["lot"], container, chunk_size=chunk_size, on_progress=_progress
    )
    click.echo("", err=True)
    expected = {"containerSha256": inspected.sha256, "manifestSha256": inspected.manifest_sha256}
    _report_receipt(receipt, receipt_dir, ca, expected)


@bid.command()
@click.argument("upload_id")
@click.argument("container", type=_EXISTING_FILE)
@_auth_options
@_receipt_dir_option
@_ca_option
@_reporting_refusals
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
    client = SyncBidClient(server, _token(server, token, user, password))
    receipt = client.resume(upload_id, container, on_progress=_progress)
    click.echo("", err=True)
    expected = {"containerSha256": inspected.sha256, "manifestSha256": inspected.manifest_sha256}
    _report_receipt(receipt, receipt_dir, ca, expected)


@bid.command()
@click.option("--tender", required=True)
@click.option("--lot", required=True)
@click.option("--p12", "p12_path", type=_EXISTING_FILE, required=True, help="our signing certificate (PKCS#12)")
@click.option("--p12-password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password")
@_auth_options
@_receipt_dir_option
@_ca_option
@_reporting_refusals
def withdraw(  # noqa: PLR0917 - one parameter per click option
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
    """Withdraw the bid for a lot before the deadline, signed here with our signing certificate over
    the withdrawal statement (tender, lot, our USCC, the receipt of the version withdrawn); saves the
    withdrawal receipt.
    """
    signer = _load_signer(p12_path, p12_password)
    receipt = SyncBidClient(server, _token(server, token, user, password)).withdraw(tender, lot, signer)
    _report_receipt(receipt, receipt_dir, ca, {"tender": tender, "lot": lot})


@bid.command()
@click.option("--tender", default=None, help="only this tender")
@_auth_options
@_reporting_refusals
def status(tender: str | None, server: str, token: str | None, user: str | None, password: str | None) -> None:
    """List my bids with every version's receipt number."""
    bids = SyncBidClient(server, _token(server, token, user, password)).my_bids(tender)
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


@bid.command("verify-receipt")
@click.argument("receipt_path", type=_EXISTING_FILE)
@click.option("--signature", type=_EXISTING_FILE, default=None, help="the .p7s (default: next to the receipt)")
@click.option("--ca", "ca", multiple=True, type=_EXISTING_FILE, required=True, help="trusted platform root (PEM)")
@click.option("--container", type=_EXISTING_FILE, default=None, help="check the receipt names this container")
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


# --- the opening hall -------------------------------------------------------------------------


def _load_decryption_key(p12_path: Path, password: str) -> tuple[Any, x509.Certificate]:
    try:
        key, certificate, _ = pkcs12.load_key_and_certificates(p12_path.read_bytes(), password.encode())
    except ValueError as exc:
        raise click.BadParameter(f"cannot read {p12_path}: {exc}", param_hint="--p12") from None
    if certificate is None or not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise click.BadParameter(f"{p12_path} holds no usable decryption key and certificate", param_hint="--p12")
    return key, certificate


@bid.command()
@click.option("--tender", required=True)
@click.option("--lot", required=True)
@click.option("--bidder", required=True, help="our USCC (the envelopes must name it)")
@click.option("--p12", "p12_path", type=_EXISTING_FILE, required=True, help="the encryption certificate (PKCS#12)")
@click.option("--p12-password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True)
@_auth_options
@_reporting_refusals
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
    key, _ = _load_decryption_key(p12_path, p12_password)
    client = SyncBidClient(server, _token(server, token, user, password))
    answer = client.run(lambda c: decrypt_bid(c, tender, lot, bidder, key))
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))


@bid.command("release-share")
@click.option("--tender", required=True)
@click.option("--lot", required=True)
@click.option("--bidder", required=True, help="the USCC of the bid to open through the escrow")
@click.option("--p12", "p12_path", type=_EXISTING_FILE, required=True, help="the key holder's encryption PKCS#12")
@click.option("--p12-password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True)
@click.option("--sign-p12", type=_EXISTING_FILE, default=None, help="the holder's signing PKCS#12 (default: --p12)")
@click.option("--sign-password", envvar="GGZY_SIGN_PASSWORD", default=None, help="default: --p12-password")
@_auth_options
@_reporting_refusals
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
    key, certificate = _load_decryption_key(p12_path, p12_password)
    signer = _load_signer(sign_p12 or p12_path, sign_password if sign_password is not None else p12_password)
    client = SyncBidClient(server, _token(server, token, user, password))
    answer = client.run(
        lambda c: release_holder_shares(c, tender, lot, bidder, holder=certificate, key=key, signer=signer)
    )
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))


@bid.command("sign-record")
@click.option("--p12", "p12_path", type=_EXISTING_FILE, required=True, help="the host's signing certificate (PKCS#12)")
@click.option("--password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password")
@click.option("--in", "in_path", type=_EXISTING_FILE, required=True, help="the platform-signed record (record.pdf)")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--tsa", "tsa_url", required=True, help="an RFC 3161 TSA, e.g. https://ggzy.example/api/v1/tsa")
@click.option("--reason", default="开标主持人确认开标记录", show_default=True)
@_reporting_refusals
def sign_record_command(  # noqa: PLR0917 - one parameter per click option
    p12_path: Path, password: str, in_path: Path, out_path: Path, tsa_url: str, reason: str
) -> None:
    """Sign the opening record as its host: an incremental PAdES signature, timestamped, appended to
    the platform-signed PDF (``GET /api/v1/bidding/opening/{code}/record.pdf``). Upload the result to
    ``POST /api/v1/bidding/opening/{code}/record/host-signature``.
    """
    import asyncio  # noqa: PLC0415 - only this command runs a coroutine directly

    signer = _load_signer(p12_path, password)
    pdf = in_path.read_bytes()
    if not pdf.startswith(b"%PDF-"):
        raise click.BadParameter(f"{in_path} is not a PDF", param_hint="--in")
    signed = asyncio.run(sign_record(pdf, signer, tsa=HttpTsa(tsa_url), reason=reason))
    out_path.write_bytes(signed)
    click.echo(f"{out_path}: {len(signed)} bytes, signed by {signer.certificate.subject.rfc4514_string()}")


_bidder_option = click.option(
    "--bidder", default=None, help="our USCC (default: the one our receipts for --tender name)"
)
_sign_p12_option = click.option(
    "--p12", "p12_path", type=_EXISTING_FILE, required=True, help="our signing certificate (PKCS#12)"
)
_p12_password_option = click.option(
    "--p12-password", envvar="GGZY_P12_PASSWORD", prompt=True, hide_input=True, help="the PKCS#12 password"
)


@bid.command("sign-in")
@click.option("--tender", required=True)
@_bidder_option
@_sign_p12_option
@_p12_password_option
@_auth_options
@_reporting_refusals
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
    signer = _load_signer(p12_path, p12_password)
    client = SyncBidClient(server, _token(server, token, user, password))
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


@bid.command("object")
@click.option("--tender", required=True)
@click.option("--text", default=None, help="the objection (异议), as filed and signed")
@click.option("--text-file", type=_EXISTING_FILE, default=None, help="read the objection from this UTF-8 file")
@_bidder_option
@_sign_p12_option
@_p12_password_option
@_auth_options
@_reporting_refusals
def object_command(  # noqa: PLR0917 - one parameter per click option
    tender: str,
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
    stage ends.
    """
    statement_text = _objection_text(text, text_file)
    signer = _load_signer(p12_path, p12_password)
    client = SyncBidClient(server, _token(server, token, user, password))
    uscc = bidder or client.run(lambda c: our_bidder_uscc(c, tender))
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


@bid.command("confirm")
@click.option("--tender", required=True)
@_bidder_option
@_sign_p12_option
@_p12_password_option
@click.option(
    "--expect-sha256", default=None, help="send nothing unless the price table still has this SHA-256 (reviewed)"
)
@_auth_options
@_reporting_refusals
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
    signer = _load_signer(p12_path, p12_password)
    client = SyncBidClient(server, _token(server, token, user, password))
    table, digest = checked_price_table(client.run(lambda c: c.opening(tender)))
    uscc = bidder or client.run(lambda c: our_bidder_uscc(c, tender))
    _show_price_table(tender, table, digest, uscc)
    expect_price_table(digest, expect_sha256)
    answer = client.run(lambda c: confirm_price_table(c, tender, uscc, digest, signer))
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
