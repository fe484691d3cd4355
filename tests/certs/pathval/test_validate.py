from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from certs.devpki.devlist import dev_trust_list
from certs.devpki.pki import DevPki, Identity, PkiFetcher, new_key
from certs.errors import Reason, Refused
from certs.pathval.revocation import RevocationChecker
from certs.pathval.validate import PathValidator
from certs.trustlist.model import Usage
from certs.trustlist.registry import TrustRegistry
from certs.trustlist.sign import publish
from certs.trustlist.verify import MemorySequenceStore, load_trust_list
from tests.certs.external import run, write


async def refusal(validator: PathValidator, identity: Identity, usage: Usage = Usage.LOGIN, **kw) -> Refused:
    with pytest.raises(Refused) as info:
        await validator.validate(
            identity.certificate,
            identity.chain[:-1],
            at=kw.pop("at", None) or validator.revocation.clock(),
            usage=usage,
            **kw,
        )
    return info.value


async def test_valid_certificates_for_their_usages(pki: DevPki, validator: PathValidator) -> None:
    path = await validator.validate(pki.org_sign.certificate, at=pki.now, usage=Usage.LOGIN, region="CN-32")
    assert path.anchor == pki.jiangsu_ca.certificate
    assert [e.kind for e in path.evidence()] == ["trust-list", "crl"]
    await validator.validate(pki.person_sign.certificate, at=pki.now, usage=Usage.BID_SIGNATURE)
    await validator.validate(pki.org_enc.certificate, at=pki.now, usage=Usage.BID_ENCRYPTION)
    # the Anhui CA, recognised through the peer platform's list
    path = await validator.validate(pki.anhui_org_sign.certificate, at=pki.now, usage=Usage.BID_SIGNATURE)
    assert path.recognition.source != "own"
    # a chain with the intermediate supplied and a root listed works too
    recognition = validator.validate_listed(pki.tsa.certificate, pki.now, Usage.TIMESTAMP)
    assert recognition.service.certificate == pki.tsa.certificate


async def test_expired_and_not_yet_valid(pki: DevPki, validator: PathValidator) -> None:
    expired = await refusal(validator, pki.expired)
    assert expired.reason is Reason.EXPIRED
    assert expired.at == pki.expired.certificate.not_valid_after_utc
    assert (await refusal(validator, pki.not_yet_valid)).reason is Reason.NOT_YET_VALID
    # time travel: the expired certificate was fine when it was valid (its CRL still lists no revocation)
    await validator.validate(pki.expired.certificate, at=pki.now - timedelta(days=100), usage=Usage.LOGIN)


async def test_revoked_names_the_date(pki: DevPki, validator: PathValidator) -> None:
    revoked = await refusal(validator, pki.revoked)
    assert revoked.reason is Reason.REVOKED
    assert revoked.at == pki.now - timedelta(days=2)
    assert "keyCompromise" in revoked.text
    # a signature made before the revocation still validates
    await validator.validate(pki.revoked.certificate, at=pki.now - timedelta(days=3), usage=Usage.LOGIN)


async def test_openssl_verify_crl_check_agrees_on_revocation(pki: DevPki, tmp_path) -> None:
    write(tmp_path / "ca.pem", pki.jiangsu_root.identity.cert_pem + pki.jiangsu_ca.identity.cert_pem)
    write(tmp_path / "crl.pem", pki.jiangsu_ca.crl(pki.now).public_bytes(serialization.Encoding.PEM))
    verdicts = {}
    for name, identity in (("revoked", pki.revoked), ("good", pki.org_sign)):
        result = run(
            "openssl",
            "verify",
            "-crl_check",
            "-purpose",
            "any",
            "-CAfile",
            tmp_path / "ca.pem",
            "-CRLfile",
            tmp_path / "crl.pem",
            write(tmp_path / f"{name}.pem", identity.cert_pem),
        )
        verdicts[name] = (result.returncode, result.stdout + result.stderr)
    assert verdicts["revoked"][0] == 2
    assert "certificate revoked" in verdicts["revoked"][1]
    assert verdicts["good"][0] == 0, verdicts["good"][1]


