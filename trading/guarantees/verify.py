"""Verifying an electronic guarantee against a bid's tender: signature, issuer, and the terms. Pure: no database,
no web (the guarantor's client and the bidder's tools may run it too).

`verify_guarantee` is what the platform runs on upload, at the opening and at the evaluation
(`certs-and-signatures.md` §10): the CAdES signature must cover exactly the JSON bytes received; the
signer's certificate must chain to a CA the trust list recognises for the usage ``guarantee`` and not
be revoked (`certs.pathval`, at the signature's timestamp when there is one, else now) and must name
the issuer the guarantee names (its USCC); the terms must match what the tender expects
(`Expectation`). When the PDF is given, its PAdES signature must verify for the same usage, by the
same certificate, and the PDF must embed exactly these JSON bytes.

Every problem is reported, each under one `GuaranteeReason` (the codes pages and the API word in
``trading/kernel/web/refusals.py``); a signature that does not verify stops there, since the terms
of a document nobody signed mean nothing. Whether a guarantee is already used by another bid is the
database's question (`trading.guarantees` services), not this module's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final

from cryptography import x509

from certs.errors import Reason, Refused
from certs.pathval.identity import Party, party_of
from certs.pathval.validate import PathValidator
from certs.percert import per_certificate
from certs.report import Evidence, VerificationReport
from certs.sign import cades, pades
from certs.sign.verify import tsa_hook
from certs.trustlist.model import Usage, fingerprint
from trading.guarantees.document import (
    Guarantee,
    GuaranteeKind,
    GuaranteeMalformed,
    embedded_json,
    json_sha256,
    parse_guarantee,
)


class GuaranteeReason(StrEnum):
    """Why a guarantee is refused: stable codes, worded in ``trading/kernel/web/refusals.py``."""

    SIGNATURE_INVALID = "guarantee_signature_invalid"
    ISSUER_NOT_RECOGNISED = "guarantee_issuer_not_recognised"
    ISSUER_REVOKED = "guarantee_issuer_revoked"
    BENEFICIARY_MISMATCH = "guarantee_beneficiary_mismatch"
    PROJECT_MISMATCH = "guarantee_project_mismatch"
    LOT_MISMATCH = "guarantee_lot_mismatch"
    APPLICANT_MISMATCH = "guarantee_applicant_mismatch"
    AMOUNT_INSUFFICIENT = "guarantee_amount_insufficient"
    CURRENCY_MISMATCH = "guarantee_currency_mismatch"
    VALIDITY_SHORT = "guarantee_validity_short"
    KIND_MISMATCH = "guarantee_kind_mismatch"
    MALFORMED = "guarantee_malformed"


# certs' reasons for a signature or certificate, as the guarantee's reason. Whatever is about the bytes
# or the signature value is "signature invalid"; revocation is its own; everything else about the
# certificate or its CA (unknown, not listed for ``guarantee``, withdrawn, expired, wrong key usage,
# no revocation status to be had) means the platform does not recognise this issuer.
_SIGNATURE_REASONS: Final = frozenset(
    {
        Reason.DIGEST_MISMATCH,
        Reason.BAD_SIGNATURE,
        Reason.MALFORMED,
        Reason.TIMESTAMP_INVALID,
        Reason.TIMESTAMP_MISSING,
        Reason.UNSUPPORTED_ALGORITHM,
        Reason.ALGORITHM_NOT_ACCEPTED,
    }
)


def reason_for(refusal: Reason) -> GuaranteeReason:
    """The guarantee reason for a `certs` refusal of its signature or signer."""
    if refusal is Reason.REVOKED:
        return GuaranteeReason.ISSUER_REVOKED
    if refusal in _SIGNATURE_REASONS:
        return GuaranteeReason.SIGNATURE_INVALID
    return GuaranteeReason.ISSUER_NOT_RECOGNISED


@dataclass(frozen=True)
class Finding:
    """One problem: its reason code, and what exactly was wrong (English, for logs and reports)."""

    reason: GuaranteeReason
    detail: str


@dataclass(frozen=True)
class Expectation:
    """What the tender requires of a bid's guarantee (the platform fills it from the tender and the bid).

    The validity must cover the bid validity period: start no later than the bid deadline, end no
    earlier than the end of the bid validity period.
    """

    beneficiary_uscc: str
    project_code: str
    lot_code: str
    applicant_uscc: str
    minimum_amount: Decimal
    bid_deadline: datetime
    bid_validity_end: datetime
    currency: str = "CNY"
    kind: GuaranteeKind = GuaranteeKind.BID

    def __post_init__(self) -> None:
        # The caller's mistake, said at once rather than as a TypeError in the middle of a comparison.
        for name in ("bid_deadline", "bid_validity_end"):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                msg = f"{name} needs its UTC offset"
                raise ValueError(msg)
        if not isinstance(self.minimum_amount, Decimal):
            msg = "minimum_amount is a Decimal"
            raise TypeError(msg)


@dataclass(frozen=True)
class GuaranteeVerdict:
    """The result: the guarantee and its signer when the signature verifies, and every finding (none: valid)."""

    findings: tuple[Finding, ...]
    json_sha256: str
    guarantee: Guarantee | None = None
    signer: Party | None = None
    report: VerificationReport | None = None
    pdf_reports: tuple[VerificationReport, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return not self.findings and self.guarantee is not None and self.signer is not None

    @property
    def reasons(self) -> tuple[GuaranteeReason, ...]:
        """The distinct reasons, in the order found."""
        return tuple(dict.fromkeys(f.reason for f in self.findings))


async def verify_guarantee(
    json_bytes: bytes,
    cades_bytes: bytes,
    validator: PathValidator,
    expectation: Expectation | None = None,
    *,
    pdf: bytes | None = None,
    region: str | None = None,
    industry: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> GuaranteeVerdict:
    """Verify a guarantee's JSON and its detached CAdES signature (and its PDF when given) against ``expectation``.

    ``validator`` carries the trust list and the revocation checker; ``region``/``industry`` narrow the
    recognition the way the tender's do. Without ``expectation`` only the document, its signature and
    its issuer are checked (the public verification page). Never raises for a bad guarantee.
    """
    digest = json_sha256(json_bytes)
    findings: list[Finding] = []
    guarantee: Guarantee | None = None
    try:
        guarantee = parse_guarantee(json_bytes)
    except GuaranteeMalformed as exc:
        findings.append(Finding(GuaranteeReason.MALFORMED, str(exc)))
    try:
        signed = cades.verify_detached(json_bytes, cades_bytes, validate_tsa=tsa_hook(validator))
    except Refused as refusal:
        findings.append(Finding(reason_for(refusal.reason), refusal.text))
        return GuaranteeVerdict(tuple(findings), digest, report=VerificationReport.refused(refusal))
    signer_sha256 = fingerprint(signed.signer_certificate)
    known = {
        "algorithm": signed.algorithm.name,
        "signer": _subject(signed.signer_certificate),
        "signer_certificate_sha256": signer_sha256,
        "signing_time": signed.signing_time,
        "timestamp_time": signed.timestamp.gen_time if signed.timestamp else None,
        "trust_list_sequence": validator.registry.own.sequence,
    }
    stamp = (Evidence("timestamp", "signature timestamp", signed.timestamp.token),) if signed.timestamp else ()
    at = signed.timestamp.gen_time if signed.timestamp else clock()
    signer: Party | None = None
    try:
        path = await validator.validate(
            signed.signer_certificate,
            signed.certificates,
            at=at,
            usage=Usage.GUARANTEE,
            region=region,
            industry=industry,
        )
        signer = party_of(path)
    except Refused as refusal:
        findings.append(Finding(reason_for(refusal.reason), refusal.text))
        report = VerificationReport.refused(refusal, evidence=stamp, **known)
    else:
        report = VerificationReport.passed_with(evidence=(*path.evidence(), *stamp), **known)
        if guarantee is not None and signer.identifier != guarantee.issuer.uscc:
            findings.append(
                Finding(
                    GuaranteeReason.ISSUER_NOT_RECOGNISED,
                    f"signed by {signer.identifier} ({signer.name}), not by the issuer {guarantee.issuer.uscc}",
                )
            )
    if guarantee is not None and expectation is not None:
        findings.extend(check_terms(guarantee, expectation))
    pdf_reports: tuple[VerificationReport, ...] = ()
    if pdf is not None:
        pdf_reports, pdf_findings = await _check_pdf(pdf, json_bytes, signer_sha256, validator, region)
        findings.extend(pdf_findings)
    return GuaranteeVerdict(tuple(findings), digest, guarantee, signer, report, pdf_reports)


@per_certificate(maxsize=1024)
def _subject(certificate: x509.Certificate) -> str:
    """The certificate's subject as RFC 4514 text, once per certificate (its exact DER)."""
    return certificate.subject.rfc4514_string()


