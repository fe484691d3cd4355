"""The venue catalogue's and the session's pages and API through the real application on
PostgreSQL: the centre keeps venues and seats (a bad certificate or region refused by rule, nothing
stored); an expert signs in at their seat through the API with their certificate and follows the
session page; the host sees numbered members, never names; the supervisor's live view; every route
refuses the roles it is not for.
"""

from __future__ import annotations

import base64
import html
import re

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import Member, MemberStatus, Venue
from certs.auth.challenge import LoginResponse
from certs.devpki.pki import DevPki
from certs.sign.cades import sign_detached
from tests.bidding.evaluation.pool.test_pages import log_in
from tests.bidding.evaluation.session.support import build_committee, seat_everyone
from tests.trading.parties.factories import Account, api_token, bearer, create_account, csrf_token
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings

pytestmark = pytest.mark.usefixtures("dev_lists")
Maker = async_sessionmaker[AsyncSession]


async def _post(client: httpx.AsyncClient, page_url: str, url: str, data: dict[str, str]) -> httpx.Response:
    form = await client.get(page_url)
    assert form.status_code == 200, form.text
    return await client.post(url, data={"_csrf_token": csrf_token(form.text), **data})


async def test_the_centre_keeps_venues_and_seats_and_bad_input_stores_nothing(
    client: httpx.AsyncClient, session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    admin = await create_account(session_maker, settings, Role.ADMIN)
    await log_in(client, admin)
    listing = await client.get("/evaluation/venues")
    assert listing.status_code == 200
    assert "评标场地" in listing.text

    good = {"code": "NJ-MAIN-1", "name": "南京中心一号评标室", "region_code": "320100", "owner": "own"}
    bad_pem = await _post(client, "/evaluation/venues", "/evaluation/venues", {**good, "certificate_pem": "not a cert"})
    assert bad_pem.status_code == 422
    assert 'data-rule="certificate_pem"' in bad_pem.text
    bad_region = await _post(client, "/evaluation/venues", "/evaluation/venues", {**good, "region_code": "990100"})
    assert bad_region.status_code == 422
    assert 'data-rule="region"' in bad_region.text
    peer = await _post(
        client, "/evaluation/venues", "/evaluation/venues", {**good, "owner": "peer", "code": "HF-SUB-1"}
    )
    assert peer.status_code == 422
    assert 'data-rule="peer_platform"' in peer.text
    async with session_maker() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Venue)) == 0

    pem = dev_pki.org_sign.certificate.public_bytes(Encoding.PEM)
    created = await _post(client, "/evaluation/venues", "/evaluation/venues", {**good, "certificate_pem": pem.decode()})
    assert created.status_code == 303, created.text
    venue_url = created.headers["location"]
    seat = await _post(client, venue_url, f"{venue_url}/seats", {"label": "1号"})
    assert seat.status_code == 303
    twice = await _post(client, venue_url, f"{venue_url}/seats", {"label": "1号"})
    assert twice.status_code == 422
    assert 'data-rule="unique"' in twice.text
    page = await client.get(venue_url)
    assert 'data-seat="1号" data-active="yes"' in page.text
    async with session_maker() as session:
        venue = await session.scalar(sa.select(Venue).where(Venue.code == "NJ-MAIN-1"))
        assert venue is not None
        assert venue.certificate_pem is not None
    api = await client.get("/api/v1/evaluation/venues/", headers=bearer(await api_token(client, admin)))
    assert api.status_code == 200
    assert api.json()[0]["seats"][0]["label"] == "1号"


