from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization

from certs.auth.challenge import LoginResponse, MemoryChallengeStore, issue_challenge, sign_challenge, verify_login
from certs.devpki.pki import DevPki, Identity
from certs.errors import Reason, Refused
from certs.pathval.validate import PathValidator
from tests.certs.external import run, write

ORIGIN = "https://ggzy.js.example.cn"


def login(pki: DevPki, identity: Identity, store: MemoryChallengeStore, *, origin: str = ORIGIN):
    challenge = issue_challenge(origin, now=pki.now)
    store.put(challenge)
    response = sign_challenge(challenge, identity.signing().signer, identity.certificate, identity.chain[:-1])
    return challenge, LoginResponse.from_dict(response.to_dict())


async def test_login_maps_certificate_to_party(pki: DevPki, validator: PathValidator) -> None:
    store = MemoryChallengeStore()
    _, response = login(pki, pki.org_sign, store)
    result = await verify_login(response, store=store, expected_origin=ORIGIN, now=pki.now, validator=validator)
    assert result.party.identifier == pki.org_uscc
    assert result.algorithm == "ecdsa-p256-sha256"
    with pytest.raises(Refused) as info:  # one use only
        await verify_login(response, store=store, expected_origin=ORIGIN, now=pki.now, validator=validator)
    assert info.value.reason is Reason.CHALLENGE_REUSED


async def test_login_through_peer_recognised_rsa_ca(pki: DevPki, validator: PathValidator) -> None:
    store = MemoryChallengeStore()
    _, response = login(pki, pki.anhui_org_sign, store)
    result = await verify_login(response, store=store, expected_origin=ORIGIN, now=pki.now, validator=validator)
    assert result.party.identifier == pki.anhui_uscc
    assert result.algorithm == "rsa-pss-sha256"


async def test_login_refusals(pki: DevPki, validator: PathValidator) -> None:
    store = MemoryChallengeStore()
    _, response = login(pki, pki.org_sign, store, origin="https://phishing.example")
    with pytest.raises(Refused) as info:
        await verify_login(response, store=store, expected_origin=ORIGIN, now=pki.now, validator=validator)
    assert info.value.reason is Reason.CHALLENGE_WRONG_ORIGIN
    _, response = login(pki, pki.org_sign, store)
    with pytest.raises(Refused) as info:
        await verify_login(
            response, store=store, expected_origin=ORIGIN, now=pki.now + timedelta(minutes=3), validator=validator
        )
    assert info.value.reason is Reason.CHALLENGE_EXPIRED
    with pytest.raises(Refused) as info:
        await verify_login(
            response, store=MemoryChallengeStore(), expected_origin=ORIGIN, now=pki.now, validator=validator
        )
    assert info.value.reason is Reason.CHALLENGE_UNKNOWN
    _, response = login(pki, pki.revoked, store)
    with pytest.raises(Refused) as info:
        await verify_login(response, store=store, expected_origin=ORIGIN, now=pki.now, validator=validator)
    assert info.value.reason is Reason.REVOKED
    # someone else's signature with this certificate
    _challenge, response = login(pki, pki.org_sign, store)
    forged = LoginResponse(response.nonce, pki.person_sign.certificate, response.signature)
    with pytest.raises(Refused) as info:
        await verify_login(forged, store=store, expected_origin=ORIGIN, now=pki.now, validator=validator)
    assert info.value.reason is Reason.BAD_SIGNATURE


def test_challenge_signature_verifies_with_openssl(pki: DevPki, tmp_path) -> None:
    challenge, response = login(pki, pki.org_sign, MemoryChallengeStore())
    public = pki.org_sign.certificate.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    write(tmp_path / "pub.pem", pem)
    result = run(
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        tmp_path / "pub.pem",
        "-rawin",
        "-digest",
        "sha256",
        "-in",
        write(tmp_path / "challenge.json", challenge.to_sign()),
        "-sigfile",
        write(tmp_path / "sig", response.signature.value),
    )
    assert "Signature Verified Successfully" in result.stdout, result.stderr
