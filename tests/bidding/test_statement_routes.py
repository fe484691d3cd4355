"""The statement a bidder signs in the page to object to the tender documents
(``…/document-objection-statement``) is given only for a published tender: a draft is not public,
so its code answers 404 as its page does, and the statement (naming the tender) is not given.
"""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.bidding.factories import Party, draft_tender, published_tender
from tests.bidding.test_web import log_in
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


async def test_no_document_objection_statement_for_a_draft(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    bidder: Party,
) -> None:
    draft = await draft_tender(session_maker, settings, store, owner)
    published = await published_tender(session_maker, settings, store, owner, title="异议声明")
    token = await log_in(client, bidder)
    headers = {"x-csrftoken": token}

    answered = await client.post(
        f"/bidding/tenders/{published.project_code}/document-objection-statement",
        data={"objection": "第三章评分标准排斥潜在投标人"},
        headers=headers,
    )
    assert answered.status_code == 200, answered.text
    assert json.loads(answered.content)["tender"] == published.project_code  # the route works ...

    refused = await client.post(
        f"/bidding/tenders/{draft.project_code}/document-objection-statement",
        data={"objection": "第三章评分标准排斥潜在投标人"},
        headers=headers,
    )
    assert refused.status_code == 404  # ... but says nothing of a draft
