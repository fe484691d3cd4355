"""What every ``ggzy bid`` command shares: refusals reported as one line, the server options and
the API token, and reading keys, certificates and times from the command line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from bidding.client import format as fmt
from bidding.client.problems import BidRejected, LocalRefusal
from bidding.client.sdk import BidBuildError
from bidding.client.sync_client import login_sync
from certs.cms import SigningIdentity
from certs.errors import Refused

P = ParamSpec("P")
R = TypeVar("R")

EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def reporting_refusals(command: Callable[P, R]) -> Callable[P, R]:
    """Turn refusals into a one-line message and exit status 1 instead of a traceback."""

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


def load_signer(p12_path: Path, password: str) -> SigningIdentity:
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


def load_certificate(path: Path, hint: str) -> x509.Certificate:
    data = path.read_bytes()
    try:
        return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise click.BadParameter(f"{path} is not a certificate: {exc}", param_hint=hint) from None


def parse_deadline(text: str) -> datetime:
    try:
        deadline = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"not an ISO time: {text}", param_hint="--deadline") from None
    if deadline.tzinfo is None:
        raise click.BadParameter("give the deadline with its offset, e.g. +08:00", param_hint="--deadline")
    return deadline


def api_token(server: str, token: str | None, user: str | None, password: str | None) -> str:
    if token:
        return token
    if not user:
        raise click.UsageError("authenticate with --token (or GGZY_TOKEN), or --user and --password")
    secret = password if password is not None else click.prompt("password", hide_input=True)
    return login_sync(server, user, secret)


def auth_options(command: Callable[P, R]) -> Callable[P, R]:
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


def load_decryption_key(p12_path: Path, password: str) -> tuple[Any, x509.Certificate]:
    try:
        key, certificate, _ = pkcs12.load_key_and_certificates(p12_path.read_bytes(), password.encode())
    except ValueError as exc:
        raise click.BadParameter(f"cannot read {p12_path}: {exc}", param_hint="--p12") from None
    if certificate is None or not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise click.BadParameter(f"{p12_path} holds no usable decryption key and certificate", param_hint="--p12")
    return key, certificate