def check_terms(guarantee: Guarantee, expectation: Expectation) -> list[Finding]:
    """The terms of ``guarantee`` against what the tender expects: one finding per mismatch."""
    g, x = guarantee, expectation
    found: list[Finding] = []
    for reason, what, got, wanted in (
        (GuaranteeReason.KIND_MISMATCH, "the kind", g.kind.value, x.kind.value),
        (GuaranteeReason.BENEFICIARY_MISMATCH, "the beneficiary", g.beneficiary.uscc, x.beneficiary_uscc),
        (GuaranteeReason.PROJECT_MISMATCH, "the project", g.project_code, x.project_code),
        (GuaranteeReason.LOT_MISMATCH, "the lot", g.lot_code, x.lot_code),
        (GuaranteeReason.APPLICANT_MISMATCH, "the applicant", g.applicant.uscc, x.applicant_uscc),
        (GuaranteeReason.CURRENCY_MISMATCH, "the currency", g.currency, x.currency),
    ):
        if got != wanted:
            found.append(Finding(reason, f"{what} is {got}, the tender expects {wanted}"))
    if g.currency == x.currency and g.amount < x.minimum_amount:
        found.append(
            Finding(
                GuaranteeReason.AMOUNT_INSUFFICIENT, f"the amount {g.amount} is below the required {x.minimum_amount}"
            )
        )
    if g.valid_from > x.bid_deadline:
        found.append(
            Finding(
                GuaranteeReason.VALIDITY_SHORT,
                f"valid from {g.valid_from.isoformat()}, after the bid deadline {x.bid_deadline.isoformat()}",
            )
        )
    if g.valid_until < x.bid_validity_end:
        found.append(
            Finding(
                GuaranteeReason.VALIDITY_SHORT,
                f"valid until {g.valid_until.isoformat()}, before the bid validity ends "
                f"{x.bid_validity_end.isoformat()}",
            )
        )
    return found


