"""Trust decisions over signatures: integrity plus path validation, revocation and the trust list.

`verify_document` turns a detached CAdES signature into a `VerificationReport`: the signature must
be intact, its timestamp (if any) must come from a TSA recognised for ``timestamp``, and the signer
must validate for the usage *at the best signature time* (the timestamp's ``genTime`` when there is
one, else now), so an archived bid stays verifiable after its certificate expires. Every refusal is
reported with its reason; any other failure is INDETERMINATE, never PASSED.

`verify_raw` does the same for a bare signature (a login challenge, a QR response) with a
certificate presented alongside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from certs.errors import Reason, Refused
from certs.pathval.validate import PathValidator, ValidatedPath
from certs.providers import pyca, sm2
from certs.providers.base import SignatureValue
from certs.report import Evidence, VerificationReport
from certs.sign import cades
from certs.trustlist.model import Usage
from certs.tsa.client import ValidateTsa


def tsa_hook(validator: PathValidator) -> ValidateTsa:
    """A `ValidateTsa` accepting only TSAs the registry recognises for ``timestamp`` at the token time."""

    def validate(certificate: x509.Certificate, shipped: tuple[x509.Certificate, ...], at: datetime) -> None:
        del shipped
        try:
            validator.validate_listed(certificate, at, Usage.TIMESTAMP)
        except Refused as refusal:
            raise Refused(Reason.TIMESTAMP_INVALID, f"TSA not recognised: {refusal.text}") from None

    return validate


async def verify_document(
    data: bytes,
    signature: bytes,
    validator: PathValidator,
    *,
    usage: Usage,
    region: str | None = None,
    industry: str | None = None,
    require_timestamp: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> VerificationReport:
    """The full verdict on a detached signature over ``data`` (never raises for a bad signature)."""
    try:
        signed = cades.verify_detached(
            data, signature, validate_tsa=tsa_hook(validator), require_timestamp=require_timestamp
        )
    except Refused as refusal:
        return VerificationReport.refused(refusal)
    known = {
        "algorithm": signed.algorithm.name,
        "signer": signed.signer_certificate.subject.rfc4514_string(),
        "signer_certificate_sha256": signed.signer_certificate.fingerprint(hashes.SHA256()).hex(),
        "signing_time": signed.signing_time,
        "timestamp_time": signed.timestamp.gen_time if signed.timestamp else None,
        "trust_list_sequence": validator.registry.own.sequence,
    }
    stamp_evidence = (Evidence("timestamp", "signature timestamp", signed.timestamp.token),) if signed.timestamp else ()
    at = signed.timestamp.gen_time if signed.timestamp else clock()
    try:
        path = await validator.validate(
            signed.signer_certificate, signed.certificates, at=at, usage=usage, region=region, industry=industry
        )
    except Refused as refusal:
        return VerificationReport.refused(refusal, evidence=stamp_evidence, **known)
    return VerificationReport.passed_with(evidence=(*path.evidence(), *stamp_evidence), **known)


async def verify_raw(
    data: bytes,
    signature: SignatureValue,
    certificate: x509.Certificate,
    validator: PathValidator,
    *,
    usage: Usage,
    at: datetime,
    intermediates: Sequence[x509.Certificate] = (),
    region: str | None = None,
    industry: str | None = None,
) -> ValidatedPath:
    """Check a bare signature by ``certificate``'s key, then validate the certificate; raises `Refused`."""
    if signature.algorithm.family == "sm2":
        sm2_key = sm2.certificate_public_key(certificate.public_bytes(serialization.Encoding.DER))
        if sm2_key is None:
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, "an SM2 signature needs an SM2 certificate")
        sm2.verify(sm2_key, data, signature)
    else:
        try:
            key = certificate.public_key()
        except Exception as exc:  # noqa: BLE001 - cryptography refuses SM2 and exotic keys
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"certificate key: {exc}") from None
        pyca.verify(key, data, signature)  # type: ignore[arg-type]
    validator.policy.check_signature(signature.algorithm, at)
    return await validator.validate(certificate, intermediates, at=at, usage=usage, region=region, industry=industry)
