"""The owners' ratings of the selected intermediary and the live per-organisation credit score
(the snapshot that pages read is ``credit_records.CreditService``).

Time comes from ``trading.kernel.clock.now(session)`` (the database clock). Refusals are
``ValidationFailed`` subclasses naming the field and the rule; services only flush.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from intermediary_market import credit
from intermediary_market.announcements import AnnouncementService
from intermediary_market.audit import record
from intermediary_market.credit_records import CreditService
from intermediary_market.errors import RatingRefused
from intermediary_market.models import AnnouncementStatus, Rating
from intermediary_market.policies import assert_own_organisation
from intermediary_market.schemas import RatingCreate
from trading.kernel import clock
from trading.kernel.auth.identity import Actor

RATING_WINDOW = timedelta(days=180)
"""Owners rate within 180 days of the result (domain-rules §7.3)."""
RATING_RANGE = range(101)


class RatingService(AnnouncementService):
    """Ratings and the live credit score."""

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
        input_on_record = regulator is not None or public_credit is not None
        if regulator is None or public_credit is None:
            latest = await self.repo.latest_credit_input(organisation_id)
            if regulator is None:
                stored = latest.regulator_score if latest is not None else None
                regulator = config.default_regulator if stored is None else stored
                input_on_record = input_on_record or stored is not None
            if public_credit is None:
                stored = latest.public_credit_score if latest is not None else None
                public_credit = config.default_public_credit if stored is None else stored
                input_on_record = input_on_record or stored is not None
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
            input_on_record=input_on_record,
            config=config,
        )
