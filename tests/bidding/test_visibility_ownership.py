"""Who sees what of the bids (issue 11), the ownership walk: every tender-scoped route under
``/bidding`` and ``/api/v1/bidding`` called as unrelated organisations of each role (and overseers
where the route acts rather than reads) answers 401/403/404; and what a read of the record appends.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.opening.models import Stage
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure
from certs.devpki.pki import DevPki
from tests.bidding.factories import agency_party, mandate, published_tender, tenderee_party
from tests.bidding.visibility_world import (
    OVERSEERS,
    UNRELATED,
    Caller,
    World,
    bidding_handlers,
    concrete,
    exposure_of,
    is_page,
    set_stage,
)
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.ledger.models import LedgerEntry
from trading.server.routing import PUBLIC_ROUTES

pytestmark = pytest.mark.usefixtures("dev_lists")


# --- the ownership walk ----------------------------------------------------------------------------

SCOPED = frozenset(
    {
        Exposure.OWNER,
        Exposure.OWNER_OR_OVERSEER,
        Exposure.HOST,
        Exposure.OPENING_BIDDER,
        Exposure.OWN,
        Exposure.OPENING_STAGE,
    }
)
"""Exposures that belong to particular organisations. The rest is public or open to every
organisation of the role (published tenders, downloads, questions, bidding), or, for key holders,
tied to a certificate rather than an organisation: a release is refused unless signed by a listed
holder, and only for a bid with a recorded incident (tests/bidding/opening/test_opening_story.py).
"""
ACTING = frozenset({Exposure.OWNER, Exposure.HOST, Exposure.OPENING_BIDDER, Exposure.OWN})
"""Exposures where overseers, who only read, are refused as well."""
REFUSED = frozenset({401, 403, 404})


def request_for(path_format: str, w: World, caller: Caller) -> dict[str, Any]:
    """A well-formed request, so that what refuses it is the ownership check, not the body's shape."""
    signature = base64.b64encode(b"\x30\x03\x02\x01\x00").decode()
    pdf = ("file", ("x.pdf", b"%PDF-1.7\n% walk\n", "application/pdf"))
    p7s = ("signature", ("x.pdf.p7s", b"\x30\x03\x02\x01\x00", "application/pkcs7-signature"))
    api_bodies: dict[str, dict[str, Any]] = {
        "/api/v1/bidding/tenders/{code}": {"json": {"title": "改名"}},
        "/api/v1/bidding/tenders/{code}/documents": {"files": [pdf, p7s], "data": {"title": "补充"}},
        "/api/v1/bidding/tenders/{code}/clarifications": {"files": [pdf, p7s], "data": {"title": "澄清"}},
        "/api/v1/bidding/tenders/{code}/extension": {
            "json": {"deadline": "2099-01-01T00:00:00+08:00", "reason": "walk"}
        },
        "/api/v1/bidding/tenders/{code}/cancellation": {"json": {"reason": "walk"}},
        "/api/v1/bidding/uploads/{upload_id}": {"content": b"x", "headers": {"Upload-Offset": "0"}},
        "/api/v1/bidding/opening/{code}/transitions": {"json": {"action": "pause", "reason": "walk"}},
        "/api/v1/bidding/opening/{code}/incidents": {"json": {"lot": "L1", "bidder": w.uscc("A"), "cause": "walk"}},
        "/api/v1/bidding/opening/{code}/objections/{objection_id}/answer": {"json": {"answer": "walk"}},
        "/api/v1/bidding/tenders/{code}/document-objections": {"json": {"text": "walk", "signature": signature}},
        "/api/v1/bidding/tenders/{code}/document-objections/{objection_id}/answer": {"json": {"answer": "walk"}},
        "/api/v1/bidding/opening/{code}/record/host-signature": {
            "content": b"%PDF-1.7\n% walk\n",
            "headers": {"Content-Type": "application/pdf"},
        },
        "/api/v1/bidding/opening/{code}/decryption": {
            "json": {"lot": "L1", "part": "price-summary", "contentKey": base64.b64encode(bytes(32)).decode()}
        },
        "/api/v1/bidding/opening/{code}/objections": {"json": {"text": "walk", "signature": signature}},
        "/api/v1/bidding/opening/{code}/confirmation": {"json": {"signature": signature}},
        "/api/v1/bidding/opening/{code}/sign-in": {"json": {"signature": signature}},
        "/api/v1/bidding/opening/{code}/backups/{lot}/{part}": {
            "content": b"{}",
            "headers": {"Content-Type": "application/octet-stream"},
        },
        "/api/v1/bidding/tenders/{code}/lots/{lot}/withdrawal": {"json": {"signature": signature}},
        "/api/v1/bidding/opening/{code}/shares": {
            "json": {"lot": "L1", "bidder": w.uscc("A"), "shares": {}, "signature": signature}
        },
    }
    page_forms: dict[str, dict[str, Any]] = {
        "/bidding/manage/tenders/{code}/documents": {"files": [pdf, p7s], "data": {"title": "补充"}},
        "/bidding/manage/tenders/{code}/clarifications": {"files": [pdf, p7s], "data": {"title": "澄清"}},
        "/bidding/manage/tenders/{code}/extension": {"data": {"deadline": "2099-01-01T00:00", "reason": "walk"}},
        "/bidding/opening/{code}/host/transitions": {"data": {"action": "pause", "reason": "walk"}},
        "/bidding/opening/{code}/host/incidents": {"data": {"lot": "L1", "bidder": w.uscc("A"), "cause": "walk"}},
        "/bidding/opening/{code}/host/objections/{objection_id}/answer": {"data": {"answer": "walk"}},
        "/bidding/opening/{code}/bidder/objections": {"data": {"text": "walk", "signature": signature}},
        "/bidding/opening/{code}/bidder/confirmation": {"data": {"signature": signature}},
        "/bidding/opening/{code}/bidder/sign-in": {"data": {"signature": signature}},
        "/bidding/opening/{code}/bidder/decryption": {
            "json": {"lot": "L1", "part": "price-summary", "contentKey": base64.b64encode(bytes(32)).decode()}
        },
        "/bidding/tenders/{code}/lots/{lot}/withdrawal": {"data": {"signature": signature}},
        "/bidding/uploads/{upload_id}": {"content": b"x", "headers": {"Upload-Offset": "0"}},
    }
    if is_page(path_format):
        spec = dict(page_forms.get(path_format, {}))
        headers = {**spec.pop("headers", {}), "x-csrftoken": caller.csrf}
        return {**spec, "headers": headers}
    spec = dict(api_bodies.get(path_format, {}))
    return {**spec, "headers": {**spec.pop("headers", {}), **caller.headers}}


