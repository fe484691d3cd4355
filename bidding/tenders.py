"""Tenders: drafts and lots, signed documents, publication, clarification and extension, downloads,
questions, search. Services only flush; the request (or job) owns the transaction.

Every state change appends a ledger entry on the tender's project chain (``project_code``).
Entries whose actor would reveal a bidder before the deadline (downloads, questions) go on the
project's *sealed* chain (Order 20 Art. 21), opened by the deadline sweep (`bidding.jobs`).

Refusing to list the downloaders before the deadline must leave an audit entry that commits, yet
the caller must see an error. `TenderService.downloads` therefore *returns* the
`SealedUntilDeadline` error after appending the entry instead of raising it; the API answers it as
problem+json from a normal return, so the request commits (the same pattern as refused certificate
logins in ``trading.parties.certificates.login``).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import msgspec
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy.ext.asyncio import AsyncSession

from bidding import visibility
from bidding.errors import SealedUntilDeadline, TenderRuleViolated, TenderStateConflict
from bidding.models import (
    DocumentDownload,
    DocumentKind,
    EvaluationMethod,
    Lot,
    Question,
    Tender,
    TenderCategory,
    TenderDocument,
    TenderStatus,
)
from bidding.repository import TenderRepository, decode_cursor, encode_cursor
from bidding.rules import BID_SECURITY_FORMS, TenderRules, UnknownTenderType, rules_for
from bidding.schemas import KeyHolderCreate, LotCreate, TenderCreate, TenderUpdate
from bidding.visibility import may_list_bidders
from certs.errors import Refused
from certs.pathval.identity import extract_party
from certs.pathval.validate import check_usage
from certs.sign import cades
from certs.sign.verify import verify_document
from certs.trustlist.model import Usage
from trading.kernel import calendar as working_calendar
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.ledger.service import append_entry, disclose_chain, withhold_chain
from trading.parties.certificates.trust import PlatformRefused, trust_context
from trading.parties.models import Organisation

PROJECT_CODE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""统一交易标识码: the characters the ledger accepts in a chain name (`trading.ledger.service`)."""
PROJECT_CODE_MAX: Final = 64
LOT_CODE_MAX: Final = 40
TITLE_MAX: Final = 300
QUESTION_MAX: Final = 4000
ANSWER_MAX: Final = 8000
CRITERIA_TOTAL: Final = 100
DOCUMENTS_NAMESPACE: Final = "documents"
SEARCH_LIMIT_MAX: Final = 100
_DOWNLOADABLE: Final = frozenset({TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.OPENING})


# --- errors collected per form -------------------------------------------------------------------


@dataclass
class RuleErrors:
    """Every rule a tender breaks, raised together as one 422 listing each field and rule."""

    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, field_name: str, rule: str, message: str) -> None:
        self.items.append({"field": field_name, "rule": rule, "message": message})

    def rules(self) -> set[tuple[str, str]]:
        return {(item["field"], item["rule"]) for item in self.items}

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        message = first["message"] if len(self.items) == 1 else f"{len(self.items)} tender rules are broken"
        raise TenderRuleViolated(message, field=first["field"], rule=first["rule"], extra={"errors": self.items})


@dataclass(frozen=True)
class TenderView:
    tender: Tender
    lots: list[Lot]
    documents: list[TenderDocument]


@dataclass(frozen=True)
class Downloader:
    organisation_id: uuid.UUID
    name: str
    uscc: str
    downloads: int
    first_download_at: datetime


@dataclass(frozen=True)
class SearchPage:
    items: list[Tender]
    next_cursor: str | None


# --- the service ---------------------------------------------------------------------------------


