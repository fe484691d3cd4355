from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certs.auth.challenge import MemoryChallengeStore, issue_challenge, sign_challenge, verify_login
from certs.devpki.devlist import ORG_BY_SERIAL, dev_trust_list
from certs.devpki.pki import DevPki, PkiFetcher, make_uscc
from certs.devpki.sm2pki import Sm2Authority
from certs.errors import Reason, Refused
from certs.pathval.identity import party_of
from certs.pathval.revocation import RevocationChecker
from certs.pathval.validate import PathValidator
from certs.providers import sm2
from certs.trustlist.model import Provider, Scope, Service, ServiceType, Status, StatusChange, Usage
from certs.trustlist.registry import TrustRegistry
from certs.trustlist.sign import publish
from certs.trustlist.verify import MemorySequenceStore, load_trust_list
from tests.certs.external import run, write

pytestmark = pytest.mark.skipif(not sm2.available(), reason="optional SM2 provider (gmssl-pyx) not installed")
ORIGIN = "https://ggzy.js.example.cn"


class Sm2Fetcher(PkiFetcher):
    def __init__(self, pki: DevPki, ca: Sm2Authority) -> None:
        super().__init__(pki)
        self.ca = ca

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        if url == self.ca.crl_url:
            return self.ca.crl(self.pki_now - timedelta(hours=1), self.pki_now + timedelta(days=7))
        return await super().fetch(url, body=body, content_type=content_type)

    @property
    def pki_now(self):
        return self._pki.now


@pytest.fixture(scope="module")
def sm2_ca(pki: DevPki) -> Sm2Authority:
    return Sm2Authority.create(
        "国密测试 CA", "国密测试认证中心(开发)", now=pki.now, crl_url="http://sm2ca.invalid/ca.crl"
    )


@pytest.fixture
async def sm2_validator(pki: DevPki, sm2_ca: Sm2Authority, tsa) -> PathValidator:
    base = dev_trust_list(pki)
    provider = Provider(
        name="国密测试认证中心(开发)",
        uscc=make_uscc(300, "320000"),
        region="CN-32",
        services=(
            Service(
                type=ServiceType.CA_SIGN,
                name="国密测试 CA",
                certificate=sm2_ca.certificate,
                status=StatusChange(Status.GRANTED, pki.now - timedelta(days=365)),
                scope=Scope(frozenset({Usage.LOGIN, Usage.BID_SIGNATURE})),
                algorithms=("SM2",),
                identity_mapping=(ORG_BY_SERIAL,),
            ),
        ),
    )
    listed = await publish(
        dataclasses.replace(base, providers=(*base.providers, provider)), pki.operator.signing(), tsa=tsa
    )
    own = load_trust_list(
        listed.document, listed.signature, pinned=[pki.operator.certificate], now=pki.now, store=MemorySequenceStore()
    )
    return PathValidator(TrustRegistry(own), RevocationChecker(Sm2Fetcher(pki, sm2_ca), clock=lambda: pki.now))


def leaf(pki: DevPki, ca: Sm2Authority, uscc: str):
    return ca.issue(
        "国密示例有限公司",
        "国密示例有限公司",
        serial_number=uscc,
        not_before=pki.now - timedelta(days=1),
        not_after=pki.now + timedelta(days=60),
    )


async def test_sm2_chain_validates_and_maps_to_party(
    pki: DevPki, sm2_ca: Sm2Authority, sm2_validator: PathValidator, tmp_path
) -> None:
    uscc = make_uscc(301, "320100")
    identity = leaf(pki, sm2_ca, uscc)
    path = await sm2_validator.validate(identity.certificate, at=pki.now, usage=Usage.LOGIN)
    assert path.revocation[0].kind == "crl"
    assert party_of(path).identifier == uscc
    # OpenSSL agrees, given the GM/T 0009 default ID
    ca_pem = write(tmp_path / "ca.pem", sm2_ca.certificate.public_bytes(serialization.Encoding.PEM))
    leaf_pem = write(tmp_path / "leaf.pem", identity.certificate.public_bytes(serialization.Encoding.PEM))
    result = run("openssl", "verify", "-vfyopt", "distid:1234567812345678", "-CAfile", ca_pem, leaf_pem)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_sm2_certificate_login(pki: DevPki, sm2_ca: Sm2Authority, sm2_validator: PathValidator) -> None:
    identity = leaf(pki, sm2_ca, make_uscc(302, "320100"))
    store = MemoryChallengeStore()
    challenge = issue_challenge(ORIGIN, now=pki.now)
    store.put(challenge)
    response = sign_challenge(challenge, sm2.Sm2Signer(identity.key), identity.certificate)
    result = await verify_login(response, store=store, expected_origin=ORIGIN, now=pki.now, validator=sm2_validator)
    assert result.algorithm == "sm2-sm3"


