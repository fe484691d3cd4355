"""PAdES signatures on PDFs (WeasyPrint output): B-T, B-LT and the archival B-LTA, with a visible seal.

Signing goes through pyHanko (`PdfSigner`) with two adapters: the signature value comes from the
identity's `Signer` (an in-memory key or an HSM), and timestamps come from any `TsaTransport` (the
platform TSA in-process, or over HTTP). Given revocation data (CRLs/OCSP responses for the signer's
and the TSA's chains, from `trading/`'s revocation cache) and the trust roots, the signature is
extended to B-LT (a ``/DSS`` with the part of that data about the signer's and the TSA's chains,
nothing else) and, with ``lta``, to B-LTA (a document timestamp over
everything), which is how award notices, opening records and evaluation reports are archived
(reference §4.3–4.4: B-LT alone gives ``NO_POE``).

A `SealAppearance` puts the seal image into the signature field's appearance on the page: the image
is part of the signed revision, so the seal cannot be lifted onto another document.

`verify_pdf` reports on every signature: integrity and the modification analysis from pyHanko, and
trust from `certs.pathval` at the signature's timestamp time. Incremental signing keeps earlier
signatures valid (bidder → agency → platform).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped]
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import tsp as asn1_tsp
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp
from PIL import Image
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature
from pyhanko.stamp.static import StaticStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from certs import algorithms as algs
from certs import cms
from certs.errors import Reason, Refused
from certs.pathval.validate import PathValidator
from certs.report import Evidence, VerificationReport
from certs.trustlist.model import Usage
from certs.tsa.client import TsaTransport


class _ProviderSigner(signers.Signer):
    """pyHanko signer whose raw signatures come from a `certs` `Signer` (key or HSM)."""

    def __init__(self, identity: cms.SigningIdentity) -> None:
        super().__init__(
            signing_cert=cms.to_asn1(identity.certificate),
            cert_registry=SimpleCertificateStore.from_certs([cms.to_asn1(c) for c in identity.chain]),  # type: ignore[no-untyped-call]
            signature_mechanism=cms.signature_algorithm_id(identity.signer.algorithm),
            embed_roots=True,
        )
        self._identity = identity

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:  # noqa: FBT001, FBT002 - pyHanko's signature
        del dry_run  # a real signature is cheap and has the right size
        expected = self._identity.signer.algorithm.digest
        if expected is not None and expected.name != digest_algorithm:
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"{digest_algorithm} requested for {expected.name}")
        return self._identity.signer.sign(data).value


class _TransportTimestamper(timestamps.TimeStamper):
    """pyHanko timestamper over a `TsaTransport`."""

    def __init__(self, transport: TsaTransport) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self._transport = transport

    async def async_request_tsa_response(self, req: Any) -> Any:
        return asn1_tsp.TimeStampResp.load(await self._transport.request(req.dump()))


@dataclass(frozen=True)
class SealAppearance:
    """A seal image (PNG) shown in the signature's box on a page (PDF points, origin bottom left)."""

    image_png: bytes
    page: int = 0
    box: tuple[int, int, int, int] = (400, 40, 520, 160)


@dataclass(frozen=True)
class RevocationMaterial:
    """What B-LT/B-LTA may embed: trust roots and DER CRLs / OCSP responses (typically the whole cache).

    `sign_pdf` embeds only the part `covering` the chains of the signature and its timestamps: pyHanko
    puts every CRL and OCSP response of its validation context into the ``/DSS``, so handing it the
    whole cache would publish unrelated CAs' revocation data in every signed document.
    """

    trust_roots: Sequence[x509.Certificate]
    crls: Sequence[bytes] = ()
    ocsps: Sequence[bytes] = ()

    def covering(self, chain_certificates: Sequence[x509.Certificate]) -> RevocationMaterial:
        """Only the CRLs and OCSP responses that speak about one of ``chain_certificates``.

        A CRL counts when its issuer issued one of the certificates (name match, and its signature
        verifies under that issuer's key where the issuer certificate is known); an OCSP response when
        one of its answers names one of the certificates (serial and issuer-name hash).
        """
        known = [*chain_certificates, *self.trust_roots]
        needing = [c for c in chain_certificates if c.issuer != c.subject]
        crls = [der for der in self.crls if _crl_covers(der, needing, known)]
        ocsps = [der for der in self.ocsps if _ocsp_covers(der, needing)]
        return RevocationMaterial(self.trust_roots, tuple(crls), tuple(ocsps))

    def validation_context(self) -> ValidationContext:
        return ValidationContext(
            trust_roots=[cms.to_asn1(c) for c in self.trust_roots],
            crls=[asn1_crl.CertificateList.load(d) for d in self.crls],
            ocsps=[asn1_ocsp.OCSPResponse.load(d) for d in self.ocsps],
            allow_fetching=False,
            revocation_mode="hard-fail",
        )


def _crl_covers(der: bytes, needing: Sequence[x509.Certificate], known: Sequence[x509.Certificate]) -> bool:
    try:
        crl = x509.load_der_x509_crl(der)
    except ValueError:
        return False
    if not any(c.issuer == crl.issuer for c in needing):
        return False
    issuers = [c for c in known if c.subject == crl.issuer]
    if not issuers:
        return True  # the issuer certificate is not at hand: the name is all that can be compared
    for issuer in issuers:
        try:
            if crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                return True
        except (TypeError, ValueError, UnsupportedAlgorithm):
            continue
    return False