class TenderService:
    def __init__(self, session: AsyncSession, settings: Settings, store: FileStore) -> None:
        self.session = session
        self.settings = settings
        self.store = store
        self.repo = TenderRepository(session)

    async def _record(
        self,
        actor: Actor,
        action: str,
        tender: Tender,
        *,
        summary: Mapping[str, Any],
        data: Mapping[str, Any] | None = None,
        sealed: bool = False,
    ) -> None:
        await append_entry(
            self.session,
            actor=actor,
            action=f"bidding.{action}",
            subject_type="bidding.tender",
            subject_id=str(tender.id),
            data={**summary, **(data or {})},
            summary=summary,
            project_code=tender.project_code,
            sealed=sealed,
        )

    # --- lookups ---------------------------------------------------------------------------------

    async def tender(self, code: str, *, lock: bool = False) -> Tender:
        tender = await self.repo.by_code(code, lock=lock)
        if tender is None:
            raise NotFound("no such tender", field="code", rule="exists")
        return tender

    @staticmethod
    def owns(actor: Actor, tender: Tender) -> bool:
        """The tenderee or its agency (the rule is `bidding.visibility.owns`)."""
        return visibility.owns(actor, tenderee=tender.tenderee_organisation_id, agency=tender.agency_organisation_id)

    def _assert_owner(self, actor: Actor, tender: Tender) -> None:
        if not self.owns(actor, tender):
            raise PermissionDenied("only the tenderee or its agency manages this tender", field="code", rule="owner")

    async def detail(self, code: str, actor: Actor) -> TenderView:
        """A tender with its lots and documents: published ones for everybody; a draft (and its
        unpublished documents) only for the tenderee and its agency.
        """
        tender = await self.tender(code)
        owner = self.owns(actor, tender)
        if tender.status is TenderStatus.DRAFT and not owner:
            raise NotFound("no such tender", field="code", rule="exists")
        documents = await self.repo.documents(tender.id, published_only=not owner)
        return TenderView(tender, await self.repo.lots(tender.id), documents)

    async def search(
        self,
        actor: Actor,
        *,
        q: str | None = None,
        status: TenderStatus | None = None,
        category: TenderCategory | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> SearchPage:
        """Published (and later) tenders, newest first; drafts only of the caller's organisation."""
        limit = max(1, min(limit, SEARCH_LIMIT_MAX))
        rows = await self.repo.search(
            organisation_id=actor.organisation_id,
            q=(q or "").strip() or None,
            status=status,
            category=category,
            limit=limit + 1,
            after=decode_cursor(cursor) if cursor else None,
        )
        page = rows[:limit]
        return SearchPage(page, encode_cursor(page[-1]) if len(rows) > limit else None)

    # --- drafts ----------------------------------------------------------------------------------

    async def _tenderee_and_agency(
        self, actor: Actor, named: uuid.UUID | None, errors: RuleErrors
    ) -> tuple[uuid.UUID | None, uuid.UUID | None]:
        if actor.organisation_id is None or actor.user_id is None:
            raise PermissionDenied("a tender belongs to an organisation", field="organisation", rule="organisation")
        if Role.AGENCY in actor.roles and named is not None and named != actor.organisation_id:
            if await self.session.get(Organisation, named) is None:
                errors.add("tendereeOrganisationId", "exists", "no such tenderee organisation")
                return None, None
            return named, actor.organisation_id
        if Role.TENDEREE in actor.roles:
            return actor.organisation_id, None
        if Role.AGENCY in actor.roles:
            errors.add("tendereeOrganisationId", "required", "an agency names the tenderee it acts for")
            return None, None
        raise PermissionDenied("only tenderees and agencies create tenders", field="role", rule="tenderee_or_agency")

    @staticmethod
    def _check_lots(lots: Sequence[LotCreate], errors: RuleErrors) -> None:
        if not lots:
            errors.add("lots", "min_one", "a tender has at least one lot")
            return
        codes = [lot.code.strip() for lot in lots]
        if len(set(codes)) != len(codes):
            errors.add("lots", "unique_codes", "lot codes must be unique within the tender")
        for lot in lots:
            if (
                not lot.code.strip()
                or len(lot.code.strip()) > LOT_CODE_MAX
                or not PROJECT_CODE.fullmatch(lot.code.strip())
            ):
                errors.add("lots", "lot_code", f"a lot code has 1–{LOT_CODE_MAX} letters, digits, '.', '_' or '-'")
            if not lot.name.strip():
                errors.add("lots", "lot_name", "every lot has a name")
            if lot.estimate < 0:
                errors.add("lots", "lot_estimate", "a lot's estimate is not negative")
            if lot.bid_security_amount is not None and lot.bid_security_amount < 0:
                errors.add("lots", "not_negative", "a lot's bid security cannot be negative")

    def _key_holders(
        self, holders: Sequence[KeyHolderCreate], threshold: int | None, errors: RuleErrors, *, remedy: bool
    ) -> dict[str, Any]:
        """``{"holders": [{"name", "certificate", "sha256"}], "threshold", "remedy"}``; the
        certificates must parse and allow key encipherment or agreement (they receive key shares).
        """
        stored = []
        for index, holder in enumerate(holders):
            try:
                certificate = x509.load_pem_x509_certificate(holder.certificate.encode())
            except ValueError:
                errors.add("keyHolders", "certificate_unreadable", f"key holder {index + 1}: not a PEM certificate")
                continue
            try:
                check_usage(certificate, Usage.BID_ENCRYPTION)
            except Refused:
                errors.add(
                    "keyHolders",
                    "not_encryption_capable",
                    f"key holder {index + 1}: the certificate cannot encrypt keys",
                )
                continue
            if not holder.name.strip():
                errors.add("keyHolders", "required", f"key holder {index + 1} needs a name")
            stored.append(
                {
                    "name": holder.name.strip(),
                    "certificate": holder.certificate.strip(),
                    "sha256": certificate.fingerprint(hashes.SHA256()).hex(),
                }
            )
        if holders and (threshold is None or not 1 <= threshold <= len(holders)):
            errors.add("keyThreshold", "threshold_range", f"the threshold k must satisfy 1 ≤ k ≤ {len(holders)}")
        if not holders and threshold is not None:
            errors.add("keyThreshold", "threshold_range", "a threshold needs key holders")
        return {"holders": stored, "threshold": threshold if holders else None, "remedy": remedy}

    async def create_draft(self, actor: Actor, data: TenderCreate) -> Tender:
        """A draft tender with its lots. The tenderee is the caller's organisation, or, for an
        agency, the organisation it names.
        """
        errors = RuleErrors()
        tenderee, agency = await self._tenderee_and_agency(actor, data.tenderee_organisation_id, errors)
        code = data.project_code.strip()
        if not PROJECT_CODE.fullmatch(code) or len(code) > PROJECT_CODE_MAX:
            errors.add("projectCode", "project_code", "1–64 letters, digits, '.', '_' or '-', starting alphanumeric")
        elif await self.repo.code_taken(code):
            errors.add("projectCode", "unique", "another tender has this project code")
        title = data.title.strip()
        if not title or len(title) > TITLE_MAX:
            errors.add("title", "required", f"a title of 1–{TITLE_MAX} characters")
        rules: TenderRules | None = None
        try:
            rules = rules_for(data.tender_type, self.settings)
        except UnknownTenderType:
            errors.add("tenderType", "known", f"unknown tender type {data.tender_type!r}")
        if data.estimate <= 0:
            errors.add("estimate", "positive", "the estimate must be positive")
        self._check_lots(data.lots, errors)
        key_holders = self._key_holders(data.key_holders, data.key_threshold, errors, remedy=data.key_remedy)
        errors.raise_if_any()
        assert tenderee is not None  # noqa: S101 - errors raised otherwise
        assert rules is not None  # noqa: S101
        assert actor.user_id is not None  # noqa: S101 - checked with the tenderee
        now = await clock.now(self.session)
        tender = Tender(
            id=uuid7(),
            project_code=code,
            title=title,
            category=data.category,
            tender_type=data.tender_type,
            status=TenderStatus.DRAFT,
            tenderee_organisation_id=tenderee,
            agency_organisation_id=agency,
            created_by=actor.user_id,
            estimate=data.estimate,
            bid_security_amount=data.bid_security_amount,
            bid_security_forms={"forms": list(data.bid_security_forms)},
            evaluation_method=data.evaluation_method,
            evaluation_criteria={"criteria": [{"name": c.name, "weight": c.weight} for c in data.evaluation_criteria]},
            documents_from=data.documents_from,
            documents_until=data.documents_until,
            deadline=data.deadline,
            decryption_window_minutes=data.decryption_window_minutes or rules.decryption_window_minutes_default,
            bid_validity_days=data.bid_validity_days,
            max_package_bytes=data.max_package_bytes or rules.max_package_bytes,
            key_holders=key_holders,
            rules=None,
            extensions=0,
            created_at=now,
            updated_at=now,
        )
        self.session.add(tender)
        await self.session.flush()
        self._add_lots(tender, data.lots)
        await self.session.flush()
        # A draft answers 404 to everybody but its owners; the public checkpoints must not name
        # its chain either until it is published.
        await withhold_chain(self.session, code, now)
        await self._record(
            actor,
            "tender_drafted",
            tender,
            summary={"project_code": code, "tender_type": tender.tender_type, "lots": len(data.lots)},
            data={"title": title, "estimate": tender.estimate},
        )
        return tender

    def _add_lots(self, tender: Tender, lots: Sequence[LotCreate]) -> None:
        for position, lot in enumerate(lots):
            self.session.add(
                Lot(
                    id=uuid7(),
                    tender_id=tender.id,
                    code=lot.code.strip(),
                    name=lot.name.strip(),
                    estimate=lot.estimate,
                    bid_security_amount=lot.bid_security_amount,
                    position=position,
                )
            )

    def _draft_changes(self, data: TenderUpdate, errors: RuleErrors) -> dict[str, Any]:
        """The fields ``data`` sets (but lots and key holders), checked as at creation."""
        changes = {
            name: value
            for name in data.__struct_fields__
            if (value := getattr(data, name)) is not msgspec.UNSET and name not in {"lots", "key_holders"}
        }
        if "title" in changes:
            changes["title"] = changes["title"].strip()
            if not changes["title"] or len(changes["title"]) > TITLE_MAX:
                errors.add("title", "required", f"a title of 1–{TITLE_MAX} characters")
        if "tender_type" in changes:
            try:
                rules_for(changes["tender_type"], self.settings)
            except UnknownTenderType:
                errors.add("tenderType", "known", f"unknown tender type {changes['tender_type']!r}")
        if "estimate" in changes and changes["estimate"] <= 0:
            errors.add("estimate", "positive", "the estimate must be positive")
        if not isinstance(data.lots, msgspec.UnsetType):
            self._check_lots(data.lots, errors)
        return changes

    def _changed_key_holders(self, tender: Tender, data: TenderUpdate, errors: RuleErrors) -> dict[str, Any]:
        current = tender.key_holders
        holders = (
            [KeyHolderCreate(h["name"], h["certificate"]) for h in current.get("holders", [])]
            if isinstance(data.key_holders, msgspec.UnsetType)
            else data.key_holders
        )
        threshold = (
            current.get("threshold") if isinstance(data.key_threshold, msgspec.UnsetType) else data.key_threshold
        )
        remedy = bool(current.get("remedy")) if isinstance(data.key_remedy, msgspec.UnsetType) else data.key_remedy
        return self._key_holders(holders, threshold, errors, remedy=remedy)

    async def update_draft(self, actor: Actor, code: str, data: TenderUpdate) -> Tender:
        """Change a draft (only a draft); ``lots`` given replaces every lot."""
        tender = await self.tender(code, lock=True)
        self._assert_owner(actor, tender)
        if tender.status is not TenderStatus.DRAFT:
            raise TenderStateConflict("only a draft can be edited", field="status", rule="draft_only")
        errors = RuleErrors()
        changes = self._draft_changes(data, errors)
        key_holders: dict[str, Any] | None = None
        if any(getattr(data, name) is not msgspec.UNSET for name in ("key_holders", "key_threshold", "key_remedy")):
            key_holders = self._changed_key_holders(tender, data, errors)
        errors.raise_if_any()
        changes.pop("key_threshold", None)
        changes.pop("key_remedy", None)
        for name, value in changes.items():
            if name == "bid_security_forms":
                tender.bid_security_forms = {"forms": list(value)}
            elif name == "evaluation_criteria":
                tender.evaluation_criteria = {"criteria": [{"name": c.name, "weight": c.weight} for c in value]}
            else:
                setattr(tender, name, value)
        if key_holders is not None:
            tender.key_holders = key_holders
        if not isinstance(data.lots, msgspec.UnsetType):
            await self.repo.delete_lots(tender.id)
            self._add_lots(tender, data.lots)
        tender.updated_at = await clock.now(self.session)
        await self.session.flush()
        fields = sorted({*changes, *(["lots"] if not isinstance(data.lots, msgspec.UnsetType) else [])})
        await self._record(actor, "tender_updated", tender, summary={"fields": fields})
        return tender

    # --- signed documents ------------------------------------------------------------------------

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
            await self.session.scalar(sa.select(Organisation).where(Organisation.uscc == party.identifier))
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

    # --- publication -----------------------------------------------------------------------------

    async def publication_errors(self, tender: Tender, now: datetime) -> tuple[RuleErrors, TenderRules | None]:
        """Every rule of the tender's rule set the draft breaks if published at ``now``."""
        errors = RuleErrors()
        try:
            rules = rules_for(tender.tender_type, self.settings)
        except UnknownTenderType:
            errors.add("tenderType", "known", f"unknown tender type {tender.tender_type!r}")
            return errors, None
        if tender.category not in rules.categories:
            errors.add("category", "category_matches_type", f"{tender.tender_type} does not apply to {tender.category}")
        documents = await self.repo.documents(tender.id, published_only=False)
        if not any(document.kind is DocumentKind.TENDER_DOCUMENT for document in documents):
            errors.add("documents", "signed_tender_document", "a signed tender document is required")
        lots = await self.repo.lots(tender.id)
        if not lots:
            errors.add("lots", "min_one", "a tender has at least one lot")
        self._check_security(tender, rules, errors)
        self._check_lot_security(tender, lots, rules, errors)
        self._check_evaluation(tender, rules, errors)
        self._check_periods(tender, rules, now, errors)
        self._check_working_days(tender, rules, now, errors)
        self._check_bid_settings(tender, rules, errors)
        return errors, rules

    @staticmethod
    def _check_security(tender: Tender, rules: TenderRules, errors: RuleErrors) -> None:
        if tender.estimate <= 0:
            errors.add("estimate", "positive", "the estimate must be positive")
        amount = tender.bid_security_amount
        limit = (rules.bid_security_max_ratio * tender.estimate).quantize(Decimal("0.01"))
        if amount < 0:
            errors.add("bidSecurityAmount", "not_negative", "bid security cannot be negative")
        elif amount > limit:
            errors.add(
                "bidSecurityAmount",
                "bid_security_max_ratio",
                f"bid security may be at most {rules.bid_security_max_ratio:%} of the estimate ({limit})",
            )
        forms = set(tender.bid_security_forms.get("forms", []))
        if not forms:
            errors.add("bidSecurityForms", "required", "name at least one form of bid security")
        elif not forms <= BID_SECURITY_FORMS:
            errors.add("bidSecurityForms", "allowed_forms", f"forms are {', '.join(sorted(BID_SECURITY_FORMS))}")
        elif rules.non_cash_security_required and "guarantee" not in forms:
            errors.add("bidSecurityForms", "non_cash_accepted", "government procurement must accept guarantees")

    @staticmethod
    def _check_lot_security(tender: Tender, lots: Sequence[Lot], rules: TenderRules, errors: RuleErrors) -> None:
        """实施条例 Art. 26 / GP 实施条例 Art. 33 per lot: a bid is for a lot, so its security is
        bounded by that lot's estimate, not the tender's (which need not be the lots' sum).
        """
        for lot in lots:
            amount = tender.bid_security_amount if lot.bid_security_amount is None else lot.bid_security_amount
            limit = (rules.bid_security_max_ratio * lot.estimate).quantize(Decimal("0.01"))
            if amount > limit:
                errors.add(
                    "lots",
                    "bid_security_max_ratio",
                    f"lot {lot.code}: bid security {amount} exceeds {rules.bid_security_max_ratio:%} "
                    f"of the lot's estimate ({limit})",
                )

    @staticmethod
    def _check_evaluation(tender: Tender, rules: TenderRules, errors: RuleErrors) -> None:
        if tender.evaluation_method not in rules.evaluation_methods:
            errors.add("evaluationMethod", "method_allowed", f"{tender.evaluation_method} is not allowed here")
        if tender.evaluation_method is EvaluationMethod.COMPREHENSIVE:
            criteria = tender.evaluation_criteria.get("criteria", [])
            weights = [criterion.get("weight") for criterion in criteria]
            valid = all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in weights)
            if (
                not criteria
                or not valid
                or sum(weights) != CRITERIA_TOTAL
                or not all(str(criterion.get("name", "")).strip() for criterion in criteria)
            ):
                errors.add(
                    "evaluationCriteria",
                    "weights_sum_100",
                    "the comprehensive method needs named criteria with positive weights summing to 100",
                )

    @staticmethod
    def _check_periods(tender: Tender, rules: TenderRules, now: datetime, errors: RuleErrors) -> None:
        deadline, start, until = tender.deadline, tender.documents_from, tender.documents_until
        if deadline is None:
            errors.add("deadline", "required", "the bid deadline is required")
        if start is None:
            errors.add("documentsFrom", "required", "the start of document availability is required")
        if until is None:
            errors.add("documentsUntil", "required", "the end of document availability is required")
        if deadline is None or start is None or until is None:
            return
        # Documents go out at publication at the earliest: periods count from then.
        effective_start = max(start, now)
        if deadline - effective_start < timedelta(days=rules.publication_to_deadline_days_min):
            errors.add(
                "deadline",
                "publication_to_deadline_days",
                f"at least {rules.publication_to_deadline_days_min} days from the documents' issue to the deadline",
            )
        if until < start:
            errors.add("documentsUntil", "after_documents_from", "document availability ends after it starts")
        elif until - effective_start < timedelta(days=rules.document_days_min):
            errors.add(
                "documentsUntil",
                "document_days",
                f"documents are available for at least {rules.document_days_min} days",
            )
        if until > deadline:
            errors.add("documentsUntil", "before_deadline", "document availability ends by the deadline")

    def _check_working_days(self, tender: Tender, rules: TenderRules, now: datetime, errors: RuleErrors) -> None:
        """87号令 Art. 18: documents until the end of the N-th working day after their issue, on the
        national calendar (holidays and 调休 working days).
        """
        count = rules.document_working_days_min
        start, until = tender.documents_from, tender.documents_until
        if not count or start is None or until is None or until < start:
            return
        calendar = working_calendar.load_calendar(self.settings.storage_dir)
        try:
            earliest_end = calendar.end_of_working_days(max(start, now), count)
        except working_calendar.CalendarYearMissing as exc:
            errors.add("documentsUntil", "calendar_year_loaded", str(exc))
            return
        if until < earliest_end:
            errors.add(
                "documentsUntil",
                "document_working_days",
                f"documents are available until the end of the {count}th working day after their issue "
                f"({(earliest_end - timedelta(seconds=1)).astimezone(working_calendar.CHINA):%Y-%m-%d} 24:00 "
                "Asia/Shanghai)",
            )

    @staticmethod
    def _check_bid_settings(tender: Tender, rules: TenderRules, errors: RuleErrors) -> None:
        if tender.decryption_window_minutes < rules.decryption_window_minutes_min:
            errors.add(
                "decryptionWindowMinutes",
                "decryption_window_min",
                f"the decryption window is at least {rules.decryption_window_minutes_min} minutes",
            )
        if not 0 < tender.max_package_bytes <= rules.max_package_bytes:
            errors.add(
                "maxPackageBytes", "max_package_bytes", f"a bid package limit between 1 and {rules.max_package_bytes}"
            )
        if tender.bid_validity_days < 1:
            errors.add("bidValidityDays", "positive", "the bid validity is at least one day")
        holders = tender.key_holders.get("holders", [])
        threshold = tender.key_holders.get("threshold")
        if holders and (not isinstance(threshold, int) or not 1 <= threshold <= len(holders)):
            errors.add("keyThreshold", "threshold_range", f"the threshold k must satisfy 1 ≤ k ≤ {len(holders)}")
        for index, holder in enumerate(holders):
            try:
                check_usage(x509.load_pem_x509_certificate(holder["certificate"].encode()), Usage.BID_ENCRYPTION)
            except (ValueError, Refused):
                errors.add("keyHolders", "not_encryption_capable", f"key holder {index + 1} cannot receive a key share")

    async def publish(self, actor: Actor, tender: Tender) -> Tender:
        """Check every rule at once (one 422 naming each field and rule), then publish the tender
        and its documents, keeping the rule set applied; the deadline sweep looks at it then.
        """
        tender = await self._locked(tender)
        self._assert_owner(actor, tender)
        if tender.status is not TenderStatus.DRAFT:
            raise TenderStateConflict("only a draft can be published", field="status", rule="draft_only")
        now = await clock.now(self.session)
        errors, rules = await self.publication_errors(tender, now)
        errors.raise_if_any()
        assert rules is not None  # noqa: S101 - errors raised otherwise
        tender.rules = rules.to_dict()
        tender.status = TenderStatus.PUBLISHED
        tender.published_at = now
        tender.next_check = tender.deadline
        tender.updated_at = now
        await self.repo.publish_documents(tender.id, now)
        await self.session.flush()
        documents = await self.repo.documents(tender.id, published_only=True)
        await disclose_chain(self.session, tender.project_code, now)
        await self._record(
            actor,
            "tender_published",
            tender,
            summary={
                "project_code": tender.project_code,
                "deadline": tender.deadline,
                "tender_type": tender.tender_type,
                "legal_edition": rules.legal_edition,
                "documents": [document.sha256 for document in documents],
            },
            data={"rules": tender.rules, "estimate": tender.estimate, "key_holders": tender.key_holders},
        )
        return tender

    async def _locked(self, tender: Tender) -> Tender:
        locked = await self.repo.by_id(tender.id, lock=True)
        if locked is None:  # pragma: no cover - tenders are never deleted
            raise NotFound("no such tender", field="code", rule="exists")
        return locked

    def _open(self, tender: Tender, now: datetime) -> datetime:
        if tender.status is not TenderStatus.PUBLISHED or tender.deadline is None:
            raise TenderStateConflict("the tender is not open", field="status", rule="published_only")
        if now >= tender.deadline:
            raise TenderStateConflict("the bid deadline has passed", field="deadline", rule="before_deadline")
        return tender.deadline

    # --- clarification, extension, cancellation -------------------------------------------------

    async def clarify(  # noqa: PLR0917 - the parts of a signed clarification, in the order of the form
        self,
        actor: Actor,
        tender: Tender,
        title: str,
        filename: str,
        data: bytes,
        signature: bytes,
        answers: Mapping[uuid.UUID, str] | None = None,
        new_deadline: datetime | None = None,
        media_type: str = "application/pdf",
    ) -> TenderDocument:
        """Publish a signed clarification at once, answering questions. A clarification later than
        the rule set's days before the deadline moves the deadline to at least that many days from
        now (实施条例 Art. 21, 87号令 Art. 27); ``new_deadline`` may move it further.
        """
        tender = await self._locked(tender)
        self._assert_owner(actor, tender)
        now = await clock.now(self.session)
        before = self._open(tender, now)
        rules = TenderRules.from_dict(tender.rules or {})
        earliest = now + timedelta(days=rules.clarification_days_before_deadline)
        after = before
        if earliest > before:
            if new_deadline is not None and new_deadline < earliest:
                raise TenderRuleViolated(
                    f"a clarification this late moves the deadline to at least {earliest.isoformat()}",
                    field="deadline",
                    rule="clarification_days_before_deadline",
                )
            after = max(new_deadline or earliest, earliest)
        elif new_deadline is not None:
            if new_deadline < before:
                raise TenderRuleViolated("the deadline can only move later", field="deadline", rule="later_deadline")
            after = new_deadline
        questions = await self._answerable(tender, answers or {})
        document = await self._store_document(
            actor,
            tender,
            kind=DocumentKind.CLARIFICATION,
            title=title,
            filename=filename,
            media_type=media_type,
            data=data,
            signature=signature,
            now=now,
            published=True,
        )
        if after != before:
            document.deadline_before, document.deadline_after = before, after
            tender.deadline = after
            tender.next_check = after
            tender.extensions += 1
            if (
                tender.documents_until is not None and tender.documents_until > after
            ):  # pragma: no cover - after > before
                tender.documents_until = after
        for question, answer in questions:
            question.answer = answer
            question.answered_in = document.id
            question.answered_at = now
        tender.updated_at = now
        await self.session.flush()
        await self._record(
            actor,
            "tender_clarified",
            tender,
            summary={
                "document_id": str(document.id),
                "sha256": document.sha256,
                "deadline_before": before,
                "deadline_after": after,
                "answered": len(questions),
            },
            data={"answers": {str(question.id): answer for question, answer in questions}},
        )
        return document

    async def _answerable(self, tender: Tender, answers: Mapping[uuid.UUID, str]) -> list[tuple[Question, str]]:
        found = []
        errors = RuleErrors()
        for question_id, answer in answers.items():
            question = await self.repo.question(tender.id, question_id)
            if question is None:
                errors.add("answers", "question_exists", f"no question {question_id} on this tender")
                continue
            text = answer.strip()
            if not text or len(text) > ANSWER_MAX:
                errors.add("answers", "answer_length", f"an answer has 1–{ANSWER_MAX} characters")
                continue
            found.append((question, text))
        errors.raise_if_any()
        return found

    async def extend(self, actor: Actor, tender: Tender, new_deadline: datetime, reason: str) -> Tender:
        """Move the deadline later (only later), with a reason; recorded and counted."""
        tender = await self._locked(tender)
        self._assert_owner(actor, tender)
        now = await clock.now(self.session)
        before = self._open(tender, now)
        errors = RuleErrors()
        if new_deadline <= before:
            errors.add("deadline", "later_deadline", "an extension moves the deadline later")
        if not reason.strip():
            errors.add("reason", "required", "say why the deadline moves")
        errors.raise_if_any()
        tender.deadline = new_deadline
        tender.next_check = new_deadline
        tender.extensions += 1
        tender.updated_at = now
        await self.session.flush()
        await self._record(
            actor,
            "deadline_extended",
            tender,
            summary={"deadline_before": before, "deadline_after": new_deadline},
            data={"reason": reason.strip()},
        )
        return tender

    async def cancel(self, actor: Actor, tender: Tender, reason: str) -> Tender:
        """Cancel a draft or a tender still open for bids."""
        tender = await self._locked(tender)
        self._assert_owner(actor, tender)
        if tender.status not in {TenderStatus.DRAFT, TenderStatus.PUBLISHED}:
            raise TenderStateConflict(
                "only a draft or an open tender can be cancelled", field="status", rule="cancellable"
            )
        if not reason.strip():
            raise ValidationFailed("say why the tender is cancelled", field="reason", rule="required")
        now = await clock.now(self.session)
        previous = tender.status
        tender.status = TenderStatus.CANCELLED
        tender.next_check = None
        tender.updated_at = now
        await self.session.flush()
        await self._record(
            actor,
            "tender_cancelled",
            tender,
            summary={"status_before": previous.value},
            data={"reason": reason.strip()},
        )
        return tender

    # --- downloads -------------------------------------------------------------------------------

    async def document(self, tender: Tender, document_id: uuid.UUID) -> TenderDocument:
        document = await self.repo.document(tender.id, document_id)
        if document is None or document.published_at is None:
            raise NotFound("no such published document", field="document_id", rule="exists")
        return document

    async def download(self, actor: Actor, tender: Tender, document: TenderDocument) -> tuple[DocumentDownload, Path]:
        """Record a bidder's download (row and sealed ledger entry) and return where the bytes are."""
        if actor.organisation_id is None or actor.user_id is None:
            raise PermissionDenied("a download is recorded against an organisation", rule="organisation")
        if tender.status not in _DOWNLOADABLE:
            raise TenderStateConflict("the tender's documents are not available", field="status", rule="published_only")
        if document.tender_id != tender.id or document.published_at is None:
            raise NotFound("no such published document", field="document_id", rule="exists")
        now = await clock.now(self.session)
        row = DocumentDownload(
            id=uuid7(),
            document_id=document.id,
            tender_id=tender.id,
            organisation_id=actor.organisation_id,
            user_id=actor.user_id,
            client_ip=(actor.client_ip or None),
            downloaded_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        # Sealed: the entry's actor alone would tell who downloaded (Order 20 Art. 21).
        await self._record(
            actor,
            "document_downloaded",
            tender,
            summary={"document_id": str(document.id), "sha256": document.sha256},
            data={"organisation_id": str(actor.organisation_id), "download_id": str(row.id)},
            sealed=True,
        )
        return row, self.store.path(document.storage_key)

    def signature_of(self, document: TenderDocument) -> bytes:
        return document.signature

    async def downloads(self, actor: Actor, tender: Tender) -> list[Downloader] | SealedUntilDeadline:
        """Who downloaded, with counts, once the deadline has passed.

        Before it the answer is a `SealedUntilDeadline` *returned* after the refusal is recorded
        (``bidding.downloads_list_refused``, on the visible project chain: the attempt is not a
        secret), so the caller's transaction commits the record; the API turns it into a 403.
        """
        if not may_list_bidders(actor, tenderee=tender.tenderee_organisation_id, agency=tender.agency_organisation_id):
            raise PermissionDenied(
                "only the tenderee, its agency and the supervisors see who downloaded", field="code", rule="owner"
            )
        now = await clock.now(self.session)
        revealed = (
            tender.status in {TenderStatus.CLOSED, TenderStatus.OPENING, TenderStatus.FAILED}
            and tender.deadline is not None
            and now >= tender.deadline
        )
        if not revealed:
            await self._record(
                actor,
                "downloads_list_refused",
                tender,
                summary={"rule": "sealed_until_deadline", "status": tender.status.value},
            )
            return SealedUntilDeadline(
                "who downloaded the documents is secret until the bid deadline (Order 20 Art. 21)",
                field="code",
                rule="sealed_until_deadline",
            )
        return [Downloader(*row) for row in await self.repo.downloaders(tender.id)]

    # --- questions -------------------------------------------------------------------------------

    async def ask(self, actor: Actor, tender: Tender, text: str) -> Question:
        """A question from a bidder who downloaded the tender document, before the deadline."""
        if actor.organisation_id is None or actor.user_id is None:
            raise PermissionDenied("a question is asked for an organisation", rule="organisation")
        now = await clock.now(self.session)
        self._open(tender, now)
        text = text.strip()
        if not text or len(text) > QUESTION_MAX:
            raise ValidationFailed(f"a question has 1–{QUESTION_MAX} characters", field="text", rule="length")
        if not await self.repo.has_downloaded_tender_document(tender.id, actor.organisation_id):
            raise PermissionDenied(
                "download the tender document before asking", field="code", rule="tender_document_downloaded"
            )
        question = Question(
            id=uuid7(),
            tender_id=tender.id,
            organisation_id=actor.organisation_id,
            asked_by=actor.user_id,
            text=text,
            asked_at=now,
        )
        self.session.add(question)
        await self.session.flush()
        # Sealed: the asker is a prospective bidder.
        await self._record(
            actor,
            "question_asked",
            tender,
            summary={"question_id": str(question.id)},
            data={"text": text, "organisation_id": str(actor.organisation_id)},
            sealed=True,
        )
        return question

    async def my_questions(self, actor: Actor, tender: Tender) -> list[Question]:
        if actor.organisation_id is None:
            return []
        return await self.repo.questions(tender.id, actor.organisation_id)

    async def questions_for_owner(self, actor: Actor, tender: Tender) -> list[Question]:
        """Every question of the tender, for the tenderee and its agency (who must answer them);
        the schema they are shown in leaves out who asked.
        """
        self._assert_owner(actor, tender)
        return await self.repo.questions(tender.id)