async def test_sm2_revoked_and_forged(pki: DevPki, sm2_ca: Sm2Authority, sm2_validator: PathValidator) -> None:
    revoked = leaf(pki, sm2_ca, make_uscc(303, "320100"))
    sm2_ca.revoke(revoked.certificate, pki.now - timedelta(days=1))
    with pytest.raises(Refused) as info:
        await sm2_validator.validate(revoked.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.REVOKED
    # same issuer name and key identifier as the genuine CA, signed with another key
    impostor = Sm2Authority(sm2_ca.name, sm2.Sm2PrivateKey.generate(), sm2_ca.certificate, sm2_ca.crl_url)
    forged = leaf(pki, impostor, make_uscc(304, "320100"))
    with pytest.raises(Refused) as info:
        await sm2_validator.validate(forged.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.BAD_SIGNATURE


class _ScopedSm2Fetcher(Sm2Fetcher):
    """Serves, at the SM2 CA's own CRL URL, a fresh SM2-signed CRL carrying ``extensions`` (issue 12's defect)."""

    def __init__(self, pki: DevPki, ca: Sm2Authority, extensions: list[dict[str, object]]) -> None:
        super().__init__(pki, ca)
        # built here, so a CRL that cannot be built fails the test instead of looking unreachable
        self.der = ca.crl(pki.now - timedelta(hours=1), pki.now + timedelta(days=7), extensions=extensions)
        assert len(x509.load_der_x509_crl(self.der).extensions) == len(extensions)

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        if url == self.ca.crl_url:
            return self.der
        return await super().fetch(url, body=body, content_type=content_type)


SM2_SCOPES = {
    "idp-ca-certificates-only": [
        {"extn_id": "issuing_distribution_point", "critical": True, "extn_value": {"only_contains_ca_certs": True}}
    ],
    "idp-another-distribution-point": [
        {
            "extn_id": "issuing_distribution_point",
            "critical": True,
            "extn_value": {
                "distribution_point": {
                    "full_name": [
                        asn1_x509.GeneralName(
                            name="uniform_resource_identifier", value="http://sm2ca.invalid/partition-2.crl"
                        )
                    ]
                }
            },
        }
    ],
    "delta-crl-indicator": [{"extn_id": "delta_crl_indicator", "critical": True, "extn_value": 1}],
}


@pytest.mark.parametrize("scope", list(SM2_SCOPES))
async def test_sm2_a_crl_outside_its_scope_never_clears_a_revoked_certificate(
    pki: DevPki, sm2_ca: Sm2Authority, sm2_validator: PathValidator, scope: str
) -> None:
    """The same CRL rules as RSA/ECDSA chains (tests/certs/pathval/test_crl_scope.py), on an SM2 chain."""
    revoked = leaf(pki, sm2_ca, make_uscc(305, "320100"))
    sm2_ca.revoke(revoked.certificate, pki.now - timedelta(days=1))
    good = leaf(pki, sm2_ca, make_uscc(306, "320100"))
    fetcher = _ScopedSm2Fetcher(pki, sm2_ca, SM2_SCOPES[scope])
    validator = PathValidator(sm2_validator.registry, RevocationChecker(fetcher, clock=lambda: pki.now, use_ocsp=False))
    for identity in (revoked, good):
        with pytest.raises(Refused) as info:
            await validator.validate(identity.certificate, at=pki.now, usage=Usage.LOGIN)
        assert info.value.reason in {Reason.REVOCATION_UNKNOWN, Reason.REVOKED}
    # the control: the same CRL without the scope clears the good certificate
    unscoped = PathValidator(
        sm2_validator.registry, RevocationChecker(_ScopedSm2Fetcher(pki, sm2_ca, []), clock=lambda: pki.now)
    )
    path = await unscoped.validate(good.certificate, at=pki.now, usage=Usage.LOGIN)
    assert [e.kind for e in path.revocation] == ["crl"]
