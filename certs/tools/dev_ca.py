"""Write the development CAs, leaves, CRLs, signed trust lists and holder wallets to a directory.

For demos and tests (issue 3, item 9; ``ggzy certs dev-ca`` calls `write_dev_ca`)::

    python -m certs.tools.dev_ca OUT_DIR [--password dev]

Layout of ``OUT_DIR``:

* ``ca/<name>.pem`` and ``crl/<name>.crl`` for every CA (Jiangsu and Anhui hierarchies, platform,
  guarantor, credential issuer, rogue);
* ``p12/<name>.p12`` (password ``--password``) and ``pem/<name>.pem`` for every leaf: organisations
  and people, TSA, trust-list operators, platform seal, guarantor, credential issuers, key holders;
* ``trust-list.json`` + ``trust-list.p7s`` (ours) and ``peer-trust-list.json`` + ``.p7s`` (Anhui),
  signed by their operators and timestamped by the platform TSA;
* ``wallets/licence.json`` and ``wallets/e-id.json`` for the holder app;
* ``manifest.json`` naming each file, its subject, USCC or ID number, and fingerprint.

Everything is generated fresh (private keys included): never use it outside development.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from certs.auth.credentials import CredentialKind, issue_credential
from certs.devpki.devlist import dev_trust_list, peer_trust_list
from certs.devpki.pki import DEMO_TENDEREE_USCC, DevPki, Identity, build_dev_pki, new_key
from certs.providers.pyca import public_key_der
from certs.tools.holder_app import make_wallet
from certs.trustlist.sign import publish
from certs.tsa.client import LocalTsa
from certs.tsa.server import TimeStampAuthority

_LEAVES = (
    "org_sign",
    "org_enc",
    "tenderee_sign",
    "person_sign",
    "anhui_org_sign",
    "anhui_org_enc",
    "revoked",
    "expired",
    "not_yet_valid",
    "rogue_leaf",
    "tsa",
    "operator",
    "peer_operator",
    "platform_signer",
    "guarantor",
    "licence_issuer",
    "eid_issuer",
)
_CAS = (
    "jiangsu_root",
    "jiangsu_ca",
    "anhui_root",
    "anhui_ca",
    "platform_root",
    "platform_ca",
    "guarantor_ca",
    "credential_ca",
    "rogue_ca",
)


async def build_dev_ca(
    *, password: bytes = b"dev", pki: DevPki | None = None
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Generate everything in memory: the files (relative path → bytes) and the manifest."""
    pki = pki or build_dev_pki()
    files: dict[str, bytes] = {}

    def _write(relative: str, data: bytes) -> str:
        files[relative] = data
        return relative

    manifest: dict[str, Any] = {
        "generated": pki.now.isoformat(),
        "password": password.decode(),
        "cas": {},
        "leaves": {},
    }
    for name in _CAS:
        ca = getattr(pki, name)
        crl = ca.crl(pki.now - timedelta(hours=1), pki.now + timedelta(days=30))
        manifest["cas"][name] = {
            "subject": ca.certificate.subject.rfc4514_string(),
            "certificate": _write(f"ca/{name}.pem", ca.identity.cert_pem),
            "crl": _write(f"crl/{name}.crl", crl.public_bytes(serialization.Encoding.DER)),
            "crlUrl": ca.crl_url,
            "sha256": ca.identity.fingerprint,
        }
    leaves: list[tuple[str, Identity]] = [(name, getattr(pki, name)) for name in _LEAVES]
    leaves += [(f"key_holder_{i + 1}", holder) for i, holder in enumerate(pki.key_holders)]
    for name, identity in leaves:
        manifest["leaves"][name] = {
            "subject": identity.certificate.subject.rfc4514_string(),
            "p12": _write(f"p12/{name}.p12", identity.pkcs12(password, name)),
            "pem": _write(f"pem/{name}.pem", identity.cert_pem + identity.chain_pem),
            "sha256": identity.fingerprint,
        }
    manifest["identifiers"] = {
        "org": pki.org_uscc,
        "anhuiOrg": pki.anhui_uscc,
        "person": pki.person_id_number,
        "tenderee": DEMO_TENDEREE_USCC,
    }

    serials = itertools.count(1)
    tsa = LocalTsa(TimeStampAuthority(pki.tsa.signing(), clock=lambda: pki.now, serials=lambda: next(serials)))
    own = await publish(dev_trust_list(pki), pki.operator.signing(), tsa=tsa)
    peer = await publish(peer_trust_list(pki), pki.peer_operator.signing(), tsa=tsa)
    manifest["trustLists"] = {
        "own": [_write("trust-list.json", own.document), _write("trust-list.p7s", own.signature)],
        "peer": [
            _write("peer-trust-list.json", peer.document),
            _write("peer-trust-list.p7s", peer.signature),
        ],
    }

    wallets = {}
    for kind, issuer, subject in (
        (
            CredentialKind.LICENCE,
            pki.licence_issuer,
            {"uscc": pki.org_uscc, "name": "南京示例建设工程有限公司", "legalRepresentative": "王五"},
        ),
        (CredentialKind.EID, pki.eid_issuer, {"idNumber": pki.person_id_number, "name": "张三"}),
    ):
        holder = new_key("p256")
        credential = await issue_credential(
            issuer.signing(),
            kind,
            subject,
            public_key_der(holder),
            serial=f"DEV-{kind.value}-1",
            issued=pki.now - timedelta(days=1),
            expires=pki.now + timedelta(days=365),
            tsa=tsa,
        )
        wallet = json.dumps(make_wallet(credential, holder, kind.value), ensure_ascii=False, indent=2).encode()
        wallets[kind.value] = _write(f"wallets/{kind.value}.json", wallet)
    manifest["wallets"] = wallets
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    return files, manifest


def write_files(out: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_dev_ca(out: Path, *, password: bytes = b"dev") -> dict[str, Any]:
    """Generate the development PKI into ``out``; returns the manifest (also written as ``manifest.json``)."""
    files, manifest = asyncio.run(build_dev_ca(password=password))
    write_files(out, files)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dev_ca", description="Write the development PKI and trust lists.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--password", default="dev", help="PKCS#12 password (default: dev)")
    args = parser.parse_args(argv)
    manifest = write_dev_ca(args.out, password=args.password.encode())
    print(f"wrote {len(manifest['cas'])} CAs, {len(manifest['leaves'])} leaves, trust lists and wallets to {args.out}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
