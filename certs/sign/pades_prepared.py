"""PAdES signatures whose signature value is made elsewhere (in the browser): prepare, then finish.

`prepare_pdf` adds, as an incremental update, the signature field (with the seal's appearance when
given) and a signature dictionary whose ``/Contents`` is a zero-filled placeholder, through
pyHanko's interrupted signing (`PdfSigner.async_digest_doc_for_signing`). What the signer signs is
`PreparedPdf.signed_bytes`: the file without the placeholder, exactly the ``/ByteRange``.

`finish_pdf` takes the detached CMS (CAdES) the signer made over those bytes, checks it
cryptographically (`certs.cms.verify_signed_data`: one signer, message digest, signature,
signing-certificate-v2), requires the signer's certificate to be the one the PDF was prepared for
and the digest algorithm to be the prepared one, adds a signature timestamp from ``tsa`` as the
unsigned attribute ``signature-time-stamp-token`` (PAdES B-T) and writes the result into the
placeholder. Refusals are `certs.errors.Refused`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Final

from asn1crypto import cms as asn1_cms  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.stamp.static import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from certs import cms
from certs.errors import Reason, Refused
from certs.sign.pades import SealAppearance
from certs.tsa import client as tsa_client

RESERVED_BYTES: Final = 48 * 1024
"""Room for the CMS in the placeholder (hex doubles it): the signer's chain and a TSA token fit."""


@dataclass(frozen=True)
class PreparedPdf:
    """A PDF with an empty signature placeholder, waiting for the CMS over `signed_bytes`."""

    pdf: bytes
    byte_range: tuple[int, int, int, int]
    digest_algorithm: str
    """``sha256`` or ``sha384``: what the signer's key uses (as ``cades.js`` chooses)."""

    @property
    def signed_bytes(self) -> bytes:
        """The bytes the ``/ByteRange`` covers: everything but the ``/Contents`` placeholder."""
        start, first, second, length = self.byte_range
        return self.pdf[start : start + first] + self.pdf[second : second + length]


def digest_algorithm_for(certificate: x509.Certificate) -> str:
    """The digest the page's signer uses with this key: SHA-384 for EC P-384, else SHA-256."""
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp384r1":
        return "sha384"
    return "sha256"


async def prepare_pdf(
    pdf: bytes,
    certificate: x509.Certificate,
    *,
    field_name: str,
    seal: SealAppearance | None = None,
    reason: str | None = None,
    location: str | None = None,
) -> PreparedPdf:
    """``pdf`` plus an incremental update holding the signature field and an empty placeholder."""
    digest = digest_algorithm_for(certificate)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm=digest,
        reason=reason,
        location=location,
    )
    stamp_style = None
    field_spec = None
    if seal is not None:
        image = Image.open(io.BytesIO(seal.image_png))
        image.load()
        stamp_style = StaticStampStyle(background=PdfImage(image), border_width=0, background_opacity=1.0)
        field_spec = fields.SigFieldSpec(field_name, on_page=seal.page, box=seal.box)
    external = signers.ExternalSigner(
        signing_cert=cms.to_asn1(certificate),
        cert_registry=SimpleCertificateStore.from_certs([cms.to_asn1(certificate)]),  # type: ignore[no-untyped-call]
        signature_value=bytes(512),
    )
    signer = signers.PdfSigner(meta, external, stamp_style=stamp_style, new_field_spec=field_spec)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    output = io.BytesIO()
    prepared, _, _ = await signer.async_digest_doc_for_signing(writer, bytes_reserved=RESERVED_BYTES * 2, output=output)
    data = output.getvalue()
    start, end = prepared.reserved_region_start, prepared.reserved_region_end
    return PreparedPdf(data, (0, start, end, len(data) - end), digest)


async def finish_pdf(
    prepared: PreparedPdf, signature_cms: bytes, certificate: x509.Certificate, *, tsa: tsa_client.TsaTransport
) -> bytes:
    """The signed PDF: ``signature_cms`` (checked, then timestamped) in the placeholder of ``prepared``."""
    verified = cms.verify_signed_data(signature_cms, detached_content=prepared.signed_bytes)
    if verified.signer_certificate != certificate:
        raise Refused(Reason.BINDING_MISMATCH, "the signature is not by the certificate the PDF was prepared for")
    signer_info = verified.signer_info
    digest = signer_info["digest_algorithm"]["algorithm"].native
    if digest != prepared.digest_algorithm:
        raise Refused(Reason.ALGORITHM_NOT_ACCEPTED, f"{digest} used, {prepared.digest_algorithm} prepared")
    token = asn1_cms.ContentInfo.load(await tsa_client.timestamp(tsa, bytes(signer_info["signature"].native)))
    content_info = cms.load_content_info(signature_cms)
    info = content_info["content"]["signer_infos"][0]
    unsigned = list(info["unsigned_attrs"]) if cms.present(info["unsigned_attrs"]) else []
    unsigned.append(asn1_cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]}))
    info["unsigned_attrs"] = asn1_cms.CMSAttributes(unsigned)
    der = content_info.dump(force=False)
    start, end = prepared.byte_range[1], prepared.byte_range[2]
    if len(der) * 2 > end - start - 2:
        raise Refused(Reason.MALFORMED, f"the signature is too large for the placeholder ({len(der)} bytes)")
    output = io.BytesIO(prepared.pdf)
    PreparedByteRangeDigest(b"", start, end).fill_with_cms(output, der)
    return output.getvalue()


def certificate_sha256(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()
