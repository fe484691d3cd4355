"""What an award page or API request names, found or refused as "no such …" (404, field and rule).

One place for the lookups every award route starts with, so the pages and the API refuse the same
way: a tender by its code (drafts are not shown), an award of that tender by the id a form or body
carries, a notice draft of the tender, and the file store the signed PDFs live in.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.models import Award, AwardNoticeDraft
from bidding.models import Tender, TenderStatus
from bidding.repository.tenders import TenderRepository
from trading.kernel.errors import NotFound
from trading.kernel.settings import Settings
from trading.kernel.storage import Store, open_store


async def tender_of(db_session: AsyncSession, code: str) -> Tender:
    """A published tender by its code (a draft is nobody's business but its owners')."""
    tender = await TenderRepository(db_session).by_code(code)
    if tender is None or tender.status is TenderStatus.DRAFT:
        raise NotFound("no such tender", field="code", rule="exists")
    return tender


async def owned_tender_of(db_session: AsyncSession, code: str) -> Tender:
    """A tender by code, drafts included (for its owners: the rule is set while drafting too)."""
    tender = await TenderRepository(db_session).by_code(code)
    if tender is None:
        raise NotFound("no such tender", field="code", rule="exists")
    return tender


async def award_of(db_session: AsyncSession, tender: Tender, value: str) -> Award:
    """The award ``value`` names (a form's or a body's ``award``), when it is the tender's."""
    try:
        award_id = uuid.UUID(value.strip())
    except ValueError:
        raise NotFound("no such award", field="award", rule="exists") from None
    award = await db_session.get(Award, award_id)
    if award is None or award.tender_id != tender.id:
        raise NotFound("no such award", field="award", rule="exists")
    return award


def uuid_of(value: str, field: str) -> uuid.UUID:
    """A path's id, or "not found" naming ``field`` (a malformed id names nothing)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("not found", field=field, rule="exists") from None


async def notice_draft_of(db_session: AsyncSession, tender: Tender, draft_id: uuid.UUID) -> AwardNoticeDraft:
    """A notice draft of one of the tender's awards."""
    draft = await db_session.get(AwardNoticeDraft, draft_id)
    award = await db_session.get(Award, draft.award_id) if draft is not None else None
    if draft is None or award is None or award.tender_id != tender.id:
        raise NotFound("no such notice draft", field="draft", rule="exists")
    return draft


def settings_and_store(request: Request[Any, Any, Any]) -> tuple[Settings, Store]:
    """The application's settings and the file store the contract's and notices' PDFs are kept in."""
    settings: Settings = request.app.state.settings
    return settings, open_store(settings)
