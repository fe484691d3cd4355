"""certs benchmark: signature verification per second and sealed-bid opening throughput.

Each figure is printed next to the raw primitive measured in the same run on the same machine, and
the ratio between them is what matters (issue 3's aims: path validation + signature verification
at least 0.25x raw ECDSA P-256 verification; envelope opening at least 0.5x raw AES-256-GCM
decryption for 10 MB bids).

    .venv/bin/python bench/certs.py [--seconds 2] [--mb 10]

No database, no network: the development PKI and trust lists are built in memory, CRLs come from
an in-memory fetcher and are cached after the first check, as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

from certs.devpki.devlist import PEER_NAME, dev_trust_list, peer_trust_list  # noqa: E402
from certs.devpki.pki import PkiFetcher, build_dev_pki  # noqa: E402
from certs.envelope.sealed_bid import (  # noqa: E402
    BidBinding,
    open_as_bidder,
    open_with_content_key,
    open_with_shares,
    parse,
    release_share,
    seal,
    seal_v1,
    unwrap_content_key,
)
from certs.pathval.revocation import RevocationChecker  # noqa: E402
from certs.pathval.validate import PathValidator  # noqa: E402
from certs.providers import pyca  # noqa: E402
from certs.sign import cades  # noqa: E402
from certs.sign.verify import verify_document, verify_raw  # noqa: E402
from certs.trustlist.model import Usage  # noqa: E402
from certs.trustlist.registry import TrustRegistry  # noqa: E402
from certs.trustlist.sign import publish  # noqa: E402
from certs.trustlist.verify import MemorySequenceStore, load_trust_list  # noqa: E402
from certs.tsa.client import LocalTsa  # noqa: E402
from certs.tsa.server import TimeStampAuthority  # noqa: E402


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn``: the best of three runs of about ``seconds`` / 3 each."""
    fn()
    best = 0.0
    for _ in range(3):
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 3:
            for _ in range(20):
                fn()
            n += 20
        best = max(best, n / elapsed)
    return best


async def arate(fn: Callable[[], Awaitable[object]], seconds: float) -> float:
    await fn()
    best = 0.0
    for _ in range(3):
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 3:
            for _ in range(20):
                await fn()
            n += 20
        best = max(best, n / elapsed)
    return best


async def build() -> tuple:
    pki = build_dev_pki()
    serials = iter(range(1, 10**9))
    tsa = LocalTsa(
        TimeStampAuthority(pki.tsa.signing(), clock=lambda: datetime.now(UTC), serials=lambda: next(serials))
    )
    own = await publish(dev_trust_list(pki), pki.operator.signing(), tsa=tsa)
    peer = await publish(peer_trust_list(pki), pki.peer_operator.signing(), tsa=tsa)
    store = MemorySequenceStore()
    registry = TrustRegistry(
        load_trust_list(own.document, own.signature, pinned=[pki.operator.certificate], now=pki.now, store=store)
    )
    pointer = registry.pointer(PEER_NAME)
    registry.add_peer(
        load_trust_list(peer.document, peer.signature, pinned=pointer.operator_certificates, now=pki.now, store=store)
    )
    validator = PathValidator(registry, RevocationChecker(PkiFetcher(pki), clock=lambda: pki.now))
    return pki, tsa, validator


def row(name: str, value: float, unit: str, floor: float | None = None, aim: float | None = None) -> None:
    text = f"  {name:<52} {value:>12,.1f} {unit}"
    if floor:
        ratio = value / floor
        text += f"   {ratio:5.2f}x raw" + (f"  (aim >= {aim}x: {'met' if ratio >= aim else 'NOT met'})" if aim else "")
    print(text)


