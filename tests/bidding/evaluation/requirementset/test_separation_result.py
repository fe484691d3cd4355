"""评定分离: `finalise` writes an unranked recommendation (CONTRACTS15: ``recommended``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.methods.common import MethodCode, Sector
from bidding.evaluation.methods.settings import MethodSettings
from bidding.evaluation.models import Evaluation
from bidding.evaluation.scoring.result import finalise
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.scoring.world import opened_world
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


async def test_separation_recommends_three_of_four_without_ranks(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    """Four opened bids (A 1,180,000.00; B 1,095,000.50; C 1,230,000.00; D 990,000.00) evaluated by
    经评审的最低投标价法: the three lowest (D, B, A) are recommended, listed by id, with no rank and
    no ranked candidates; C is not recommended."""
    method = MethodSettings(MethodCode.SEPARATION, Sector.ENGINEERING, recommend=3)
    world = await opened_world(
        client=client,
        session_maker=session_maker,
        settings=settings,
        store=store,
        dev_pki=dev_pki,
        tmp_path=tmp_path,
        method=method,
        letters="ABCD",
    )
    async with world.session_maker() as session:
        result = await finalise(session, await session.get_one(Evaluation, world.evaluation_id))
        await session.commit()
    assert result["method"] == "eng-evaluation-separation"
    assert result["source_method"] == "eng-reviewed-lowest-price"
    assert result["ranked"] is False
    assert result["candidates"] == []
    assert result["recommended"] == sorted(str(world.bids[n]) for n in "ABD")
    assert str(world.bids["C"]) not in result["recommended"]
    assert [b["rank"] for b in result["bids"]] == [None] * 4
    async with world.session_maker() as session:
        stored = await session.get_one(Evaluation, world.evaluation_id)
        assert stored.result == result