def _rule(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        errors = response.json().get("errors") or [{}]
        return f"{errors[0].get('field')}/{errors[0].get('rule')}"
    return str(response.headers.get("location", ""))


async def test_no_unrelated_organisation_succeeds_on_any_tender_scoped_route(
    *, app: Litestar, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], w: World
) -> None:
    """Every ``{code}`` and ``{id}`` route under bidding (API and pages) whose exposure belongs to
    particular organisations, as an unrelated organisation of each role: refused, never answered
    with data. Overseers read (listings, the hall) but do not act for the tender's own.
    """
    scoped = sorted(
        (route.path_format, method, exposure)
        for route, handler in bidding_handlers(app)
        if "{" in route.path_format and (exposure := exposure_of(handler)) in SCOPED
        for method in handler.http_methods
        # Public hall views: walked for leaks above, open to visitors by design.
        if not (exposure is Exposure.OPENING_STAGE and route.path_format in PUBLIC_ROUTES)
    )
    assert len(scoped) > 40
    successes: list[str] = []
    for stage in (Stage.DECRYPTION, Stage.CONFIRMATION):
        await set_stage(session_maker, w.code, stage)
        for path, method, exposure in scoped:
            callers = UNRELATED + (tuple(OVERSEERS) if exposure in ACTING else ())
            for name in callers:
                caller = w.callers[name]
                http = caller.browser if is_page(path) else client
                response = await http.request(method, concrete(path, w), **request_for(path, w, caller))
                if response.status_code not in REFUSED:
                    successes.append(f"{method} {path} as {name} at {stage}: {response.status_code} {_rule(response)}")
    assert successes == [], "\n".join(successes)


def test_evaluators_hold_no_opening_key_share() -> None:
    """Issue 21 item 10 (87号令 Art. 40: evaluators stay out of the opening): no escrow share grant."""
    from bidding.policies import ROLE_GRANTS

    assert BiddingPermission.OPENING_SHARE not in ROLE_GRANTS.get(Role.EXPERT, frozenset())
    assert not any(str(grant).startswith("bidding:opening") for grant in ROLE_GRANTS.get(Role.EXPERT, frozenset()))
    # Custodians that may hold keys keep the grant.
    assert BiddingPermission.OPENING_SHARE in ROLE_GRANTS[Role.AGENCY]


async def test_reading_the_record_before_the_opening_appends_nothing_to_the_ledger(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
) -> None:
    """Only the participants-only refusal is an attempt worth recording; "no opening yet" on a
    read used to append a ledger entry (under the ledger's write lock) for every poll."""
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    agency = await agency_party(session_maker, settings, dev_pki)
    await mandate(session_maker, tenderee, agency)
    tender = await published_tender(
        session_maker, settings, store, agency, lots=1, tenderee_organisation_id=tenderee.organisation_id
    )
    chain = f"project:{tender.project_code}"

    async def entries() -> int | None:
        async with session_maker() as session:
            return await session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.chain == chain))

    before = await entries()
    response = await client.get(
        f"/api/v1/bidding/opening/{tender.project_code}/record", headers=await agency.headers(client)
    )
    assert response.status_code == 409, response.text
    assert response.json()["errors"][0]["rule"] == "opening-exists"
    assert await entries() == before
