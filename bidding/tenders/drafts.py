"""Drafts: create and change a tender before publication, with its lots and key holders, checked
as a whole (one 422 naming each field and rule).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec
from cryptography import x509

from bidding.errors import TenderStateConflict
from bidding.models import (
    Lot,
    Tender,
    TenderStatus,
)
from bidding.rules import TenderRules, UnknownTenderType, rules_for
from bidding.schemas import CoefficientCreate, Criterion, KeyHolderCreate, LotCreate, TenderCreate, TenderUpdate
from bidding.tenders import security
from bidding.tenders.base import LOT_CODE_MAX, PROJECT_CODE, PROJECT_CODE_MAX, TITLE_MAX, RuleErrors, TenderBase
from certs.errors import Refused
from certs.pathval.validate import check_usage
from certs.trustlist.model import Usage, fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.errors import PermissionDenied
from trading.ledger.service import withhold_chain
from trading.parties.mandates import MandateService
from trading.parties.models import Organisation, OrganisationStatus


class TenderDrafts(TenderBase):
    """Create and change drafts: tenderee and agency, lots, key holders."""

    async def _tenderee_and_agency(
        self, actor: Actor, named: uuid.UUID | None, errors: RuleErrors
    ) -> tuple[uuid.UUID | None, uuid.UUID | None]:
        if actor.organisation_id is None or actor.user_id is None:
            raise PermissionDenied("a tender belongs to an organisation", field="organisation", rule="organisation")
        if Role.AGENCY in actor.roles and named is not None and named != actor.organisation_id:
            tenderee = await self.session.get(Organisation, named)
            if tenderee is None:
                errors.add("tendereeOrganisationId", "exists", "no such tenderee organisation")
                return None, None
            # A suspended organisation's mandate lets no new tender be made (in_force says so too).
            own = await self.session.get(Organisation, actor.organisation_id)
            for side, organisation in (("tenderee", tenderee), ("agency", own)):
                if organisation is None or organisation.status is not OrganisationStatus.ACTIVE:
                    errors.add("tendereeOrganisationId", f"{side}_active", f"the {side}'s organisation is suspended")
                    return None, None
            # 委托代理: only a mandate in force now lets an agency act for the tenderee
            # (trading.parties.mandates); a revoked or ended one keeps the tenders it made, not new ones.
            if await MandateService(self.session).in_force(named, actor.organisation_id) is None:
                errors.add(
                    "tendereeOrganisationId",
                    "mandated",
                    "the agency holds no mandate in force from this tenderee",
                )
                return None, None
            return named, actor.organisation_id
        if Role.TENDEREE in actor.roles:
            return actor.organisation_id, None
        if Role.AGENCY in actor.roles:
            errors.add("tendereeOrganisationId", "required", "an agency names the tenderee it acts for")
            return None, None
        raise PermissionDenied("only tenderees and agencies create tenders", field="role", rule="tenderee_or_agency")

    async def tenderee_choices(self, actor: Actor) -> list[Organisation]:
        """Who the actor may name as 招标人 on a new tender: its own organisation when it is a
        tenderee, and, for an agency, every organisation whose mandate to it is in force now.
        """
        if actor.organisation_id is None:
            return []
        choices: list[Organisation] = []
        if Role.TENDEREE in actor.roles:
            own = await self.session.get(Organisation, actor.organisation_id)
            choices += [own] if own is not None else []
        if Role.AGENCY in actor.roles:
            choices += await MandateService(self.session).clients(actor.organisation_id)
        return choices

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
                    "sha256": fingerprint(certificate),
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
        if rules is not None and not errors.items:
            # The bid security rules at drafting already (and again at publication).
            forms = list(data.bid_security_forms)
            security.check_lots(
                rules, [_lot_security(lot, data.bid_security_amount, forms) for lot in data.lots], errors
            )
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
            evaluation_criteria=_criteria_json(data.evaluation_criteria, data.coefficients or None),
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
        forms = tender.bid_security_forms.get("forms", [])
        for position, lot in enumerate(lots):
            terms = _lot_security(lot, tender.bid_security_amount, forms)
            self.session.add(
                Lot(
                    id=uuid7(),
                    tender_id=tender.id,
                    code=lot.code.strip(),
                    name=lot.name.strip(),
                    estimate=lot.estimate,
                    bid_security_amount=lot.bid_security_amount,
                    bid_security_required=terms.required,
                    bid_security_forms=None
                    if lot.bid_security_forms is None
                    else {"forms": list(lot.bid_security_forms)},
                    position=position,
                )
            )

    async def _check_stored_security(self, tender: Tender) -> None:
        """The bid security rules on the draft as changed (its lots, the tender's defaults, the
        rule set of its type); a refusal rolls the change back with the request.
        """
        errors = RuleErrors()
        rules = rules_for(tender.tender_type, self.settings)  # a known type: refused before otherwise
        lots = await self.repo.lots(tender.id)
        security.check_lots(rules, [security.lot_terms(tender, lot) for lot in lots], errors)
        errors.raise_if_any()

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
                tender.evaluation_criteria = {**tender.evaluation_criteria, **_criteria_json(value, None)}
            elif name == "coefficients":
                tender.evaluation_criteria = {**tender.evaluation_criteria, **_criteria_json(None, value)}
            else:
                setattr(tender, name, value)
        if key_holders is not None:
            tender.key_holders = key_holders
        if not isinstance(data.lots, msgspec.UnsetType):
            await self.repo.delete_lots(tender.id)
            self._add_lots(tender, data.lots)
        tender.updated_at = await clock.now(self.session)
        await self.session.flush()
        await self._check_stored_security(tender)
        fields = sorted({*changes, *(["lots"] if not isinstance(data.lots, msgspec.UnsetType) else [])})
        await self._record(actor, "tender_updated", tender, summary={"fields": fields})
        return tender


def _criteria_json(
    criteria: Sequence[Criterion] | None, coefficients: Sequence[CoefficientCreate] | None
) -> dict[str, Any]:
    """``Tender.evaluation_criteria``'s keys: ``criteria`` and, when any, ``coefficients``
    (`bidding.coefficients`; checked at publication). ``None``: that key is left out.
    """
    found: dict[str, Any] = {}
    if criteria is not None:
        found["criteria"] = [{"name": c.name, "weight": c.weight} for c in criteria]
    if coefficients is not None:
        found["coefficients"] = [
            {"name": c.name.strip(), "low": c.low.strip(), "high": c.high.strip(), "step": c.step.strip()}
            for c in coefficients
        ]
    return found


def _lot_security(lot: LotCreate, tender_amount: Decimal, tender_forms: list[str]) -> security.LotSecurity:
    """A lot of the request with the tender's defaults; not saying whether it requires security
    means: when its amount is positive (what an amount meant before the flag existed).
    """
    amount = tender_amount if lot.bid_security_amount is None else lot.bid_security_amount
    required = amount > 0 if lot.bid_security_required is None else lot.bid_security_required
    return security.lot_security(
        lot.code.strip(),
        lot.estimate,
        required=required,
        amount=lot.bid_security_amount,
        forms=lot.bid_security_forms,
        tender_amount=tender_amount,
        tender_forms=tender_forms,
    )