async def test_roles_the_pages_are_not_for_are_refused(
    client: httpx.AsyncClient, session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    committee = await build_committee(session_maker, settings, dev_pki, size=3, reserves=0)
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    await log_in(client, bidder)
    evaluation = committee.evaluation_id
    for url in (
        "/evaluation/venues",
        "/evaluation/sessions",
        f"/evaluation/e/{evaluation}/session",
        f"/evaluation/e/{evaluation}/host",
        f"/evaluation/e/{evaluation}/live",
    ):
        assert (await client.get(url)).status_code == 403, url
    token = bearer(await api_token(client, bidder))
    refused = await client.get(f"/api/v1/evaluation/e/{evaluation}/progress", headers=token)
    assert refused.status_code == 403


async def test_an_expert_signs_in_at_the_seat_and_the_host_sees_numbers_not_names(
    client: httpx.AsyncClient, session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    committee = await build_committee(session_maker, settings, dev_pki, size=3, reserves=1)
    await seat_everyone(session_maker, settings, committee)
    expert = committee.experts[0]
    await log_in(client, expert.account)

    listing = await client.get("/evaluation/sessions")
    assert f'data-evaluation="{committee.evaluation_id}"' in listing.text
    page = await client.get(f"/evaluation/e/{committee.evaluation_id}/session")
    assert page.status_code == 200
    assert 'id="seat-statement"' in page.text
    assert "中心一号评标室" in page.text

    token = bearer(await api_token(client, expert.account))
    issued = await client.post(f"/api/v1/evaluation/e/{committee.evaluation_id}/seat/challenges", headers=token)
    assert issued.status_code == 201, issued.text
    body = issued.json()
    statement = base64.b64decode(body["statement"])
    signer = expert.identity.signing().signer
    answer = LoginResponse(
        body["challenge"]["nonce"], expert.identity.certificate, signer.sign(statement), expert.identity.chain[:-1]
    ).to_dict()
    signed = await client.post(
        f"/api/v1/evaluation/e/{committee.evaluation_id}/seat/sign-in",
        json={**answer, "seat": body["seat"]},
        headers=token,
    )
    assert signed.status_code == 201, signed.text
    async with session_maker() as session:
        member = await session.get(Member, committee.members[0])
        assert member is not None
        assert member.status is MemberStatus.SIGNED_IN
    after = await client.get(f"/evaluation/e/{committee.evaluation_id}/session")
    assert 'id="signed-in"' in after.text
    assert 'id="vote-form"' in after.text

    host_client = client
    await host_client.post("/logout", data={"_csrf_token": csrf_token(after.text)})
    await log_in(host_client, committee.host)
    host_page = await host_client.get(f"/evaluation/e/{committee.evaluation_id}/host")
    assert host_page.status_code == 200
    assert all(e.name not in host_page.text for e in committee.experts)
    assert 'data-status="signed-in"' in host_page.text

    await host_client.post("/logout", data={"_csrf_token": csrf_token(host_page.text)})
    supervisor: Account = await create_account(session_maker, settings, Role.SUPERVISOR)
    await log_in(host_client, supervisor)
    live = await host_client.get(f"/evaluation/e/{committee.evaluation_id}/live")
    assert live.status_code == 200
    assert committee.experts[0].name in live.text
    progress = await host_client.get(
        f"/api/v1/evaluation/e/{committee.evaluation_id}/progress",
        headers=bearer(await api_token(host_client, supervisor)),
    )
    assert progress.json()["signedIn"] == 1


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


async def test_the_session_page_signs_in_with_a_cades_signature_over_the_shown_statement(
    client: httpx.AsyncClient, session_maker: Maker, settings: Settings, dev_pki: DevPki
) -> None:
    committee = await build_committee(session_maker, settings, dev_pki, size=3, reserves=0)
    await seat_everyone(session_maker, settings, committee)
    expert = committee.experts[1]
    await log_in(client, expert.account)
    url = f"/evaluation/e/{committee.evaluation_id}/session"
    page = await client.get(url)
    match = re.search(r'<pre id="seat-statement"><code>(.*?)</code></pre>', page.text, re.DOTALL)
    assert match
    statement = html.unescape(match.group(1)).encode()
    signature = base64.b64encode(await sign_detached(statement, expert.identity.signing())).decode()
    fields = {"nonce": _field(page.text, "nonce"), "signature": signature}

    other_seat = str(committee.seats[0])
    wrong = await client.post(
        f"{url}/sign-in", data={"_csrf_token": csrf_token(page.text), **fields, "seat": other_seat}
    )
    assert wrong.status_code == 422
    assert 'data-rule="own_seat"' in wrong.text
    assert "这不是您的席位" in wrong.text

    page = await client.get(url)
    statement = html.unescape(
        re.search(r'<pre id="seat-statement"><code>(.*?)</code></pre>', page.text, re.DOTALL).group(1)  # type: ignore[union-attr]
    ).encode()
    signature = base64.b64encode(await sign_detached(statement, expert.identity.signing())).decode()
    done = await client.post(
        f"{url}/sign-in",
        data={
            "_csrf_token": csrf_token(page.text),
            "nonce": _field(page.text, "nonce"),
            "seat": _field(page.text, "seat"),
            "signature": signature,
        },
    )
    assert done.status_code == 303, done.text
    async with session_maker() as session:
        member = await session.get(Member, committee.members[1])
        assert member is not None
        assert member.status is MemberStatus.SIGNED_IN
