from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certs.devpki.pki import DevPki
from certs.envelope import commitments
from certs.envelope.sealed_bid import (
    MAGIC,
    SM4_GCM,
    BidBinding,
    SealedBid,
    open_as_bidder,
    open_with_content_key,
    open_with_shares,
    release_share,
    seal_v1,
    unwrap_content_key,
)
from certs.errors import Reason, Refused
from certs.providers import sm2

PLAINTEXT = "投标报价：人民币壹仟贰佰叁拾肆万元整 (12,340,000.00) — 工期 180 日历天".encode() * 20
DEADLINE = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def binding(pki: DevPki, tender: str = "JS-2026-0001") -> BidBinding:
    return BidBinding(tender=tender, lot="1", bidder=pki.org_uscc, deadline=DEADLINE, manifest_sha256="ab" * 32)


@pytest.fixture(scope="module")
def sealed(pki: DevPki) -> SealedBid:
    return seal_v1(
        PLAINTEXT,
        binding(pki),
        bidder=pki.org_enc.certificate,
        holders=[h.certificate for h in pki.key_holders],
        threshold_k=3,
    )


def shares_of(pki: DevPki, sealed: SealedBid):
    b = binding(pki)
    return [release_share(sealed, h.certificate, h.key, b) for h in pki.key_holders]  # type: ignore[arg-type]


def test_opens_with_the_bidders_key(pki: DevPki, sealed: SealedBid) -> None:
    envelope = SealedBid.from_bytes(sealed.to_bytes())
    assert open_as_bidder(envelope, pki.org_enc.key, binding(pki)) == PLAINTEXT  # type: ignore[arg-type]


def test_opens_with_any_three_of_five_shares_and_not_with_two(pki: DevPki, sealed: SealedBid) -> None:
    envelope = SealedBid.from_bytes(sealed.to_bytes())
    shares = shares_of(pki, envelope)
    for trio in itertools.combinations(shares, 3):
        assert open_with_shares(envelope, list(trio), binding(pki)) == PLAINTEXT
    assert open_with_shares(envelope, shares, binding(pki)) == PLAINTEXT
    for pair in itertools.combinations(shares, 2):
        with pytest.raises(Refused) as info:
            open_with_shares(envelope, list(pair), binding(pki))
        assert info.value.reason is Reason.NOT_ENOUGH_SHARES


def test_no_plaintext_in_ciphertext_or_commitment(pki: DevPki, sealed: SealedBid) -> None:
    envelope = sealed.to_bytes()
    commitment = commitments.commit(envelope)
    for blob in (envelope, commitment.value, commitment.salt):
        for start in range(0, len(PLAINTEXT) - 16, 97):
            assert PLAINTEXT[start : start + 16] not in blob
    assert "投标报价".encode() not in envelope
    assert b"12,340,000" not in envelope


def test_tampered_ciphertext_is_refused(pki: DevPki, sealed: SealedBid) -> None:
    data = bytearray(sealed.to_bytes())
    data[-40] ^= 0x01
    envelope = SealedBid.from_bytes(bytes(data))
    with pytest.raises(Refused) as info:
        open_as_bidder(envelope, pki.org_enc.key, binding(pki))  # type: ignore[arg-type]
    assert info.value.reason is Reason.TAMPERED_CIPHERTEXT
    with pytest.raises(Refused) as info:
        open_with_shares(envelope, shares_of(pki, sealed)[:3], binding(pki))
    assert info.value.reason is Reason.TAMPERED_CIPHERTEXT


def test_ciphertext_moved_to_another_tender_is_refused(pki: DevPki, sealed: SealedBid) -> None:
    other = binding(pki, tender="JS-2026-0002")
    with pytest.raises(Refused) as info:
        open_as_bidder(sealed, pki.org_enc.key, other)  # type: ignore[arg-type]
    assert info.value.reason is Reason.BINDING_MISMATCH
    assert "tender" in info.value.text
    # relabelled: the header now claims the other tender, but the AAD and key wraps were bound to the first
    relabelled = dataclasses.replace(sealed, binding=other)
    with pytest.raises(Refused) as info:
        open_as_bidder(relabelled, pki.org_enc.key, other)  # type: ignore[arg-type]
    assert info.value.reason is Reason.TAMPERED_CIPHERTEXT
    with pytest.raises(Refused):
        open_with_shares(relabelled, shares_of(pki, sealed)[:3], other)
    # another bidder's or lot's binding is refused the same way
    with pytest.raises(Refused) as info:
        open_as_bidder(sealed, pki.org_enc.key, dataclasses.replace(binding(pki), lot="2"))  # type: ignore[arg-type]
    assert info.value.reason is Reason.BINDING_MISMATCH


def test_wrong_key_and_foreign_share_are_refused(pki: DevPki, sealed: SealedBid) -> None:
    with pytest.raises(Refused) as info:
        open_as_bidder(sealed, pki.key_holders[0].key, binding(pki))  # type: ignore[arg-type]
    assert info.value.reason is Reason.TAMPERED_CIPHERTEXT
    other = seal_v1(
        b"x",
        binding(pki),
        bidder=pki.org_enc.certificate,
        holders=[h.certificate for h in pki.key_holders],
        threshold_k=3,
    )
    foreign = shares_of(pki, other)[0]
    with pytest.raises(Refused) as info:
        open_with_shares(sealed, [foreign, *shares_of(pki, sealed)[1:3]], binding(pki))
    assert info.value.reason is Reason.BAD_SHARE
    with pytest.raises(Refused) as info:
        release_share(sealed, pki.org_sign.certificate, pki.org_sign.key, binding(pki))  # type: ignore[arg-type]
    assert info.value.reason is Reason.NOT_A_RECIPIENT


