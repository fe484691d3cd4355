"""Signed tender documents: the seal signature must verify and name the tenderee or its agency;
the bytes are stored durably before the row that names them.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from pathlib import Path

from bidding.errors import TenderRuleViolated, TenderStateConflict
from bidding.models import (
    DocumentKind,
    Tender,
    TenderDocument,
    TenderStatus,
)
from bidding.tenders.base import (
    DOCUMENTS_NAMESPACE,
    TITLE_MAX,
    RuleErrors,
    TenderBase,
)
from certs.errors import Refused
from certs.pathval.identity import extract_party
from certs.sign import cades
from certs.sign.verify import verify_document
from certs.trustlist.model import Usage
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.parties.certificates.trust import PlatformRefused, trust_context
from trading.parties.repository import OrganisationRepository


class TenderDocuments(TenderBase):
    """Signed documents: verified for the tenderee or its agency, stored before their row."""

    async def _verify_signature(
        self, tender: Tender, data: bytes, signature: bytes, now: datetime
    ) -> tuple[str, uuid.UUID]:
        """The signer certificate's SHA-256 and organisation, or a refusal naming ``signature``.

        The signature must verify for ``seal`` (CAdES over the exact bytes, recognised CA, not
        revoked, at the timestamp's time or now) and the certificate must name the tenderee or
        its agency (统一社会信用代码 by the CA's identity mapping in the trust list).
        """
        try:
            context = await trust_context(self.session, self.settings, now)
        except (Refused, PlatformRefused) as exc:
            raise TenderRuleViolated(str(exc), field="signature", rule=exc.reason.value) from exc
        report = await verify_document(data, signature, context.validator, usage=Usage.SEAL, clock=lambda: now)
        if not report.passed:
            rule = report.reason.value if report.reason else "indeterminate"
            raise TenderRuleViolated(f"the signature is not accepted: {report.message}", field="signature", rule=rule)
        # The report says the path is valid; read the party from it as certificate login does.
        signed = cades.verify_detached(data, signature)
        at = report.timestamp_time or now
        try:
            chain = context.validator.build_chain(signed.signer_certificate, signed.certificates)
            recognition = context.registry.recognise(chain[-1], at=at, usage=Usage.SEAL)
            party = extract_party(
                signed.signer_certificate, recognition.service.identity_mapping, recognition.service.name
            )
        except Refused as exc:
            raise TenderRuleViolated(exc.text, field="signature", rule=exc.reason.value) from exc
        organisation = (
            await OrganisationRepository(self.session).by_uscc(party.identifier)
            if party.kind == "organisation"
            else None
        )
        if organisation is None or organisation.id not in {
            tender.tenderee_organisation_id,
            tender.agency_organisation_id,
        }:
            raise TenderRuleViolated(
                f"the document is signed by {party.name or party.identifier}, not the tenderee or its agency",
                field="signature",
                rule="signer-not-tenderee",
            )
        return party.certificate_sha256, organisation.id

    async def _store_document(
        self,
        actor: Actor,
        tender: Tender,
        *,
        kind: DocumentKind,
        title: str,
        filename: str,
        media_type: str,
        data: bytes,
        signature: bytes,
        now: datetime,
        published: bool,
    ) -> TenderDocument:
        errors = RuleErrors()
        title = title.strip()
        if not title or len(title) > TITLE_MAX:
            errors.add("title", "required", f"a title of 1–{TITLE_MAX} characters")
        filename = Path(filename or "").name.strip()
        if not filename or len(filename) > 255:  # noqa: PLR2004 - column size
            errors.add("file", "filename", "the file needs a name of at most 255 characters")
        if not data:
            errors.add("file", "required", "the document is empty")
        if not signature:
            errors.add("signature", "required", "a detached signature (.p7s) is required")
        errors.raise_if_any()
        signer_sha256, signer_organisation = await self._verify_signature(tender, data, signature, now)
        sha256 = hashlib.sha256(data).hexdigest()
        # The bytes are durable before the row that names them commits (see trading.kernel.storage).
        key = self.store.put(DOCUMENTS_NAMESPACE, sha256, data)
        document = TenderDocument(
            id=uuid7(),
            tender_id=tender.id,
            kind=kind,
            title=title,
            filename=filename,
            media_type=(media_type or "application/octet-stream")[:100],
            size=len(data),
            sha256=sha256,
            storage_key=key,
            signature=signature,
            signer_sha256=signer_sha256,
            signer_organisation_id=signer_organisation,
            uploaded_by=actor.user_id,
            published_at=now if published else None,
            created_at=now,
        )
        self.session.add(document)
        await self.session.flush()
        return document

    async def add_document(  # noqa: PLR0917 - the parts of a signed document, in the order of the form
        self,
        actor: Actor,
        tender: Tender,
        kind: DocumentKind,
        title: str,
        filename: str,
        media_type: str,
        data: bytes,
        signature: bytes,
    ) -> TenderDocument:
        """Attach a signed document to a draft; it is published with the tender."""
        self._assert_owner(actor, tender)
        if tender.status is not TenderStatus.DRAFT:
            raise TenderStateConflict(
                "after publication documents change only through a clarification", field="status", rule="draft_only"
            )
        now = await clock.now(self.session)
        document = await self._store_document(
            actor,
            tender,
            kind=kind,
            title=title,
            filename=filename,
            media_type=media_type,
            data=data,
            signature=signature,
            now=now,
            published=False,
        )
        await self._record(
            actor,
            "document_added",
            tender,
            summary={"document_id": str(document.id), "kind": kind.value, "sha256": document.sha256},
            data={"title": document.title, "filename": document.filename, "signer_sha256": document.signer_sha256},
        )
        return document
