"""Who sees what of the bids (issue 11): every bidding route declares what it exposes
(`bidding.visibility.Exposure`); the stage walk calls every GET route under ``/bidding`` and
``/api/v1/bidding`` as each role at each opening stage and searches the bodies for planted prices,
bidder USCCs and an objection's text; the ownership walk calls every tender-scoped route as
unrelated organisations of each role and fails on any success.

One tender (an agency acting for a tenderee), three real sealed bids (A, B, C) and an outsider
bidder. At the opening, A and B have "decrypted" (distinctive prices planted on their rows), C has
not; A has filed an objection. The stage is then set directly, one stage after another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx
import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.opening.models import Stage
from bidding.policies import BiddingPermission
from bidding.visibility import READ_OUT_STAGES, OpeningPolicy, Relation
from tests.bidding.visibility_world import (
    OVERSEERS,
    OWNERS,
    PRICES,
    World,
    bidding_handlers,
    exposure_of,
    get_as,
    set_stage,
)
from trading.kernel.auth.permissions import requires
from trading.ledger.models import LedgerEntry

pytestmark = pytest.mark.usefixtures("dev_lists")


# --- the declarations ------------------------------------------------------------------------------


def undeclared(app: Litestar) -> list[str]:
    return sorted(
        f"{sorted(handler.http_methods)} {route.path_format} ({handler.handler_name})"
        for route, handler in bidding_handlers(app)
        if exposure_of(handler) is None
    )


def test_every_bidding_route_declares_what_it_exposes(app: Litestar) -> None:
    """A new bidding route without a visibility declaration fails here (and then needs a sample
    URL in the walks below, which fail on a declared route they cannot call).
    """
    assert undeclared(app) == [], "bidding routes that do not declare what they expose (bidding.visibility.Exposure)"
    assert len(list(bidding_handlers(app))) > 60  # the walk sees the real application


@get("/api/v1/bidding/_probe/{code:str}/prices", include_in_schema=False, opt=requires(BiddingPermission.OPENING_READ))
async def undeclared_prices_probe(code: FromPath[str]) -> dict[str, str]:
    return {"tender": code, "totalPrice": "1.00"}


@pytest.mark.parametrize("relation", list(Relation))
def test_the_opening_record_pdf_is_public_once_the_platform_signed_it(relation: Relation) -> None:
    """Issue 21 item 5: after the platform's signature an anonymous ``record.pdf`` was 404 until the
    host countersigned. Order 20 Art. 32 has the platform generate and publish the record: everyone
    may read it once the platform signed it, nobody before (there is nothing to serve).
    """
    policy = OpeningPolicy(relation, Stage.CLOSED, None)
    assert policy.may_read_record_pdf(platform_signed=True) is True
    assert policy.may_read_record_pdf(platform_signed=False) is False


def test_a_new_bidding_route_without_a_declaration_is_caught(app: Litestar) -> None:
    app.register(undeclared_prices_probe)
    assert undeclared(app) == ["['GET'] /api/v1/bidding/_probe/{code}/prices (undeclared_prices_probe)"]


# --- the stage walk --------------------------------------------------------------------------------


def allowed_to_see(caller: str, stage: Stage) -> dict[str, set[str]]:
    """What each caller may find in any body at ``stage`` (`bidding.visibility`'s rules)."""
    published = stage in READ_OUT_STAGES
    bidder = caller.removeprefix("bidder-") if caller.startswith("bidder-") else None
    participant = bidder is not None or caller in OWNERS | OVERSEERS
    return {
        "price": set(PRICES) if published else ({bidder} & set(PRICES) if bidder else set()),
        "uscc": set("ABC") if published or caller in OWNERS | OVERSEERS else ({bidder} if bidder else set()),
        "objection": {"A"} if caller in OWNERS | OVERSEERS or bidder == "A" or (published and participant) else set(),
    }


def leaks(body: str, w: World, allowed: Mapping[str, set[str]]) -> list[str]:
    found = []
    for name, price in PRICES.items():
        grouped = f"{int(float(price)):,}"  # pages may format 7310001.23 as 7,310,001.23
        if name not in allowed["price"] and (price in body or grouped in body):
            found.append(f"price of {name}")
    found += [f"USCC of {name}" for name in "ABC" if name not in allowed["uscc"] and w.uscc(name) in body]
    found += [
        f"name of {name}"
        for name in "ABC"
        if name not in allowed["uscc"] and re.search(re.escape(w.bidders[name].name) + r"(?!\d)", body)
    ]
    if "A" not in allowed["objection"] and "OBJ-7e3f" in body:
        found.append("A's objection")
    return found


async def test_no_price_or_bidder_reaches_anyone_the_stage_does_not_allow(
    *, app: Litestar, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], w: World
) -> None:
    """Every GET route under bidding, as each role at each stage: before 唱标 a bidder finds only
    its own row and price, nobody another's price; from 唱标 on the price table is public.
    """
    routes = sorted({route.path_format for route, handler in bidding_handlers(app) if "GET" in handler.http_methods})
    found: list[str] = []
    seen: dict[tuple[str, str, str], str] = {}
    for stage in (Stage.SIGN_IN, Stage.DECRYPTION, Stage.PRICE_READING, Stage.CONFIRMATION, Stage.CLOSED):
        await set_stage(session_maker, w.code, stage)
        for name, caller in w.callers.items():
            allowed = allowed_to_see(name, stage)
            for path in routes:
                status, body = await get_as(app, client, caller, path, w)
                assert status < 500, f"{path} as {name} at {stage}: {status} {body[:300]}"
                seen[stage.value, name, path] = body
                found += [f"{leak} in {path} as {name} at {stage}" for leak in leaks(body, w, allowed)]
    assert found == [], "\n".join(found)

    # The walk reaches the data (it would see a leak): the host's record lists every bidder
    # during decryption; A's own record has its price; at 唱标 a visitor sees the table.
    decrypting = Stage.DECRYPTION.value
    record = "/api/v1/bidding/opening/{code}/record"
    assert w.uscc("C") in seen[decrypting, "agency", record]
    assert PRICES["A"] in seen[decrypting, "bidder-A", record]
    assert PRICES["B"] in seen[Stage.PRICE_READING.value, "visitor", "/api/v1/bidding/opening/{code}"]
    assert PRICES["B"] in seen[Stage.PRICE_READING.value, "visitor", "/api/v1/bidding/opening/{code}/events"]
    assert w.uscc("B") in seen[decrypting, "supervisor", "/api/v1/bidding/tenders/{code}/bids"]
    assert w.uscc("B") in seen[decrypting, "tenderee", "/api/v1/bidding/tenders/{code}/downloads"]