async def signatures(seconds: float) -> None:
    pki, tsa, validator = await build()
    message = os.urandom(64)
    key = pki.org_sign.key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    public = key.public_key()
    raw_sig = key.sign(message, ec.ECDSA(hashes.SHA256()))
    raw = rate(lambda: public.verify(raw_sig, message, ec.ECDSA(hashes.SHA256())), seconds)
    signature = pyca.sign(key, message)
    certificate = pki.org_sign.certificate

    async def full() -> None:
        await verify_raw(message, signature, certificate, validator, usage=Usage.LOGIN, at=pki.now)

    full_rate = await arate(full, seconds)

    async def cold() -> None:
        # measure the first validation of a chain: no engine verdict, no paths built for it
        validator._verdicts.clear()  # noqa: SLF001
        validator._chains.clear()  # noqa: SLF001
        await verify_raw(message, signature, certificate, validator, usage=Usage.LOGIN, at=pki.now)

    cold_rate = await arate(cold, seconds)
    document = os.urandom(4096)
    p7s = await cades.sign_detached(document, pki.org_sign.signing(), tsa=tsa)

    async def cms() -> None:
        report = await verify_document(document, p7s, validator, usage=Usage.BID_SIGNATURE, clock=lambda: pki.now)
        assert report.passed

    cms_rate = await arate(cms, seconds)
    print("signature verification (ECDSA P-256, two-level chain, CRL cached, trust list):")
    row("raw cryptography ECDSA verify", raw, "ops/s")
    row("signature + path validation + revocation (verify_raw)", full_rate, "ops/s", raw, 0.25)
    row("  same, chain seen for the first time (paths, engine verdict)", cold_rate, "ops/s", raw)
    row("CAdES-B-T document verification (verify_document)", cms_rate, "ops/s", raw)


def envelopes(seconds: float, megabytes: int) -> None:
    pki = build_dev_pki()
    plaintext = os.urandom(megabytes * 1024 * 1024)
    binding = BidBinding("JS-2026-0001", "1", pki.org_uscc, datetime.now(UTC) + timedelta(days=1), "00" * 32)
    holders = pki.key_holders
    sealed = seal(
        plaintext, binding, bidder=pki.org_enc.certificate, holders=[h.certificate for h in holders], threshold_k=3
    )
    envelope = sealed.to_bytes()
    shares = [release_share(sealed, h.certificate, h.key, binding) for h in holders[:3]]  # type: ignore[arg-type]
    dek = unwrap_content_key(sealed, pki.org_enc.key, binding)  # type: ignore[arg-type]
    first_format = seal_v1(
        plaintext, binding, bidder=pki.org_enc.certificate, holders=[h.certificate for h in holders], threshold_k=3
    ).to_bytes()
    key, nonce, aad = AESGCM.generate_key(bit_length=256), os.urandom(12), binding.aad()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, aad)
    mb = len(plaintext) / 1e6

    raw = rate(lambda: AESGCM(key).decrypt(nonce, ciphertext, aad), seconds) * mb
    platform = rate(lambda: open_with_content_key(parse(envelope), dek, binding), seconds) * mb
    bidder = rate(lambda: open_as_bidder(parse(envelope), pki.org_enc.key, binding), seconds) * mb  # type: ignore[arg-type]
    committee = rate(lambda: open_with_shares(parse(envelope), shares, binding), seconds) * mb
    old = rate(lambda: open_as_bidder(parse(first_format), pki.org_enc.key, binding), seconds) * mb  # type: ignore[arg-type]
    print(
        f"sealed-bid opening ({megabytes} MB bid, CMS AuthEnvelopedData AES-256-GCM, P-256 ECDH KARI, 3-of-5 shares):"
    )
    row("raw cryptography AES-256-GCM decrypt", raw, "MB/s")
    row("parse CMS envelope + open with the content key (the opening)", platform, "MB/s", raw, 0.5)
    row("parse CMS envelope + open with the bidder's key", bidder, "MB/s", raw, 0.5)
    row("parse CMS envelope + open with 3 of 5 shares", committee, "MB/s", raw, 0.5)
    row("first format (GGZYBID1, HPKE): parse + open with the bidder's key", old, "MB/s", raw, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per figure")
    parser.add_argument("--mb", type=int, default=10, help="bid size in MB")
    parser.add_argument("--envelopes-only", action="store_true", help="skip the signature figures")
    args = parser.parse_args()
    print(f"bench/certs on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    if not args.envelopes_only:
        asyncio.run(signatures(args.seconds))
    envelopes(args.seconds, args.mb)


if __name__ == "__main__":
    main()