def test_rsa_bidder_certificate_uses_oaep(pki: DevPki) -> None:
    b = dataclasses.replace(binding(pki), bidder=pki.anhui_uscc)
    sealed = seal_v1(b"rsa bid", b, bidder=pki.anhui_org_enc.certificate)
    assert sealed.bidder_key.method == "rsa-oaep-sha256"
    assert open_as_bidder(SealedBid.from_bytes(sealed.to_bytes()), pki.anhui_org_enc.key, b) == b"rsa bid"  # type: ignore[arg-type]


def test_signing_certificate_cannot_receive_keys(pki: DevPki) -> None:
    with pytest.raises(Refused) as info:
        seal_v1(b"x", binding(pki), bidder=pki.org_sign.certificate)
    assert info.value.reason is Reason.WRONG_KEY_USAGE


def test_sm4_gcm_content(pki: DevPki) -> None:
    sealed = seal_v1(PLAINTEXT, binding(pki), bidder=pki.org_enc.certificate, content_algorithm=SM4_GCM)
    assert open_as_bidder(SealedBid.from_bytes(sealed.to_bytes()), pki.org_enc.key, binding(pki)) == PLAINTEXT  # type: ignore[arg-type]


@pytest.mark.skipif(not sm2.available(), reason="optional SM2 provider not installed")
def test_sm2_bidder_key(pki: DevPki) -> None:
    key = sm2.Sm2PrivateKey.generate()
    holder = sm2.Sm2PrivateKey.generate()
    sealed = seal_v1(b"sm2 bid", binding(pki), bidder=key.public_key(), holders=[holder.public_key()], threshold_k=1)
    assert open_as_bidder(sealed, key, binding(pki)) == b"sm2 bid"
    share = release_share(sealed, holder.public_key(), holder, binding(pki))
    assert open_with_shares(sealed, [share], binding(pki)) == b"sm2 bid"


def test_malformed_envelopes_are_refused() -> None:
    for blob in (b"", b"not a bid", MAGIC + b"\x00\x00\x00\x02{}", MAGIC + b"\x00\x00\x00\x04null"):
        with pytest.raises(Refused) as info:
            SealedBid.from_bytes(blob)
        assert info.value.reason is Reason.MALFORMED


def test_header_is_canonical_json(sealed: SealedBid) -> None:
    data = sealed.to_bytes()
    length = int.from_bytes(data[8:12], "big")
    header = json.loads(data[12 : 12 + length])
    assert header["threshold"] == 3
    assert len(header["holders"]) == 5
    assert header["binding"]["tender"] == "JS-2026-0001"


@settings(max_examples=25)
@given(
    plaintext=st.binary(max_size=4096),
    where=st.tuples(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=5)),
    n=st.integers(min_value=1, max_value=5),
    data=st.data(),
)
def test_round_trip_property(
    pki: DevPki, plaintext: bytes, where: tuple[str, str], n: int, data: st.DataObject
) -> None:
    k = data.draw(st.integers(min_value=1, max_value=n))
    b = BidBinding(tender=where[0], lot=where[1], bidder=pki.org_uscc, deadline=DEADLINE)
    holders = pki.key_holders[:n]
    sealed = SealedBid.from_bytes(
        seal_v1(
            plaintext, b, bidder=pki.org_enc.certificate, holders=[h.certificate for h in holders], threshold_k=k
        ).to_bytes()
    )
    assert open_as_bidder(sealed, pki.org_enc.key, b) == plaintext  # type: ignore[arg-type]
    chosen = data.draw(st.lists(st.sampled_from(range(n)), min_size=k, max_size=n, unique=True))
    shares = [release_share(sealed, holders[i].certificate, holders[i].key, b) for i in chosen]  # type: ignore[arg-type]
    assert open_with_shares(sealed, shares, b) == plaintext


def test_the_bidder_unwraps_the_content_key_and_the_platform_opens_with_it(pki: DevPki, sealed: SealedBid) -> None:
    envelope = SealedBid.from_bytes(sealed.to_bytes())
    dek = unwrap_content_key(envelope.header(), pki.org_enc.key, binding(pki))  # type: ignore[arg-type]
    assert len(dek) == 32
    assert unwrap_content_key(envelope, pki.org_enc.key, binding(pki)) == dek  # type: ignore[arg-type]
    assert open_with_content_key(envelope, dek, binding(pki)) == PLAINTEXT


def test_a_wrong_content_key_is_refused_by_name(pki: DevPki, sealed: SealedBid) -> None:
    envelope = SealedBid.from_bytes(sealed.to_bytes())
    for wrong in (b"\x00" * 32, b"short"):
        with pytest.raises(Refused) as refused:
            open_with_content_key(envelope, wrong, binding(pki))
        assert refused.value.reason is Reason.TAMPERED_CIPHERTEXT
    dek = unwrap_content_key(envelope, pki.org_enc.key, binding(pki))  # type: ignore[arg-type]
    with pytest.raises(Refused) as moved:
        open_with_content_key(envelope, dek, binding(pki, tender="JS-2026-0002"))
    assert moved.value.reason is Reason.BINDING_MISMATCH


def test_unwrapping_with_another_key_or_a_broken_header_is_refused(pki: DevPki, sealed: SealedBid) -> None:
    other = pki.key_holders[0].key
    with pytest.raises(Refused) as refused:
        unwrap_content_key(sealed.header(), other, binding(pki))  # type: ignore[arg-type]
    assert refused.value.reason is Reason.TAMPERED_CIPHERTEXT
    with pytest.raises(Refused) as malformed:
        unwrap_content_key({"version": 1}, pki.org_enc.key, binding(pki))  # type: ignore[arg-type]
    assert malformed.value.reason is Reason.MALFORMED