def _ocsp_covers(der: bytes, needing: Sequence[x509.Certificate]) -> bool:
    try:
        response = ocsp.load_der_ocsp_response(der)
        if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            return False
        answers = list(response.responses)
    except ValueError:
        return False
    for answer in answers:
        for certificate in needing:
            if answer.serial_number != certificate.serial_number:
                continue
            name_hash = hashes.Hash(answer.hash_algorithm)
            name_hash.update(certificate.issuer.public_bytes())
            if name_hash.finalize() == answer.issuer_name_hash:
                return True
    return False


async def _timestamp_certificates(timestamper: timestamps.TimeStamper, digest: str) -> list[x509.Certificate]:
    """The TSA's certificates, from pyHanko's size-estimate token (cached: the signing reuses it)."""
    token = await timestamper.async_dummy_response(digest)
    return [
        x509.load_der_x509_certificate(c.chosen.dump())
        for c in token["content"]["certificates"]
        if c.name == "certificate"
    ]


async def sign_pdf(
    pdf: bytes,
    identity: cms.SigningIdentity,
    *,
    tsa: TsaTransport,
    field_name: str = "Signature1",
    reason: str | None = None,
    location: str | None = None,
    seal: SealAppearance | None = None,
    revocation: RevocationMaterial | None = None,
    lta: bool = True,
) -> bytes:
    """Sign ``pdf`` (PAdES B-T; B-LT with ``revocation``; B-LTA with ``revocation`` and ``lta``)."""
    digest = (identity.signer.algorithm.digest or algs.SHA512).name
    timestamper = _TransportTimestamper(tsa)
    if revocation is not None:
        chains = [identity.certificate, *identity.chain, *await _timestamp_certificates(timestamper, digest)]
        revocation = revocation.covering(chains)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm=digest,
        reason=reason,
        location=location,
        embed_validation_info=revocation is not None,
        use_pades_lta=lta and revocation is not None,
        validation_context=revocation.validation_context() if revocation else None,
    )
    stamp_style = None
    field_spec = None
    if seal is not None:
        image = Image.open(io.BytesIO(seal.image_png))
        image.load()
        stamp_style = StaticStampStyle(background=PdfImage(image), border_width=0, background_opacity=1.0)
        field_spec = fields.SigFieldSpec(field_name, on_page=seal.page, box=seal.box)
    signer = signers.PdfSigner(
        meta,
        _ProviderSigner(identity),
        timestamper=timestamper,
        stamp_style=stamp_style,
        new_field_spec=field_spec,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    output = await signer.async_sign_pdf(writer)
    return bytes(output.getvalue())


async def verify_pdf(
    pdf: bytes, validator: PathValidator, *, usage: Usage = Usage.SEAL, region: str | None = None
) -> list[VerificationReport]:
    """One report per signature (in document order): integrity, modifications, then trust at the timestamp time."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    roots = [cms.to_asn1(c) for c in validator.registry.certificates()]
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    reports = []
    for embedded in reader.embedded_regular_signatures:
        try:
            status = await async_validate_pdf_signature(embedded, signer_validation_context=context)
        except Exception as exc:  # noqa: BLE001 - the AdES engine raises many kinds; unknown is not valid
            reports.append(VerificationReport.refused(Refused(Reason.MALFORMED, f"{type(exc).__name__}: {exc}")))
            continue
        reports.append(await _report(embedded, status, validator, usage, region))
    return reports


async def _report(
    embedded: Any, status: Any, validator: PathValidator, usage: Usage, region: str | None
) -> VerificationReport:
    signer_cert = x509.load_der_x509_certificate(status.signing_cert.dump())
    known: dict[str, Any] = {
        "algorithm": status.md_algorithm,
        "signer": signer_cert.subject.rfc4514_string(),
        "signer_certificate_sha256": signer_cert.fingerprint(hashes.SHA256()).hex(),
        "signing_time": status.signer_reported_dt,
        "trust_list_sequence": validator.registry.own.sequence,
    }
    if not status.intact:
        return VerificationReport.refused(Refused(Reason.DIGEST_MISMATCH, "the signed revision was altered"), **known)
    if not status.valid:
        return VerificationReport.refused(Refused(Reason.BAD_SIGNATURE), **known)
    if status.docmdp_ok is False or (
        status.modification_level is not None and status.modification_level.name == "OTHER"
    ):
        return VerificationReport.refused(
            Refused(Reason.DIGEST_MISMATCH, "the document was modified after signing"), **known
        )
    stamp = status.timestamp_validity
    if stamp is None or not stamp.intact or not stamp.valid:
        return VerificationReport.refused(
            Refused(Reason.TIMESTAMP_MISSING, "PAdES signatures must be timestamped"), **known
        )
    at = stamp.timestamp
    known["timestamp_time"] = at
    try:
        validator.validate_listed(x509.load_der_x509_certificate(stamp.signing_cert.dump()), at, Usage.TIMESTAMP)
        certificates = [x509.load_der_x509_certificate(c.dump()) for c in embedded.signed_data["certificates"]]
        path = await validator.validate(signer_cert, certificates, at=at, usage=usage, region=region)
    except Refused as refusal:
        return VerificationReport.refused(refusal, **known)
    return VerificationReport.passed_with(
        evidence=(*path.evidence(), Evidence("pdf-signature", embedded.field_name)), **known
    )
