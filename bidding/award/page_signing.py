"""The contract and the notices signed in the page (``static/js/pki/sign-pdf.js``), beside the uploads.

The platform's mechanism (`trading.parties.pdf_signing`) in two steps, each in the caller's
transaction, as the evaluation report uses it (`bidding.evaluation.report.page_signing`):

* the contract (合同): `prepare_contract_signature` for a party whose turn it is (the winner, then
  the tenderee or its agency), the current revision in the party's field (``Party-`` and the first
  16 hex digits of the certificate's SHA-256, as ``ggzy bid sign-contract`` names it, no seal);
  purpose ``award.contract``, subject the contract. `finish_contract_signature` feeds the signed
  PDF to `contract.sign_contract`, so every check of an upload applies (order, signer, price,
  uploader, performance security).
* a notice (中标通知书 / 中标结果通知书): `prepare_notice_signature` for the tender's owners, the
  unsigned draft in the field ``Tenderee-…`` with the e-seal of the certificate's organisation on
  page 1 (as ``ggzy bid sign-notice`` puts it); purpose ``award.notice``, subject the draft.
  `finish_notice_signature` feeds the signed PDF to `notices.sign_notice` (the last one issues).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import contract as contracts
from bidding.award import notices, publicity
from bidding.award.errors import AwardRefused
from bidding.award.models import Award, AwardNoticeDraft, Contract
from bidding.award.states import AwardEvent, transition
from bidding.models import Tender
from certs.sign.pades import SealAppearance
from certs.sign.seal import render_seal_image
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import Conflict, NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.parties.pdf_signing import PreparedSignature, finish_pdf_signature, prepare_pdf_signature

CONTRACT_PURPOSE: Final = "award.contract"
NOTICE_PURPOSE: Final = "award.notice"
CONTRACT_REASON: Final = "合同当事人签署合同"
NOTICE_REASON: Final = "招标人签发中标（结果）通知书"
NOTICE_SEAL_BOX: Final = (400, 60, 520, 180)


def _fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()[:16]


def contract_field_name(certificate: x509.Certificate) -> str:
    """A party's field, as ``bidding.client.sdk.contract_field_name`` names it."""
    return f"Party-{_fingerprint(certificate)}"


def notice_field_name(certificate: x509.Certificate) -> str:
    """The tenderee's field on a notice, as ``bidding.client.sdk.sign_notice`` names it."""
    return f"Tenderee-{_fingerprint(certificate)}"


def seal_name(certificate: x509.Certificate) -> str:
    """The name the e-seal reads: the certificate's organisation (O), else its common name (CN)."""
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        values = certificate.subject.get_attributes_for_oid(oid)
        if values:
            return str(values[0].value)
    return "电子签章"


# --- the contract -------------------------------------------------------------------------------


async def contract_turn(session: AsyncSession, actor: Actor, award_id: uuid.UUID) -> Contract:
    """The contract, when it is the actor's party's turn to sign it (else the refusal)."""
    award = await session.get(Award, award_id)
    if award is None:
        raise NotFound("no such award", field="award", rule="exists")
    tender = await session.get_one(Tender, award.tender_id)
    if actor.user_id is None or not contracts.is_party(actor, tender, award):
        raise PermissionDenied(
            "only the tenderee and the awarded organisation sign the contract", field="actor", rule="contract_party"
        )
    transition(publicity.position_of(award), AwardEvent.SIGN_CONTRACT, award.sector, publicity.rules_of(award))
    contract = await contracts.contract_of(session, award.id)
    if contract is None or contract.storage_key is None:
        raise AwardRefused("the contract has not been drafted yet", field="contract", rule="contract_not_drafted")
    winner = actor.organisation_id is not None and actor.organisation_id == contract.winner_organisation_id
    if winner and contract.winner_signed_at is not None:
        raise AwardRefused("the winner has signed the contract already", field="contract", rule="contract_signs_once")
    if not winner and contract.winner_signed_at is None:
        raise AwardRefused("the winner signs the contract first", field="contract", rule="winner_signs_first")
    return contract


