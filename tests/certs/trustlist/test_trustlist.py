from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization

from certs.canonical import canonical_json
from certs.devpki.devlist import DEV_POLICY_SHA256, PEER_NAME, dev_trust_list, peer_trust_list
from certs.devpki.pki import DevPki
from certs.errors import Reason, Refused
from certs.sign import cades
from certs.trustlist.model import TrustList, Usage
from certs.trustlist.registry import TrustRegistry
from certs.trustlist.sign import PublishedList, publish
from certs.trustlist.verify import MemorySequenceStore, load_trust_list
from tests.certs.external import run, write


def load(pki: DevPki, published: PublishedList, store=None, **kw):
    return load_trust_list(
        published.document,
        published.signature,
        pinned=[pki.operator.certificate],
        now=kw.pop("now", pki.now),
        store=store or MemorySequenceStore(),
        **kw,
    )


async def test_published_list_loads_and_round_trips(pki: DevPki, published: PublishedList) -> None:
    verified = load(pki, published, policy_sha256=DEV_POLICY_SHA256)
    assert verified.sequence == 1
    assert verified.trust_list.to_json() == published.document
    assert verified.timestamp.tsa_certificate == pki.tsa.certificate
    assert verified.signer == pki.operator.certificate
    assert TrustList.from_dict(json.loads(published.document)) == verified.trust_list


async def test_list_signature_and_timestamp_verify_with_openssl(
    pki: DevPki, published: PublishedList, tmp_path
) -> None:
    write(tmp_path / "root.pem", pki.operator.root.public_bytes(serialization.Encoding.PEM))
    result = run(
        "openssl",
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        write(tmp_path / "tl.p7s", published.signature),
        "-content",
        write(tmp_path / "tl.json", published.document),
        "-CAfile",
        tmp_path / "root.pem",
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    )
    assert result.returncode == 0, result.stderr


async def test_forged_list_is_refused(pki: DevPki, published: PublishedList, tsa) -> None:
    forged = await publish(dev_trust_list(pki, sequence=9), pki.org_sign.signing(), tsa=tsa)
    with pytest.raises(Refused) as info:
        load(pki, forged)
    assert info.value.reason is Reason.LIST_FORGED
    assert "not a pinned operator" in info.value.text
    # a genuine signature over edited bytes
    edited = published.document.replace(b'"sequenceNumber":1', b'"sequenceNumber":7')
    with pytest.raises(Refused) as info:
        load(pki, PublishedList(edited, published.signature))
    assert info.value.reason is Reason.LIST_FORGED


async def test_rolled_back_and_reused_sequence_are_refused(pki: DevPki, tsa) -> None:
    store = MemorySequenceStore()
    one = await publish(dev_trust_list(pki, sequence=1), pki.operator.signing(), tsa=tsa)
    two = await publish(dev_trust_list(pki, sequence=2), pki.operator.signing(), tsa=tsa)
    load(pki, two, store)
    load(pki, two, store)  # the same list again is fine
    with pytest.raises(Refused) as info:
        load(pki, one, store)
    assert info.value.reason is Reason.LIST_ROLLED_BACK
    other_two = await publish(
        dev_trust_list(pki, sequence=2, issued=pki.now - timedelta(minutes=5)), pki.operator.signing(), tsa=tsa
    )
    with pytest.raises(Refused) as info:
        load(pki, other_two, store)
    assert info.value.reason is Reason.LIST_REPLAYED


async def test_expired_list_is_refused(pki: DevPki, published: PublishedList) -> None:
    with pytest.raises(Refused) as info:
        load(pki, published, now=pki.now + timedelta(days=31))
    assert info.value.reason is Reason.LIST_EXPIRED


async def test_untimestamped_list_and_unknown_critical_field_are_refused(pki: DevPki, tsa) -> None:
    document = dev_trust_list(pki).to_json()
    untimestamped = PublishedList(document, await cades.sign_detached(document, pki.operator.signing()))
    with pytest.raises(Refused) as info:
        load(pki, untimestamped)
    assert info.value.reason is Reason.TIMESTAMP_MISSING
    data = dev_trust_list(pki).to_dict()
    data["critical"] = [*data["critical"], "qualifiedOnly"]
    document = canonical_json(data)
    signed = PublishedList(document, await cades.sign_detached(document, pki.operator.signing(), tsa=tsa))
    with pytest.raises(Refused) as info:
        load(pki, signed)
    assert info.value.reason is Reason.LIST_INVALID
    with pytest.raises(Refused) as info:
        load(pki, PublishedList(document, signed.signature), policy_sha256="00" * 32)


