"""``python -m trading.guarantees.client {run,once,answer-claim,status}`` — the guarantor's own system.

Configuration by flags or environment (flags win):

==================  ==========================  ===============================================
flag                environment                 meaning
==================  ==========================  ===============================================
``--platform``      ``GUARANTOR_PLATFORM_URL``  the platform's base URL (``http://127.0.0.1:8000``)
``--cert``          ``GUARANTOR_CERT``          PEM: the guarantor's certificate, then its chain
``--key``           ``GUARANTOR_KEY``           PEM: its private key (PKCS#8 or traditional)
``--p12``           ``GUARANTOR_P12``           or both in one PKCS#12 file (instead of the two)
(none)              ``GUARANTOR_KEY_PASSWORD``  the key's (or PKCS#12's) password, if encrypted
``--tsa``           ``GUARANTOR_TSA_URL``       RFC 3161 TSA (default: the platform's ``/api/v1/tsa``)
``--approve-up-to`` ``GUARANTOR_APPROVE_UP_TO`` approve up to this many yuan, refuse above
``--poll-seconds``  ``GUARANTOR_POLL_SECONDS``  ``run``: seconds between passes (default 5)
``--issuer-type``   ``GUARANTOR_ISSUER_TYPE``   ``bank`` / ``insurer`` / ``guarantor``
``--branch``        ``GUARANTOR_BRANCH``        the issuing branch printed on the guarantee
==================  ==========================  ===============================================

Logs go to stderr: application and guarantee numbers and outcomes, never keys, passwords or files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

from certs.cms import SigningIdentity
from certs.tsa.client import HttpTsa
from trading.guarantees.client.issuer import IssuerFacts
from trading.guarantees.client.platform import Platform
from trading.guarantees.client.worker import Guarantor, Policy
from trading.guarantees.document import IssuerType

log = logging.getLogger("guarantor.client")


def _parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m trading.guarantees.client", description=__doc__.splitlines()[0])
    parser.add_argument("--platform", default=env("GUARANTOR_PLATFORM_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--cert", default=env("GUARANTOR_CERT"), help="certificate PEM (leaf first, then chain)")
    parser.add_argument("--key", default=env("GUARANTOR_KEY"), help="private key PEM")
    parser.add_argument("--p12", default=env("GUARANTOR_P12"), help="PKCS#12 with key, certificate and chain")
    parser.add_argument("--tsa", default=env("GUARANTOR_TSA_URL"), help="TSA URL (default: <platform>/api/v1/tsa)")
    parser.add_argument("--approve-up-to", type=Decimal, default=env("GUARANTOR_APPROVE_UP_TO"))
    parser.add_argument("--poll-seconds", type=float, default=float(env("GUARANTOR_POLL_SECONDS", "5")))
    parser.add_argument(
        "--issuer-type", choices=[t.value for t in IssuerType], default=env("GUARANTOR_ISSUER_TYPE", "bank")
    )
    parser.add_argument("--branch", default=env("GUARANTOR_BRANCH", ""))
    parser.add_argument("--manual-claims", action="store_true", help="never pay claims automatically")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="poll and work the queue until stopped (SIGTERM/SIGINT)")
    commands.add_parser("once", help="one pass over the queue, claims and releases; prints what was done")
    answer = commands.add_parser("answer-claim", help="answer one claim by hand")
    answer.add_argument("claim_id")
    answer.add_argument("--pay", action=argparse.BooleanOptionalAction, required=True)
    answer.add_argument("--answer", required=True)
    commands.add_parser("status", help="print the queue, filed claims and pending releases as JSON")
    return parser


def _load(
    args: argparse.Namespace,
) -> tuple[SigningIdentity, x509.Certificate, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey]:
    password = os.environ.get("GUARANTOR_KEY_PASSWORD")
    secret = password.encode() if password else None
    if args.p12:
        key, leaf, extra = pkcs12.load_key_and_certificates(Path(args.p12).read_bytes(), secret)
        if leaf is None:
            raise SystemExit("the PKCS#12 file holds no certificate")
        chain = [leaf, *extra]
    elif args.cert and args.key:
        chain = x509.load_pem_x509_certificates(Path(args.cert).read_bytes())
        key = load_pem_private_key(Path(args.key).read_bytes(), secret)
    else:
        raise SystemExit("--cert and --key, or --p12 (or GUARANTOR_CERT / GUARANTOR_KEY / GUARANTOR_P12), are required")
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SystemExit("the key must be ECDSA P-256 or RSA")
    return SigningIdentity.from_key(key, chain[0], chain[1:]), chain[0], key


async def _main(args: argparse.Namespace) -> int:
    identity, certificate, key = _load(args)
    async with httpx.AsyncClient(timeout=60.0) as http:
        platform = Platform(args.platform, key, certificate, http)
        guarantor = Guarantor(
            platform=platform,
            identity=identity,
            issuer=IssuerFacts.of(certificate, type_=IssuerType(args.issuer_type), branch=args.branch),
            tsa=HttpTsa(args.tsa or f"{args.platform.rstrip('/')}/api/v1/tsa"),
            policy=Policy(approve_up_to=args.approve_up_to, pay_statutory_claims=not args.manual_claims),
        )
        if args.command == "run":
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            log.info("guarantor client polling %s every %ss", args.platform, args.poll_seconds)
            await guarantor.run(args.poll_seconds, stop)
            log.info("guarantor client stopped")
        elif args.command == "once":
            tally = await guarantor.once()
            print(json.dumps(tally.__dict__, ensure_ascii=False))  # noqa: T201 - the command's output
        elif args.command == "answer-claim":
            result = await guarantor.answer_claim(args.claim_id, pay=args.pay, answer=args.answer)
            print(json.dumps(result, ensure_ascii=False))  # noqa: T201
        else:
            status = {
                "applications": await platform.get("/applications", {"status": "applied,paid"}),
                "claims": await platform.get("/claims", {"status": "filed"}),
                "releases": await platform.get("/releases", {"status": "pending"}),
            }
            print(json.dumps(status, ensure_ascii=False, indent=2))  # noqa: T201
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    return asyncio.run(_main(_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
