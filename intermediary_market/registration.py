"""Registration for an announcement: who may take part (``eligibility_refusal``, also judged at the
close), the registration itself with its price and contribution commitment, and the panel's scores
of a merit selection.

Time comes from ``trading.kernel.clock.now(session)`` (the database clock). Refusals are
``ValidationFailed`` subclasses naming the field and the rule; services only flush.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from intermediary_market import selection
from intermediary_market.announcements import AnnouncementService
from intermediary_market.audit import record
from intermediary_market.errors import RegistrationRefused
from intermediary_market.models import Announcement, AnnouncementStatus, QualificationStatus, Registration
from intermediary_market.policies import assert_own_organisation
from intermediary_market.schemas import PanelScores
from intermediary_market.selection import SelectionMethod
from trading.credit.models import Activity, CreditKind
from trading.credit.service import may_take_part
from trading.kernel import clock, draws
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import Conflict, NotFound, ValidationFailed


class RegistrationService(AnnouncementService):
    """Registering for announcements and entering the panel's scores."""

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
        # The shared credit records are the one source of truth (the market's listings publish
        # into them), judged at ``now`` from their periods like the facts above.
        eligibility = await may_take_part(self.session, organisation_id, Activity.INTERMEDIARY_SERVICES, now)
        if eligibility.allowed:
            return None
        # The shared refusal names every blocking record with its reason and period; a blacklist
        # entry keeps the market's own rule name, other kinds keep the shared one.
        shared = eligibility.refusal(field_name="organisation_id")
        blacklist = eligibility.blocking[0].kind is CreditKind.BLACKLIST
        return RegistrationRefused(
            shared.message,
            field="organisation_id",
            rule="blacklisted" if blacklist else shared.rule,
            extra=shared.extra,
        )

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
