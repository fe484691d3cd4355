"""Marketplace use cases. Each state change appends a ledger entry; services only flush.

Time comes from ``trading.kernel.clock.now(session)`` (the database clock). Refusals are
``ValidationFailed`` subclasses naming the field and the rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market import credit, selection
from intermediary_market.credit_records import CreditService
from intermediary_market.errors import RatingRefused, RegistrationRefused, SelectionFailed
from intermediary_market.models import (
    Announcement,
    AnnouncementStatus,
    Qualification,
    QualificationStatus,
    Rating,
    Registration,
    ServiceItem,
)
from intermediary_market.policies import assert_own_organisation
from intermediary_market.repository import MarketRepository
from intermediary_market.schemas import (
    CONTRIBUTION_MAX_CHARACTERS,
    AnnouncementCreate,
    IntermediaryRead,
    PanelScores,
    QualificationRead,
    QualificationRecord,
    RatingCreate,
    ServiceItemCreate,
)
from intermediary_market.selection import FundingType, SelectionMethod
from trading.kernel import clock, draws
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.bounds import check_text
from trading.kernel.errors import Conflict, NotFound, ValidationFailed
from trading.ledger.service import append_entry

RATING_WINDOW = timedelta(days=180)
"""Owners rate within 180 days of the result (domain-rules §7.3)."""
REVEAL_WINDOW = timedelta(days=1)
"""After the close, registrants who committed a contribution reveal it within this window."""
RATING_RANGE = range(101)
EXPIRY_NOTICE = timedelta(days=30)
"""An intermediary is told this long before a qualification expires."""
# A service item's standard time limit (承诺时限) in days: ten years is beyond any real one, and
# the column is a 32-bit integer that a larger number would overflow (a 500, not a refusal).
MAX_STANDARD_DAYS = 3650
_PUBLIC_KEYS = frozenset(
    {
        "code",
        "version",
        "organisation_id",
        "item_code",
        "level",
        "method",
        "seed_sha256",
        "closed_list_sha256",
        "status",
        "rule",
        "months",
    }
)
"""What the ledger summary may show; prices, responses and reasons stay in the digested ``data``."""


async def record(  # noqa: PLR0917 - private shorthand for append_entry
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID,
    data: dict[str, Any],
) -> None:
    await append_entry(
        session,
        actor=actor,
        action=f"intermediary_market.{action}",
        subject_type=subject_type,
        subject_id=str(subject_id),
        data=data,
        summary={key: value for key, value in data.items() if key in _PUBLIC_KEYS},
    )


class MarketService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = MarketRepository(session)

    # --- the service-item list -------------------------------------------------------------------

    async def publish_item(self, data: ServiceItemCreate, *, actor: Actor) -> ServiceItem:
        """A new item, or a new version superseding the current version of the same code."""
        if not data.code.strip() or not data.name.strip():
            raise ValidationFailed("the item needs a code and a name", field="code", rule="required")
        if not data.legal_basis.strip():
            # An approval-related service exists only because a law or regulation requires it.
            raise ValidationFailed(
                "the item needs its legal basis (the provision that requires the service)",
                field="legal_basis",
                rule="legal_basis_required",
            )
        if data.standard_days < 1:
            raise ValidationFailed("the standard time limit is at least one day", field="standard_days", rule="min")
        if data.standard_days > MAX_STANDARD_DAYS:
            raise ValidationFailed(
                f"the standard time limit is at most {MAX_STANDARD_DAYS} days", field="standard_days", rule="max"
            )
        previous = await self.repo.retire_item(data.code)
        item = ServiceItem(
            code=data.code.strip(),
            version=previous + 1,
            current=True,
            name=data.name,
            legal_basis=data.legal_basis,
            approval=data.approval,
            required_qualification=data.required_qualification,
            fee_basis=data.fee_basis,
            standard_days=data.standard_days,
            created_at=await clock.now(self.session),
        )
        await self.repo.add(item)
        await record(
            self.session, actor, "item_published", "service_item", item.id, {"code": item.code, "version": item.version}
        )
        return item

    async def items(self) -> Sequence[ServiceItem]:
        return await self.repo.current_items()

    async def item_versions(self, code: str) -> Sequence[ServiceItem]:
        versions = await self.repo.item_versions(code)
        if not versions:
            raise NotFound("no such service item", field="code", rule="exists")
        return versions

    async def _item(self, code: str) -> ServiceItem:
        item = await self.repo.current_item(code)
        if item is None:
            raise ValidationFailed("no such service item", field="item_code", rule="item_exists")
        return item

    # --- qualifications --------------------------------------------------------------------------

    async def record_qualification(self, data: QualificationRecord, *, actor: Actor) -> Qualification:
        """Record a reviewed qualification, or renew one: a valid renewal reinstates a suspended one."""
        await self._item(data.item_code)
        if data.level < 1:
            raise ValidationFailed("levels count from 1 (the highest)", field="level", rule="min")
        now = await clock.now(self.session)
        if data.valid_until <= now:
            raise ValidationFailed("the qualification has already expired", field="valid_until", rule="in_future")
        if not await self.repo.organisation_exists(data.organisation_id):
            raise NotFound("no such organisation", field="organisation_id", rule="exists")
        row = await self.repo.qualification(data.organisation_id, data.item_code, lock=True)
        action = "qualification_renewed" if row is not None else "qualification_recorded"
        if row is None:
            row = Qualification(organisation_id=data.organisation_id, item_code=data.item_code)
            self.session.add(row)
        elif row.status is QualificationStatus.SUSPENDED:
            action = "qualification_reinstated"
        row.level = data.level
        row.certificate_no = data.certificate_no
        row.valid_until = data.valid_until
        if row.status is QualificationStatus.REVOKED:
            action = "qualification_recorded"
        row.status = QualificationStatus.ACTIVE
        row.revoked_at = None
        row.expiry_noticed_at = None
        row.next_check = max(now, data.valid_until - EXPIRY_NOTICE)
        row.updated_at = now
        await self.session.flush()
        await record(
            self.session,
            actor,
            action,
            "qualification",
            row.id,
            {"organisation_id": str(row.organisation_id), "item_code": row.item_code, "level": row.level},
        )
        # Entering the market gives the intermediary its first credit snapshot (directory, lists).
        await CreditService(self.session).recompute_one(row.organisation_id, now)
        return row

    async def revoke_qualification(
        self, organisation_id: uuid.UUID, item_code: str, reason: str, *, actor: Actor
    ) -> Qualification:
        """A regulator revokes a qualification (撤销): no registration for the item from now on, and
        no draw whose close is later. Recording a new qualification later re-admits the intermediary.
        """
        if not reason.strip():
            raise ValidationFailed("a revocation states its reason", field="reason", rule="required")
        row = await self.repo.qualification(organisation_id, item_code, lock=True)
        if row is None:
            raise NotFound("no such qualification", field="item_code", rule="exists")
        if row.status is QualificationStatus.REVOKED:
            raise Conflict("the qualification is already revoked", field="item_code", rule="already_revoked")
        now = await clock.now(self.session)
        row.status = QualificationStatus.REVOKED
        row.revoked_at = now
        row.next_check = None
        row.updated_at = now
        await self.session.flush()
        await record(
            self.session,
            actor,
            "qualification_revoked",
            "qualification",
            row.id,
            {
                "organisation_id": str(row.organisation_id),
                "item_code": row.item_code,
                "rule": "qualification_revoked",
                "reason": reason.strip(),
            },
        )
        await CreditService(self.session).recompute_one(row.organisation_id, now)
        return row

    async def qualifications_of(self, organisation_id: uuid.UUID) -> Sequence[Qualification]:
        return await self.repo.qualifications_of(organisation_id)

    async def directory(self, *, limit: int = 100) -> list[IntermediaryRead]:
        """The public directory: qualified intermediaries, their qualifications and the credit from
        the snapshot (not recomputed here); red-listed intermediaries first and marked.
        """
        now = await clock.now(self.session)
        snapshots = CreditService(self.session)
        lines = []
        for organisation_id, name, uscc, score, grade, red in await snapshots.repo.directory(
            now, snapshots.config, limit
        ):
            lines.append(
                IntermediaryRead(
                    organisation_id=organisation_id,
                    name=name,
                    uscc=uscc,
                    qualifications=[
                        QualificationRead.of(q) for q in await self.repo.qualifications_of(organisation_id)
                    ],
                    credit_score=score,
                    credit_grade=grade,
                    red_listed=red,
                )
            )
        return lines

    # --- announcements ---------------------------------------------------------------------------

    async def announce(self, data: AnnouncementCreate, *, actor: Actor) -> Announcement:
        if actor.organisation_id is None:
            raise ValidationFailed("an announcement needs the owner's organisation", rule="organisation")
        item = await self._item(data.item_code)
        self._check_announcement(data)
        self._check_time_limit(data.time_limit_days, item)
        now = await clock.now(self.session)
        if data.registration_closes <= now:
            raise ValidationFailed(
                "the registration window must end in the future", field="registration_closes", rule="in_future"
            )
        seed = selection.new_seed()
        row = Announcement(
            owner_organisation_id=actor.organisation_id,
            project_name=data.project_name,
            item_code=data.item_code,
            method=data.method,
            funding=data.funding,
            budget=data.budget,
            price_min=data.price_min,
            price_max=data.price_max,
            max_level=data.max_level,
            time_limit_days=data.time_limit_days,
            registration_opens=data.registration_opens,
            registration_closes=data.registration_closes,
            direct_organisation_id=data.direct_organisation_id,
            seed=seed,
            seed_sha256=selection.commitment(seed),
            status=AnnouncementStatus.OPEN,
            next_check=data.registration_closes,
            created_at=now,
        )
        await self.repo.add(row)
        await record(
            self.session,
            actor,
            "announcement_published",
            "announcement",
            row.id,
            {"method": row.method.value, "item_code": row.item_code, "seed_sha256": row.seed_sha256},
        )
        return row

    @staticmethod
    def _check_time_limit(days: int, item: ServiceItem) -> None:
        """限时办结: the committed time limit is at least a day and at most the item's standard."""
        if days < 1:
            raise ValidationFailed(
                "the time limit is at least one day", field="time_limit_days", rule="time_limit_positive"
            )
        if days > item.standard_days:
            raise ValidationFailed(
                f"the time limit may not exceed the item's standard of {item.standard_days} days",
                field="time_limit_days",
                rule="time_limit_within_standard",
            )

    @staticmethod
    def _check_announcement(data: AnnouncementCreate) -> None:
        if data.registration_opens >= data.registration_closes:
            raise ValidationFailed(
                "the registration window must open before it closes", field="registration_closes", rule="window_order"
            )
        if data.budget <= 0:
            raise ValidationFailed("the budget must be positive", field="budget", rule="positive")
        if data.method in selection.PRICED_METHODS:
            if data.price_min is None or data.price_max is None:
                raise ValidationFailed(
                    "price competition needs a minimum and a maximum price", field="price_max", rule="price_limits"
                )
            if not Decimal(0) <= data.price_min <= data.price_max <= data.budget:
                raise ValidationFailed(
                    "price limits must satisfy 0 ≤ min ≤ max ≤ budget", field="price_max", rule="price_limits"
                )
        if data.method is SelectionMethod.DIRECT:
            if data.funding is not FundingType.SOCIAL:
                raise ValidationFailed(
                    "direct selection is allowed for socially funded projects only",
                    field="method",
                    rule="direct_allowed",
                )
            if data.direct_organisation_id is None:
                raise ValidationFailed(
                    "direct selection names the intermediary", field="direct_organisation_id", rule="required"
                )

    async def announcement(self, announcement_id: uuid.UUID, *, lock: bool = False) -> Announcement:
        row = await self.repo.announcement(announcement_id, lock=lock)
        if row is None:
            raise NotFound("no such announcement", field="announcement_id", rule="exists")
        return row

    async def announcements(self, *, status: AnnouncementStatus | None = None) -> Sequence[Announcement]:
        return await self.repo.announcements(status=status)

    # --- registration ----------------------------------------------------------------------------

    async def eligibility_refusal(
        self, announcement: Announcement, organisation_id: uuid.UUID, now: datetime
    ) -> RegistrationRefused | None:
        """Why ``organisation_id`` may not take part (qualification, suspension, blacklist) as of
        ``now``, or None. Judged from time-stamped facts, so the close can be judged later exactly.
        """
        qualification = await self.repo.qualification(organisation_id, announcement.item_code)
        if qualification is None or (
            qualification.status is QualificationStatus.REVOKED
            and (qualification.revoked_at is None or qualification.revoked_at <= now)
        ):
            return RegistrationRefused(
                f"no qualification for the service item {announcement.item_code}",
                field="item_code",
                rule="no_qualification",
            )
        suspended = qualification.status is QualificationStatus.SUSPENDED and qualification.updated_at <= now
        if suspended or qualification.valid_until <= now:
            return RegistrationRefused(
                "the qualification for this item has expired: suspended until renewed",
                field="item_code",
                rule="qualification_suspended",
            )
        if qualification.level > announcement.max_level:
            return RegistrationRefused(
                f"the announcement requires qualification level {announcement.max_level} or better",
                field="item_code",
                rule="qualification_level",
            )
        if await self.repo.effective_blacklisting(organisation_id, now) is not None:
            return RegistrationRefused(
                "the intermediary is on the blacklist", field="organisation_id", rule="blacklisted"
            )
        return None

    async def register(
        self,
        announcement_id: uuid.UUID,
        *,
        price: Decimal | None,
        actor: Actor,
        contribution_sha256: str | None = None,
    ) -> Registration:
        """Register; ``contribution_sha256`` commits to a secret the registrant reveals after the
        close, which then enters the draw's randomness (``trading.kernel.draws``).
        """
        if contribution_sha256 is not None:
            contribution_sha256 = contribution_sha256.strip().lower()
            if not draws.is_sha256_hex(contribution_sha256):
                raise RegistrationRefused(
                    "the contribution commitment is a SHA-256 in hex (64 characters)",
                    field="contribution_sha256",
                    rule="contribution_commitment",
                )
        if actor.organisation_id is None:
            raise RegistrationRefused("registration needs the intermediary's organisation", rule="organisation")
        announcement = await self.announcement(announcement_id, lock=True)
        now = await clock.now(self.session)
        if announcement.status is not AnnouncementStatus.OPEN or not (
            announcement.registration_opens <= now < announcement.registration_closes
        ):
            raise RegistrationRefused(
                "the registration window is not open", field="announcement_id", rule="registration_window_closed"
            )
        refusal = await self.eligibility_refusal(announcement, actor.organisation_id, now)
        if refusal is not None:
            raise refusal
        if await self.repo.registration(announcement.id, actor.organisation_id) is not None:
            raise RegistrationRefused(
                "this intermediary has already registered", field="announcement_id", rule="duplicate_registration"
            )
        if announcement.method in selection.PRICED_METHODS:
            low, high = announcement.price_min, announcement.price_max
            if price is None or low is None or high is None or not low <= price <= high:
                raise RegistrationRefused(
                    f"the price must lie within [{low}, {high}]", field="price", rule="price_outside_limits"
                )
        elif price is not None and price > announcement.budget:
            raise RegistrationRefused("the price exceeds the budget", field="price", rule="price_outside_limits")
        row = Registration(
            announcement_id=announcement.id,
            organisation_id=actor.organisation_id,
            price=price,
            contribution_sha256=contribution_sha256,
            created_at=now,
        )
        await self.repo.add(row)
        await record(
            self.session,
            actor,
            "registered",
            "announcement",
            announcement.id,
            {
                "organisation_id": str(actor.organisation_id),
                "price": str(price) if price is not None else None,
                "contribution_sha256": contribution_sha256,
            },
        )
        return row

    async def registrations(self, announcement_id: uuid.UUID) -> Sequence[Registration]:
        return await self.repo.registrations(announcement_id)

    async def enter_panel_scores(self, announcement_id: uuid.UUID, data: PanelScores, *, actor: Actor) -> Registration:
        announcement = await self.announcement(announcement_id, lock=True)
        assert_own_organisation(actor, announcement.owner_organisation_id, "enter the panel's scores")
        if announcement.method is not SelectionMethod.MERIT or announcement.status is not AnnouncementStatus.OPEN:
            raise Conflict("panel scores belong to an open merit selection", field="method", rule="merit_only")
        if not data.scores or any(not Decimal(0) <= value <= Decimal(100) for value in data.scores):
            raise ValidationFailed("panel scores lie between 0 and 100", field="scores", rule="score_range")
        registration = await self.repo.registration(announcement.id, data.organisation_id)
        if registration is None:
            raise NotFound("that intermediary has not registered", field="organisation_id", rule="registered")
        registration.panel_scores = {"scores": [str(value) for value in data.scores]}
        await self.session.flush()
        await record(
            self.session, actor, "panel_scored", "announcement", announcement.id, {**registration.panel_scores}
        )
        return registration

    # --- the close, the reveal and the draw -----------------------------------------------------

    async def close_registration(self, announcement: Announcement, now: datetime, *, actor: Actor) -> None:
        """Freeze the registrant list as of ``registration_closes`` (eligibility included, whenever
        this runs) and publish it with its digest; open the reveal window when anyone committed a
        contribution. The caller holds the announcement's lock.
        """
        closes = announcement.registration_closes
        eligible: dict[str, str | None] = {}
        excluded: dict[str, str] = {}
        for registration in await self.repo.registrations(announcement.id):
            key = str(registration.organisation_id)
            refusal = await self.eligibility_refusal(announcement, registration.organisation_id, closes)
            if refusal is None:
                eligible[key] = registration.contribution_sha256
            else:
                excluded[key] = refusal.rule or "ineligible"
        announcement.closed_list = {
            "as_of": closes.isoformat(),
            "registrants": [
                {"organisation_id": key, "contribution_sha256": eligible[key]}
                for key in draws.canonical(list(eligible))
            ],
            "excluded": dict(sorted(excluded.items())),
            "closed_list_sha256": draws.closed_list_digest(eligible),
        }
        announcement.closed_at = now
        if any(eligible.values()):
            announcement.reveal_closes = max(now, closes) + REVEAL_WINDOW
            announcement.next_check = announcement.reveal_closes
        else:
            announcement.next_check = now
        await self.session.flush()
        await record(
            self.session,
            actor,
            "registration_closed",
            "announcement",
            announcement.id,
            {"status": "closed", **announcement.closed_list},
        )

    async def reveal(self, announcement_id: uuid.UUID, contribution: str, *, actor: Actor) -> Registration:
        """A registrant reveals its contribution after the close, within the reveal window."""
        # The page's form comes here unchecked; the column holds 64 characters.
        check_text("contribution", contribution, single_line=True, max_length=CONTRIBUTION_MAX_CHARACTERS)
        announcement = await self.announcement(announcement_id, lock=True)
        now = await clock.now(self.session)
        if announcement.status is AnnouncementStatus.OPEN and announcement.closed_at is None:
            if now < announcement.registration_closes:
                raise Conflict(
                    "contributions are revealed after the close", field="announcement_id", rule="reveal_window"
                )
            await self.close_registration(announcement, now, actor=Actor.system())
        if (
            announcement.status is not AnnouncementStatus.OPEN
            or announcement.reveal_closes is None
            or now >= announcement.reveal_closes
        ):
            raise Conflict("the reveal window is not open", field="announcement_id", rule="reveal_window")
        registration = (
            await self.repo.registration(announcement.id, actor.organisation_id)
            if actor.organisation_id is not None
            else None
        )
        if registration is None or registration.contribution_sha256 is None:
            raise ValidationFailed(
                "this organisation committed no contribution to the draw",
                field="contribution",
                rule="no_contribution",
            )
        if not draws.reveal_matches(contribution, registration.contribution_sha256):
            raise ValidationFailed(
                "the contribution does not match the commitment made at registration",
                field="contribution",
                rule="contribution_mismatch",
            )
        registration.contribution = contribution
        await self.session.flush()
        # Everyone revealed: nothing left to wait for, the sweep draws at its next pass.
        if not await self._pending_reveals(announcement):
            announcement.next_check = now
            await self.session.flush()
        await record(
            self.session,
            actor,
            "contribution_revealed",
            "announcement",
            announcement.id,
            {"organisation_id": str(registration.organisation_id), "contribution": contribution},
        )
        return registration

    async def draw(self, announcement_id: uuid.UUID, *, actor: Actor) -> Announcement:
        """Select once the list is frozen and the reveal window is over (the sweep does this at the
        announced time; the owner may only ask for it early, which changes nothing: eligibility is
        judged as of the close and the randomness is fixed). The result or the failure is published
        with the computation, the revealed seed and contributions.
        """
        announcement = await self.announcement(announcement_id, lock=True)
        if actor.kind is not ActorKind.SYSTEM:
            assert_own_organisation(actor, announcement.owner_organisation_id, "run the selection")
        if announcement.status is not AnnouncementStatus.OPEN:
            raise Conflict("the selection has already been decided", field="status", rule="already_decided")
        now = await clock.now(self.session)
        if now < announcement.registration_closes:
            raise Conflict("registration is still open", field="registration_closes", rule="registration_still_open")
        if announcement.closed_at is None:
            await self.close_registration(announcement, now, actor=Actor.system())
        if not await self._reveals_done(announcement, now):
            raise Conflict(
                "registrants may still reveal their contributions", field="reveal_closes", rule="reveal_window_open"
            )
        return await self._decide(announcement, now, actor=actor)

    async def _pending_reveals(self, announcement: Announcement) -> bool:
        """Whether a registrant on the frozen list committed a contribution not yet revealed."""
        lines = (announcement.closed_list or {}).get("registrants", [])
        committed = {line["organisation_id"] for line in lines if line.get("contribution_sha256")}
        return any(
            r.contribution is None
            for r in await self.repo.registrations(announcement.id)
            if str(r.organisation_id) in committed
        )

    async def _reveals_done(self, announcement: Announcement, now: datetime) -> bool:
        if announcement.reveal_closes is None or now >= announcement.reveal_closes:
            return True
        return not await self._pending_reveals(announcement)

    async def _decide(self, announcement: Announcement, now: datetime, *, actor: Actor) -> Announcement:
        closed = announcement.closed_list or {}
        participants = {line["organisation_id"] for line in closed.get("registrants", [])}
        eligible = [r for r in await self.repo.registrations(announcement.id) if str(r.organisation_id) in participants]
        revealed = {
            str(r.organisation_id): (r.contribution if r.contribution_sha256 is not None else None) for r in eligible
        }
        closed_list_sha256 = str(closed.get("closed_list_sha256", draws.closed_list_digest({})))
        draw_seed = draws.draw_seed(announcement.seed, closed_list_sha256, revealed)
        published: dict[str, Any] = {
            "method": announcement.method.value,
            "funding": announcement.funding.value,
            "seed": announcement.seed,
            "seed_sha256": announcement.seed_sha256,
            "closed_list": closed.get("registrants", []),
            "closed_list_sha256": closed_list_sha256,
            "contributions": dict(sorted(revealed.items())),
            "unrevealed": sorted(
                str(r.organisation_id) for r in eligible if r.contribution_sha256 is not None and r.contribution is None
            ),
            "draw_seed": draw_seed,
        }
        try:
            outcome = self._apply_method(announcement, eligible, draw_seed)
        except SelectionFailed as failure:
            announcement.status = AnnouncementStatus.FAILED
            announcement.failure_rule = failure.rule
            announcement.computation = {
                **published,
                "registrants": sorted(str(r.organisation_id) for r in eligible),
                "failure": failure.message,
                "failure_rule": failure.rule,
            }
        else:
            announcement.status = AnnouncementStatus.SELECTED
            announcement.computation = {**outcome.computation, **published}
            announcement.winner_organisation_id = uuid.UUID(outcome.winner)
            announcement.winner_price = next(r.price for r in eligible if str(r.organisation_id) == outcome.winner)
        if closed.get("excluded"):
            announcement.computation = {**announcement.computation, "excluded": closed["excluded"]}
        announcement.decided_at = now
        announcement.next_check = None
        await self.session.flush()
        await record(
            self.session,
            actor,
            "selection_decided",
            "announcement",
            announcement.id,
            {"status": announcement.status.value, **(announcement.computation or {})},
        )
        return announcement

    @staticmethod
    def _apply_method(announcement: Announcement, eligible: Sequence[Registration], seed: str) -> selection.Outcome:
        funding = announcement.funding
        keys = [str(r.organisation_id) for r in eligible]
        match announcement.method:
            case SelectionMethod.DIRECT:
                return selection.direct(str(announcement.direct_organisation_id), keys)
            case SelectionMethod.RANDOM:
                return selection.lottery(seed, keys, funding)
            case SelectionMethod.LOWEST_PRICE | SelectionMethod.REFERENCE_PRICE:
                bids = {str(r.organisation_id): r.price for r in eligible if r.price is not None}
                if announcement.method is SelectionMethod.LOWEST_PRICE:
                    return selection.lowest_price(seed, bids, funding)
                return selection.reference_price(seed, bids, funding)
            case SelectionMethod.MERIT:
                scores = {
                    str(r.organisation_id): [Decimal(v) for v in (r.panel_scores or {}).get("scores", [])]
                    for r in eligible
                }
                return selection.merit(seed, scores, funding)
        msg = f"unknown method {announcement.method}"  # pragma: no cover - the enum is exhaustive
        raise AssertionError(msg)  # pragma: no cover

    # --- ratings and credit ----------------------------------------------------------------------

    async def rate(self, announcement_id: uuid.UUID, data: RatingCreate, *, actor: Actor) -> Rating:
        announcement = await self.announcement(announcement_id, lock=True)
        assert_own_organisation(actor, announcement.owner_organisation_id, "rate this service")
        now = await clock.now(self.session)
        if announcement.status is not AnnouncementStatus.SELECTED or announcement.decided_at is None:
            raise RatingRefused(
                "only a completed selection can be rated", field="announcement_id", rule="rating_window"
            )
        if now > announcement.decided_at + RATING_WINDOW:
            raise RatingRefused(
                f"ratings are accepted within {RATING_WINDOW.days} days of the result",
                field="announcement_id",
                rule="rating_window",
            )
        for name in credit.RATING_DIMENSIONS:
            if getattr(data, name) not in RATING_RANGE:
                raise RatingRefused("each rating lies between 0 and 100", field=name, rule="rating_range")
        delivery = await self.repo.delivery(announcement.id)
        if delivery is None or delivery.deliverable_sha256 is None or delivery.completed_at is None:
            # §7.3: without the filed contract, the uploaded results and the confirmed completion
            # the rating cannot be entered.
            raise RatingRefused(
                "rate after the contract is filed, the results uploaded and the completion confirmed",
                field="announcement_id",
                rule="rating_needs_completion",
            )
        if await self.repo.rating_for(announcement.id) is not None:
            raise RatingRefused("this service has already been rated", field="announcement_id", rule="duplicate_rating")
        assert announcement.winner_organisation_id is not None  # noqa: S101 - SELECTED implies a winner
        row = Rating(
            announcement_id=announcement.id,
            organisation_id=announcement.winner_organisation_id,
            quality=data.quality,
            timeliness=data.timeliness,
            attitude=data.attitude,
            fees=data.fees,
            created_at=now,
        )
        await self.repo.add(row)
        await record(
            self.session,
            actor,
            "rated",
            "announcement",
            announcement.id,
            {"organisation_id": str(row.organisation_id), **{n: getattr(data, n) for n in credit.RATING_DIMENSIONS}},
        )
        await CreditService(self.session).recompute_one(row.organisation_id, now)
        return row

    async def credit_of(
        self,
        organisation_id: uuid.UUID,
        *,
        regulator: Decimal | None = None,
        public_credit: Decimal | None = None,
        upheld_complaints: int | None = None,
        overdue_deliveries: int | None = None,
        config: credit.CreditConfig | None = None,
    ) -> credit.CreditScore:
        """The credit score computed live, one organisation at a time, from the records: the
        owners' ratings, upheld complaints, overdue deliveries and the latest stored inputs (a part
        with no input takes ``config``'s default). An argument overrides the record. The snapshot
        (``CreditService``) is what pages and lists read; this is its per-organisation restatement.
        """
        config = config or credit.CreditConfig()
        if regulator is None or public_credit is None:
            latest = await self.repo.latest_credit_input(organisation_id)
            if regulator is None:
                stored = latest.regulator_score if latest is not None else None
                regulator = config.default_regulator if stored is None else stored
            if public_credit is None:
                stored = latest.public_credit_score if latest is not None else None
                public_credit = config.default_public_credit if stored is None else stored
        if upheld_complaints is None:
            upheld_complaints = await self.repo.upheld_count(organisation_id)
        if overdue_deliveries is None:
            overdue_deliveries = await self.repo.overdue_count(organisation_id)
        ratings = [
            credit.OwnerRating(r.quality, r.timeliness, r.attitude, r.fees)
            for r in await self.repo.ratings_of(organisation_id)
        ]
        return credit.score(
            regulator=regulator,
            public_credit=public_credit,
            ratings=ratings,
            upheld_complaints=upheld_complaints,
            overdue_deliveries=overdue_deliveries,
            config=config,
        )


