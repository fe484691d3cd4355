"""The close, the reveal and the draw: freeze the registrant list as of the close, take the
registrants' revealed contributions, and decide by the announced method with the seeded draw of
``trading.kernel.draws``; the sweep's step runs this at the announced times.

Time comes from ``trading.kernel.clock.now(session)`` (the database clock). Refusals are
``ValidationFailed`` subclasses naming the field and the rule; services only flush.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market import selection
from intermediary_market.audit import record
from intermediary_market.errors import SelectionFailed
from intermediary_market.models import Announcement, AnnouncementStatus, Registration
from intermediary_market.policies import assert_own_organisation
from intermediary_market.registration import RegistrationService
from intermediary_market.schemas import CONTRIBUTION_MAX_CHARACTERS
from intermediary_market.selection import SelectionMethod
from trading.kernel import clock, draws
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.bounds import check_text
from trading.kernel.errors import Conflict, ValidationFailed

REVEAL_WINDOW = timedelta(days=1)
"""After the close, registrants who committed a contribution reveal it within this window."""


class DrawService(RegistrationService):
    """The close of registration, the reveal window and the selection itself."""

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


async def advance_selection_if_due(session: AsyncSession, announcement_id: uuid.UUID, now: datetime) -> bool:
    """The sweep's step for a selection: freeze the list at the close, draw when the reveal window
    is over (or everyone revealed). The owner cannot choose the moment: the draw runs by itself.
    """
    service = DrawService(session)
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