async def test_unknown_ca(pki: DevPki, validator: PathValidator) -> None:
    with pytest.raises(Refused) as info:
        await validator.validate(pki.rogue_leaf.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.UNKNOWN_ISSUER
    with pytest.raises(Refused) as info:  # the rogue root supplied along: a root, but not recognised
        await validator.validate(pki.rogue_leaf.certificate, [pki.rogue_ca.certificate], at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.CA_NOT_RECOGNISED


async def test_ca_recognised_but_not_for_this_usage(pki: DevPki, validator: PathValidator) -> None:
    with pytest.raises(Refused) as info:
        await validator.validate(pki.guarantor.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.CA_NOT_RECOGNISED_FOR_USAGE
    with pytest.raises(Refused) as info:
        await validator.validate(pki.anhui_org_enc.certificate, at=pki.now, usage=Usage.BID_ENCRYPTION)
    assert info.value.reason is Reason.CA_NOT_RECOGNISED_FOR_USAGE
    with pytest.raises(Refused) as info:
        await validator.validate(pki.guarantor.certificate, at=pki.now, usage=Usage.GUARANTEE, region="CN-34")
    assert info.value.reason is Reason.CA_NOT_RECOGNISED_FOR_REGION


async def test_ca_withdrawn(pki: DevPki, tsa, fetcher: PkiFetcher) -> None:
    published = await publish(
        dev_trust_list(pki, jiangsu_withdrawn_at=pki.now - timedelta(days=1)), pki.operator.signing(), tsa=tsa
    )
    own = load_trust_list(
        published.document,
        published.signature,
        pinned=[pki.operator.certificate],
        now=pki.now,
        store=MemorySequenceStore(),
    )
    validator = PathValidator(TrustRegistry(own), RevocationChecker(fetcher, clock=lambda: pki.now))
    with pytest.raises(Refused) as info:
        await validator.validate(pki.org_sign.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.CA_WITHDRAWN
    await validator.validate(pki.org_sign.certificate, at=pki.now - timedelta(days=2), usage=Usage.LOGIN)


async def test_wrong_key_usage(pki: DevPki, validator: PathValidator) -> None:
    with pytest.raises(Refused) as info:
        await validator.validate(pki.enc_only.certificate, at=pki.now, usage=Usage.BID_SIGNATURE)
    assert info.value.reason is Reason.WRONG_KEY_USAGE
    with pytest.raises(Refused) as info:
        await validator.validate(pki.org_sign.certificate, at=pki.now, usage=Usage.BID_ENCRYPTION)
    assert info.value.reason is Reason.WRONG_KEY_USAGE
    responder = pki.jiangsu_ca.ocsp_responder()  # EKU OCSPSigning only
    with pytest.raises(Refused) as info:
        await validator.validate(responder.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.WRONG_KEY_USAGE


async def test_forged_certificate_with_the_cas_name_has_a_bad_signature(pki: DevPki, validator: PathValidator) -> None:
    genuine = pki.org_sign.certificate
    forger = new_key("p256")
    forged = (
        x509.CertificateBuilder()
        .subject_name(genuine.subject)
        .issuer_name(genuine.issuer)
        .public_key(forger.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(genuine.not_valid_before_utc)
        .not_valid_after(genuine.not_valid_after_utc)
    )
    for ext in genuine.extensions:
        if not isinstance(ext.value, x509.SubjectKeyIdentifier):
            forged = forged.add_extension(ext.value, critical=ext.critical)
    forged_cert = forged.sign(forger, hashes.SHA256())  # type: ignore[arg-type]
    with pytest.raises(Refused) as info:
        await validator.validate(forged_cert, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.BAD_SIGNATURE


class _Failing(PkiFetcher):
    def __init__(self, pki: DevPki, *, fail_crl: bool = True, fail_ocsp: bool = False) -> None:
        super().__init__(pki)
        self.fail_crl, self.fail_ocsp = fail_crl, fail_ocsp

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        if (body is None and self.fail_crl) or (body is not None and self.fail_ocsp):
            raise ConnectionError(f"{url} unreachable")
        return await super().fetch(url, body=body, content_type=content_type)


async def test_ocsp_is_used_when_crls_are_unreachable(pki: DevPki, registry: TrustRegistry) -> None:
    validator = PathValidator(registry, RevocationChecker(_Failing(pki), clock=lambda: pki.now))
    path = await validator.validate(pki.org_sign.certificate, at=pki.now, usage=Usage.LOGIN)
    assert path.revocation[0].kind == "ocsp"
    with pytest.raises(Refused) as info:
        await validator.validate(pki.revoked.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.REVOKED
    assert "OCSP" in info.value.text


async def test_fails_closed_without_revocation_data(pki: DevPki, registry: TrustRegistry) -> None:
    validator = PathValidator(registry, RevocationChecker(_Failing(pki, fail_ocsp=True), clock=lambda: pki.now))
    with pytest.raises(Refused) as info:
        await validator.validate(pki.org_sign.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.REVOCATION_UNKNOWN
    # a CRL past its nextUpdate is not used either
    stale = RevocationChecker(PkiFetcher(pki), clock=lambda: pki.now + timedelta(days=30))
    validator = PathValidator(registry, stale)
    with pytest.raises(Refused) as info:
        await validator.validate(pki.org_sign.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.REVOCATION_UNKNOWN


async def test_crls_are_cached_and_refreshed(pki: DevPki, registry: TrustRegistry) -> None:
    now = [pki.now]
    fetcher = PkiFetcher(pki, clock=lambda: now[0])
    checker = RevocationChecker(fetcher, clock=lambda: now[0])
    validator = PathValidator(registry, checker)
    for _ in range(3):
        await validator.validate(pki.org_sign.certificate, at=pki.now, usage=Usage.LOGIN)
    assert fetcher.requests == [pki.jiangsu_ca.crl_url]
    assert await checker.refresh_due() == []
    now[0] = pki.now + timedelta(days=6, hours=23)  # within the margin of the CRL's nextUpdate
    assert await checker.refresh_due(margin=timedelta(days=1)) == [pki.jiangsu_ca.crl_url]