async def prepare_contract_signature(
    session: AsyncSession, store: Store, *, actor: Actor, award_id: uuid.UUID, certificate: x509.Certificate
) -> PreparedSignature:
    """The contract's current revision prepared for the actor's party's signature in the page."""
    contract = await contract_turn(session, actor, award_id)
    assert contract.storage_key is not None  # noqa: S101 - contract_turn checked it
    pdf = await store.read_bytes(contract.storage_key)
    return await prepare_pdf_signature(
        session,
        actor=actor,
        purpose=CONTRACT_PURPOSE,
        subject_id=str(contract.id),
        pdf=pdf,
        certificate=certificate,
        field_name=contract_field_name(certificate),
        reason=CONTRACT_REASON,
    )


async def finish_contract_signature(
    session: AsyncSession,
    settings: Settings,
    store: Store,
    *,
    actor: Actor,
    award_id: uuid.UUID,
    prepared_id: str,
    signature_cms: bytes,
) -> Contract:
    """Finish the page's signature and store it as `contract.sign_contract` stores an upload."""
    contract = await contracts.contract_of(session, award_id)
    if contract is None:
        raise AwardRefused("the contract has not been drafted yet", field="contract", rule="contract_not_drafted")
    signed = await finish_pdf_signature(
        session,
        settings,
        actor=actor,
        request_id=prepared_id,
        purpose=CONTRACT_PURPOSE,
        subject_id=str(contract.id),
        signature_cms=signature_cms,
    )
    return await contracts.sign_contract(session, settings, store=store, actor=actor, award_id=award_id, pdf=signed.pdf)


# --- the notices --------------------------------------------------------------------------------


async def unsigned_draft(session: AsyncSession, actor: Actor, draft_id: uuid.UUID) -> AwardNoticeDraft:
    """The draft, when the actor is of the tender's owners and it still waits for its signature."""
    draft = await session.get(AwardNoticeDraft, draft_id)
    if draft is None:
        raise NotFound("no such notice draft", field="draft", rule="exists")
    award = await session.get_one(Award, draft.award_id)
    tender = await session.get_one(Tender, award.tender_id)
    if actor.user_id is None or not publicity.is_tenderee(actor, tender):
        raise PermissionDenied("only the tenderee or its agency issues the notices", field="actor", rule="owner")
    if draft.signed_at is not None:
        raise Conflict("this notice is signed already", field="draft", rule="notice_signed_once")
    if draft.voided_at is not None:
        raise Conflict("this draft names a winner passed over since; draft again", field="draft", rule="draft_void")
    return draft


async def prepare_notice_signature(
    session: AsyncSession, store: Store, *, actor: Actor, draft_id: uuid.UUID, certificate: x509.Certificate
) -> PreparedSignature:
    """A notice's draft prepared for the tenderee's signature in the page, with its e-seal."""
    draft = await unsigned_draft(session, actor, draft_id)
    pdf = await notices.draft_pdf(session, store, actor, draft.id)  # the owners only
    award = await session.get_one(Award, draft.award_id)
    transition(publicity.position_of(award), AwardEvent.ISSUE_NOTICES, award.sector, publicity.rules_of(award))
    seal = SealAppearance(render_seal_image(seal_name(certificate)), page=0, box=NOTICE_SEAL_BOX)
    return await prepare_pdf_signature(
        session,
        actor=actor,
        purpose=NOTICE_PURPOSE,
        subject_id=str(draft.id),
        pdf=pdf,
        certificate=certificate,
        field_name=notice_field_name(certificate),
        seal=seal,
        reason=NOTICE_REASON,
    )


async def finish_notice_signature(
    session: AsyncSession,
    settings: Settings,
    store: Store,
    *,
    actor: Actor,
    draft_id: uuid.UUID,
    prepared_id: str,
    signature_cms: bytes,
) -> AwardNoticeDraft:
    """Finish the page's signature and store it as `notices.sign_notice` stores an upload."""
    signed = await finish_pdf_signature(
        session,
        settings,
        actor=actor,
        request_id=prepared_id,
        purpose=NOTICE_PURPOSE,
        subject_id=str(draft_id),
        signature_cms=signature_cms,
    )
    return await notices.sign_notice(session, settings, store, actor, draft_id, signed.pdf)