# --- time-driven transitions (run by the sweep, see ``jobs``) ---------------------------------------


async def suspend_qualification_if_due(session: AsyncSession, qualification_id: uuid.UUID, now: datetime) -> bool:
    repo = MarketRepository(session)
    row = await repo.qualification_by_id(qualification_id, lock=True)
    if row is None or row.next_check is None or row.next_check > now:
        return False
    if row.status is not QualificationStatus.ACTIVE:
        row.next_check = None
        await session.flush()
        return False
    if row.valid_until > now:
        # Before expiry: the notice, once; the next look is at the expiry itself.
        row.next_check = row.valid_until
        if row.expiry_noticed_at is not None:
            await session.flush()
            return False
        row.expiry_noticed_at = now
        await session.flush()
        await record(
            session,
            Actor.system(),
            "qualification_expiry_notice",
            "qualification",
            row.id,
            {"organisation_id": str(row.organisation_id), "item_code": row.item_code},
        )
        return True
    row.next_check = None
    row.status = QualificationStatus.SUSPENDED
    row.updated_at = now
    await session.flush()
    await record(
        session,
        Actor.system(),
        "qualification_suspended",
        "qualification",
        row.id,
        {"organisation_id": str(row.organisation_id), "item_code": row.item_code, "rule": "qualification_expired"},
    )
    return True


async def advance_selection_if_due(session: AsyncSession, announcement_id: uuid.UUID, now: datetime) -> bool:
    """The sweep's step for a selection: freeze the list at the close, draw when the reveal window
    is over (or everyone revealed). The owner cannot choose the moment: the draw runs by itself.
    """
    service = MarketService(session)
    row = await service.repo.announcement(announcement_id, lock=True)
    if (
        row is None
        or row.status is not AnnouncementStatus.OPEN
        or row.next_check is None
        or row.next_check > now
        or now < row.registration_closes
    ):
        return False
    if row.closed_at is None:
        await service.close_registration(row, now, actor=Actor.system())
    if await service._reveals_done(row, now):  # noqa: SLF001 - the module's own sweep step
        await service._decide(row, now, actor=Actor.system())  # noqa: SLF001
    return True
