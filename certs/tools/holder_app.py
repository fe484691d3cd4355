"""A small CLI playing the credential holder's app (电子营业执照 / 身份证电子证照 app) for QR login.

The wallet is a JSON file holding the credential and the holder's private key (PEM)::

    python -m certs.tools.holder_app show --wallet wallet.json
    python -m certs.tools.holder_app respond --wallet wallet.json --payload 'ggzy-login:…'
    python -m certs.tools.holder_app respond --wallet wallet.json --qr-image login.png

``respond`` reads the challenge from the text the QR code carries (or decodes the image with
``zbarimg``, Debian package ``zbar-tools``), shows which site asks, signs, and prints the response
JSON the platform's ``verify_qr_login`` accepts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from certs.auth.credentials import Credential, parse_qr_payload, respond_to_qr
from certs.providers.pyca import PrivateKey, PycaSigner


def make_wallet(credential: Credential, holder_key: PrivateKey, kind: str) -> dict[str, Any]:
    """The wallet file content for ``credential`` and its holder key."""
    pem = holder_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {"kind": kind, "credential": credential.to_dict(), "holderKey": pem.decode()}


def _load_wallet(path: Path) -> tuple[Credential, PrivateKey, dict[str, Any]]:
    wallet = json.loads(path.read_text(encoding="utf-8"))
    key = serialization.load_pem_private_key(wallet["holderKey"].encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        msg = "unsupported holder key"
        raise SystemExit(msg)
    return Credential.from_dict(wallet["credential"]), key, wallet


def _decode_qr(image: Path) -> str:
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        msg = "decoding a QR image needs zbarimg (apt-get install zbar-tools); pass --payload instead"
        raise SystemExit(msg)
    # One ImageMagick thread: under a loaded machine its thread pool is what fails to start, and a
    # single small PNG gains nothing from more.
    env = {**os.environ, "MAGICK_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([zbarimg, "--raw", "-q", str(image)], capture_output=True, text=True, check=False, env=env)  # noqa: S603
    if result.returncode != 0 or not result.stdout.strip():
        msg = f"zbarimg could not read a QR code in {image} (exit {result.returncode}): {result.stderr.strip()}"
        raise SystemExit(msg)
    return result.stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="holder_app", description="Play the credential holder's app.")
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="show the credential in the wallet")
    show.add_argument("--wallet", type=Path, required=True)
    respond = commands.add_parser("respond", help="sign a login challenge")
    respond.add_argument("--wallet", type=Path, required=True)
    source = respond.add_mutually_exclusive_group(required=True)
    source.add_argument("--payload", help="the text of the QR code")
    source.add_argument("--qr-image", type=Path, help="a PNG of the QR code (decoded with zbarimg)")
    args = parser.parse_args(argv)

    credential, key, wallet = _load_wallet(args.wallet)
    if args.command == "show":
        document = json.loads(credential.document)
        print(json.dumps({"kind": wallet["kind"], **document}, ensure_ascii=False, indent=2))  # noqa: T201
        return 0
    payload = args.payload if args.payload is not None else _decode_qr(args.qr_image)
    challenge = parse_qr_payload(payload)
    print(f"{challenge.origin} asks to log in (expires {challenge.expires_at.isoformat()})", file=sys.stderr)  # noqa: T201
    response = respond_to_qr(payload, credential, PycaSigner(key))
    print(json.dumps(response.to_dict(), ensure_ascii=False))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