async def test_a_bidder_reads_no_rival_price_from_the_record_during_decryption(
    *, app: Litestar, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], w: World
) -> None:
    """Issue 11 finding 1: ``GET …/record`` during decryption gave any bidder account every
    bidder's name and every price already decrypted.
    """
    await set_stage(session_maker, w.code, Stage.DECRYPTION)
    url = f"/api/v1/bidding/opening/{w.code}/record"
    # C has not decrypted yet: it must not learn A's or B's price, nor who they are.
    as_c = await client.get(url, headers=w.callers["bidder-C"].headers)
    assert as_c.status_code == 200, as_c.text
    assert [bid["bidder"] for bid in as_c.json()["bids"]] == [w.uscc("C")]
    assert PRICES["A"] not in as_c.text
    assert PRICES["B"] not in as_c.text
    # A decrypted: its own price, nobody else's.
    as_a = (await client.get(url, headers=w.callers["bidder-A"].headers)).json()
    assert [(bid["bidder"], bid.get("totalPrice")) for bid in as_a["bids"]] == [(w.uscc("A"), PRICES["A"])]
    # The host runs the decryption: every row, no price.
    as_host = (await client.get(url, headers=w.callers["agency"].headers)).json()
    assert {bid["bidder"] for bid in as_host["bids"]} == {w.uscc(name) for name in "ABC"}
    assert all("totalPrice" not in bid for bid in as_host["bids"])
    # A bidder that did not bid gets nothing, and the attempt is recorded.
    outsider = await client.get(url, headers=w.callers["outsider-bidder"].headers)
    assert outsider.status_code == 403
    assert outsider.json()["errors"][0]["rule"] == "participants-only"
    async with session_maker() as session:
        refused = await session.scalar(
            select(LedgerEntry).where(
                LedgerEntry.action == "bidding.opening_record_refused", LedgerEntry.chain == f"project:{w.code}"
            )
        )
    assert refused is not None
    assert refused.summary["rule"] == "participants-only"


async def test_only_the_tenders_own_and_the_supervisors_list_its_bids(
    *, app: Litestar, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], w: World
) -> None:
    """Issue 11 finding 2: after the deadline ``GET /tenders/{code}/bids`` answered any tenderee or
    agency, not only the tender's own.
    """
    url = f"/api/v1/bidding/tenders/{w.code}/bids"
    for name in ("tenderee", "agency", "supervisor", "admin"):
        listing = await client.get(url, headers=w.callers[name].headers)
        assert listing.status_code == 200, (name, listing.text)
        assert {row["uscc"] for row in listing.json()} == {w.uscc(n) for n in "ABC"}
    for name in ("other-tenderee", "other-agency"):
        refused = await client.get(url, headers=w.callers[name].headers)
        assert refused.status_code == 403, (name, refused.text)
        assert refused.json()["errors"][0]["rule"] == "owner"
        assert w.uscc("A") not in refused.text
    async with session_maker() as session:
        recorded = list(
            await session.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.action == "bidding.bids_list_refused", LedgerEntry.chain == f"project:{w.code}"
                )
            )
        )
    assert [entry.summary["rule"] for entry in recorded] == ["owner-or-overseer", "owner-or-overseer"]