def test_registry_recognises_by_usage_region_industry(pki: DevPki, registry: TrustRegistry) -> None:
    ca = pki.jiangsu_ca.certificate
    assert registry.recognise(ca, at=pki.now, usage=Usage.LOGIN).source == "own"
    assert registry.recognise(ca, at=pki.now, usage=Usage.BID_ENCRYPTION).service.name.endswith("(加密)")
    with pytest.raises(Refused) as info:
        registry.recognise(ca, at=pki.now, usage=Usage.GUARANTEE)
    assert info.value.reason is Reason.CA_NOT_RECOGNISED_FOR_USAGE
    guarantor = pki.guarantor_ca.certificate
    registry.recognise(guarantor, at=pki.now, usage=Usage.GUARANTEE, region="CN-32", industry="construction")
    with pytest.raises(Refused) as info:
        registry.recognise(guarantor, at=pki.now, usage=Usage.GUARANTEE, region="CN-34")
    assert info.value.reason is Reason.CA_NOT_RECOGNISED_FOR_REGION
    with pytest.raises(Refused) as info:
        registry.recognise(guarantor, at=pki.now, usage=Usage.GUARANTEE, industry="medical")
    assert info.value.reason is Reason.CA_NOT_RECOGNISED_FOR_INDUSTRY
    with pytest.raises(Refused) as info:
        registry.recognise(pki.rogue_ca.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.CA_NOT_RECOGNISED


def test_peer_ca_is_recognised_within_the_granted_scope(pki: DevPki, registry: TrustRegistry) -> None:
    anhui = pki.anhui_ca.certificate
    recognition = registry.recognise(anhui, at=pki.now, usage=Usage.BID_SIGNATURE)
    assert recognition.source == PEER_NAME
    with pytest.raises(Refused) as info:
        registry.recognise(anhui, at=pki.now, usage=Usage.BID_ENCRYPTION)  # the peer allows it, we do not
    assert info.value.reason is Reason.CA_NOT_RECOGNISED_FOR_USAGE


async def test_peer_list_must_be_pinned_by_our_pointer(pki: DevPki, published: PublishedList, tsa) -> None:
    registry = TrustRegistry(load(pki, published))
    impostor = await publish(peer_trust_list(pki), pki.org_sign.signing(), tsa=tsa)
    with pytest.raises(Refused) as info:
        load_trust_list(
            impostor.document,
            impostor.signature,
            pinned=registry.pointer(PEER_NAME).operator_certificates,
            now=pki.now,
            store=MemorySequenceStore(),
        )
    assert info.value.reason is Reason.LIST_FORGED
    accepted_elsewhere = load_trust_list(
        impostor.document,
        impostor.signature,
        pinned=[pki.org_sign.certificate],
        now=pki.now,
        store=MemorySequenceStore(),
    )
    with pytest.raises(Refused) as info:
        registry.add_peer(accepted_elsewhere)
    assert info.value.reason is Reason.PEER_NOT_RECOGNISED


async def test_withdrawn_ca_and_peer_time_travel(pki: DevPki, peer_published: PublishedList, tsa) -> None:
    withdrawn_at = pki.now - timedelta(days=1)
    listed = await publish(
        dev_trust_list(pki, jiangsu_withdrawn_at=withdrawn_at, peer_withdrawn_at=withdrawn_at),
        pki.operator.signing(),
        tsa=tsa,
    )
    registry = TrustRegistry(load(pki, listed))
    registry.add_peer(
        load_trust_list(
            peer_published.document,
            peer_published.signature,
            pinned=[pki.peer_operator.certificate],
            now=pki.now,
            store=MemorySequenceStore(),
        )
    )
    ca = pki.jiangsu_ca.certificate
    with pytest.raises(Refused) as info:
        registry.recognise(ca, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.CA_WITHDRAWN
    assert info.value.at == withdrawn_at
    # a signature made while the CA was granted is still evaluable
    registry.recognise(ca, at=pki.now - timedelta(days=10), usage=Usage.LOGIN)
    with pytest.raises(Refused) as info:
        registry.recognise(pki.anhui_ca.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.CA_WITHDRAWN
    registry.recognise(pki.anhui_ca.certificate, at=pki.now - timedelta(days=10), usage=Usage.LOGIN)
    with pytest.raises(Refused) as info:
        registry.recognise(ca, at=pki.now - timedelta(days=6 * 365), usage=Usage.LOGIN)
    assert info.value.reason is Reason.CA_NOT_RECOGNISED
