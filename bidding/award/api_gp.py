"""The GP result announcement's API (read): ``GET /api/v1/award/tenders/{code}/result``, public.

Every published result announcement (中标/成交结果公告) of the tender: the award, the lot group, the
stored signed content (procurement, winner, price, the evaluators' names, the report's SHA-256), its
SHA-256 and the certificate that signed it, the announcement's term and the end of the 质疑 window.
Nothing before the purchaser published it; the signature itself is in the ledger entry
``award.announcement_published``.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import announcement, publicity
from bidding.award.lookups import tender_of
from bidding.visibility import Exposure, exposes
from trading.kernel.calendar_versions import load_calendar

PREFIX: Final = "/award/tenders"
PUBLIC_PATHS: Final = frozenset({f"/api/v1{PREFIX}/{{code}}/result"})


class AwardResultApi(Controller):
    path = PREFIX
    tags = ["award"]

    @get("/{code:str}/result", operation_id="award_result", opt=exposes(Exposure.PUBLIC))
    async def result(self, code: FromPath[str], db_session: NamedDependency[AsyncSession]) -> list[dict[str, Any]]:
        """The tender's published GP result announcements, as signed (empty before any)."""
        tender = await tender_of(db_session, code)
        shown, calendar = [], await load_calendar(db_session)
        for award in await publicity.awards_of_tender(db_session, tender.id):
            published = await announcement.announcement_of(db_session, award.id)
            if published is None:
                continue
            until = announcement.objections_until(award, published, calendar)
            shown.append(
                {
                    "award": str(award.id),
                    "tender": tender.project_code,
                    "lotGroup": award.lot_group,
                    "content": published.content,
                    "contentSha256": published.content_sha256,
                    "signerSha256": published.signer_sha256,
                    "publishedAt": published.opened_at.isoformat(),
                    "announcementEnds": published.closes_at.isoformat(),
                    "objectionsUntil": until.isoformat(),
                    "due": award.announcement_due.isoformat() if award.announcement_due else None,
                    "late": published.late,
                }
            )
        return shown


CONTROLLERS: list[ControllerRouterHandler] = [AwardResultApi]
