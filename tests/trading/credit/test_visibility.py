"""Who sees which records: managers (``credit:record:manage``) every record with its history and
evidence; other signed-in roles and the public page only the records in force now, without them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import api_token, bearer, create_account
from trading.credit.models import Activity, CreditKind, CreditStatus
from trading.credit.service import CreditService, Publication
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings

BASE = "/api/v1/credit"


async def _records(session_maker: async_sessionmaker[AsyncSession], organisation_id: uuid.UUID) -> None:
    """In force, withdrawn (信用修复) and not yet in force, each with its evidence."""
    async with session_maker() as session:
        now = await clock.now(session)
        for reason, start, status in (
            ("在效", now - timedelta(days=10), CreditStatus.EFFECTIVE),
            ("已修复", now - timedelta(days=10), CreditStatus.WITHDRAWN),
            ("尚未生效", now + timedelta(days=10), CreditStatus.EFFECTIVE),
        ):
            await CreditService(session).publish(
                Publication(
                    source="test",
                    source_ref=f"test:{uuid.uuid4()}",
                    organisation_id=organisation_id,
                    kind=CreditKind.BLACKLIST,
                    scope=(Activity.BIDDING,),
                    valid_from=start,
                    valid_until=start + timedelta(days=365),
                    issuing_body="南京市住房和城乡建设局",
                    decision_no="宁建罚〔2026〕17号",
                    reason=reason,
                    status=status,
                    evidence_url="https://example.gov.cn/evidence.pdf",
                    evidence_sha256="a" * 64,
                ),
                actor=Actor.system(),
            )
        await session.commit()


async def test_non_managers_see_only_records_in_force_without_history_or_evidence(
    app: Litestar, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    listed = await create_account(session_maker, settings, Role.BIDDER)
    assert listed.organisation_id is not None
    await _records(session_maker, listed.organisation_id)
    url = f"{BASE}/organisations/{listed.organisation_id}/records"

    bidder = bearer(await api_token(client, await create_account(session_maker, settings, Role.BIDDER)))
    seen = (await client.get(url, headers=bidder)).json()
    assert [r["reason"] for r in seen] == ["在效"]
    assert (seen[0]["history"], seen[0]["evidence_url"], seen[0]["evidence_sha256"]) == ([], None, None)
    flagged = (await client.get(url, params={"effective_only": "false"}, headers=bidder)).json()
    assert [r["reason"] for r in flagged] == ["在效"]  # the flag does not widen what they see

    staff = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    managed = (await client.get(url, headers=staff)).json()
    assert {r["reason"] for r in managed} == {"在效", "已修复", "尚未生效"}
    assert all(r["history"] and r["evidence_url"] for r in managed)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as anonymous:
        public = await anonymous.get(f"/credit/organisations/{listed.organisation_id}")
    assert public.status_code == 200
    assert "在效" in public.text
    assert "尚未生效" not in public.text  # a decision taking effect later is not shown yet
    assert "已修复" not in public.text