async def _check_pdf(
    pdf: bytes, json_bytes: bytes, signer_sha256: str, validator: PathValidator, region: str | None
) -> tuple[tuple[VerificationReport, ...], list[Finding]]:
    """The PDF's PAdES signatures (usage ``guarantee``, by the JSON's signer) and the JSON it embeds."""
    found: list[Finding] = []
    reports = tuple(await pades.verify_pdf(pdf, validator, usage=Usage.GUARANTEE, region=region))
    if not reports:
        found.append(Finding(GuaranteeReason.SIGNATURE_INVALID, "the PDF is not signed"))
    for report in reports:
        if report.reason is not None:
            found.append(Finding(reason_for(report.reason), f"PDF signature: {report.message}"))
        elif report.signer_certificate_sha256 != signer_sha256:
            found.append(
                Finding(GuaranteeReason.ISSUER_NOT_RECOGNISED, "the PDF is signed by another certificate than the JSON")
            )
    embedded = embedded_json(pdf)
    if embedded is None:
        found.append(Finding(GuaranteeReason.MALFORMED, "the PDF embeds no guarantee.json"))
    elif embedded != json_bytes:
        found.append(
            Finding(
                GuaranteeReason.MALFORMED,
                f"the PDF embeds another guarantee (sha256 {json_sha256(embedded)}, not {json_sha256(json_bytes)})",
            )
        )
    return reports, found
