"""The public marketplace pages: the marketplace (items, directory, announcements), selection
results and practice pages (执业公示).

The public pages show what the public API shows (the seed only once the selection is decided).
Forms on every page carry the CSRF token; a refused form is re-rendered with status 422 and the
rule's message; a form that succeeds redirects (303).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market import credit
from intermediary_market.deps import DEPENDENCIES
from intermediary_market.models import AnnouncementStatus
from intermediary_market.service import MarketService
from intermediary_market.web.labels import CONTEXT_LABELS
from intermediary_market.web.paths import MARKET
from intermediary_market.web.views import credit_view
from trading.kernel import clock
from trading.kernel.errors import NotFound
from trading.kernel.web.pages import page


class MarketPages(Controller):
    """The public marketplace, the published results and the intermediaries' practice pages."""

    path = MARKET
    include_in_schema = False
    dependencies = DEPENDENCIES

    @get("/", name="intermediary_market.marketplace")
    async def marketplace(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
    ) -> Response[Any]:
        """Service items, the directory of intermediaries, announcements newest first (public)."""
        announcements = list(await market.announcements())
        names = await market.repo.organisation_names(a.winner_organisation_id for a in announcements)
        return await page(
            request,
            "intermediary_market/marketplace.html",
            {
                "items": await market.items(),
                "directory": await market.directory(),
                "announcements": announcements,
                "names": names,
                **CONTEXT_LABELS,
            },
        )

    @get("/intermediaries/practice", name="intermediary_market.practice")
    async def practice(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        db_session: NamedDependency[AsyncSession],
        organisation_id: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """执业公示: one intermediary's qualifications, ratings, credit, listings and selections won
        (public; the organisation is a query parameter).
        """
        try:
            wanted = uuid.UUID(organisation_id or "")
        except ValueError:
            raise NotFound("no such intermediary", field="organisation_id", rule="exists") from None
        org = await market.repo.organisation(wanted)
        qualifications = list(await market.qualifications_of(wanted)) if org is not None else []
        won = list(await market.repo.selections_won(wanted)) if org is not None else []
        if org is None or (not qualifications and not won):
            raise NotFound("no such intermediary", field="organisation_id", rule="exists")
        ratings = list(await market.repo.ratings_of(wanted))
        means = (
            {
                name: (sum((Decimal(getattr(r, name)) for r in ratings), Decimal(0)) / len(ratings)).quantize(
                    Decimal("0.1")
                )
                for name in credit.RATING_DIMENSIONS
            }
            if ratings
            else {}
        )
        now = await clock.now(db_session)
        view = await credit_view(db_session, market, wanted, now)
        names = await market.repo.organisation_names(a.owner_organisation_id for a in won)
        return await page(
            request,
            "intermediary_market/practice.html",
            {
                "organisation": org,
                "qualifications": qualifications,
                "ratings_count": len(ratings),
                "rating_means": means,
                "dimensions": credit.RATING_DIMENSIONS,
                "credit": view,
                "won": won,
                "names": names,
                "now": now,
                **CONTEXT_LABELS,
            },
        )

    @get("/selections/{announcement_id:uuid}", name="intermediary_market.result")
    async def result(
        self,
        *,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
    ) -> Response[Any]:
        """One selection: while open, the seed's commitment; once decided, the seed, the
        registrants and the computation, so anyone can recompute the result (public).
        """
        announcement = await market.announcement(announcement_id)
        decided = announcement.status is not AnnouncementStatus.OPEN
        computation = dict(announcement.computation or {}) if decided else {}
        registrations = list(await market.registrations(announcement.id)) if decided else []
        names = await market.repo.organisation_names(
            [
                announcement.owner_organisation_id,
                announcement.winner_organisation_id,
                *(r.organisation_id for r in registrations),
                *(computation.get("excluded") or {}),
            ],
        )
        details = {
            key: value
            for key, value in computation.items()
            if key not in {"seed", "seed_sha256", "registrants", "excluded", "method"}
        }
        return await page(
            request,
            "intermediary_market/result.html",
            {
                "announcement": announcement,
                "decided": decided,
                "computation": computation,
                "details": details,
                "registrations": registrations,
                "names": names,
                **CONTEXT_LABELS,
            },
        )
