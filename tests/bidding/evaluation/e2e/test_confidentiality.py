"""Issue 15's confidentiality acceptance: before the results, the tenderee, the agency and the
bidders cannot see the experts' identities or scores, each refused attempt is recorded in the
ledger, and after publication the committee's names are public.

The walk enumerates every route the Litestar application serves under ``/evaluation`` and
``/api/v1/evaluation`` (pages with a signed-in browser and the form's CSRF token, the API with a
bearer token), fills the path parameters from the story (its evaluation, tender, bids, members,
finding, clarification, venues, seats, experts, draw) and calls each as the tenderee, the agency
(which runs the tender and hosts the evaluation) and each bidder, with the session at ``scoring``
after every member submitted (identities and distinctive scores in the database). Every answer
is either a refusal (4xx) or a body naming no expert and showing no score; every 403 adds a
ledger entry. Server-sent event streams are opened only by the roles that are refused them.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Clarification, CommitteeDraw, Finding, SessionState
from bidding.evaluation.pool.models import Expert
from tests.bidding.evaluation.e2e.world import (
    SERVICE,
    TECH,
    ExpertPerson,
    Story,
    drawn_and_seated,
    gp_method,
    opening_bids,
)
from tests.trading.parties.factories import Account, api_token, bearer, csrf_token
from trading.kernel import clock
from trading.ledger.models import LedgerEntry
from trading.parties.models import Person

SCORES = {"A": ("87.35", "91.65"), "B": ("86.15", "92.45"), "C": ("84.85", "93.55")}
"""Distinctive values (tech, service) no page prints by accident."""
PREFIXES = ("/evaluation", "/api/v1/evaluation")
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
COMMITTEE_ROUTES = (
    ("GET", "/api/v1/evaluation/{evaluation_id:uuid}/committee"),
    ("GET", "/evaluation/e/{evaluation_id:uuid}/committee"),
    ("GET", "/evaluation/e/{evaluation_id:uuid}/workspace"),
    ("GET", "/evaluation/e/{evaluation_id:uuid}/bids/{opening_bid_id:uuid}"),
    ("GET", "/evaluation/e/{evaluation_id:uuid}/progress"),
)
"""The committee's list and the scoring views: refused outright to each of the walking roles (the
host's own progress view, ``/api/v1/evaluation/e/{id}/progress``, shows counts, no names: walked
like the rest)."""
OWN_BUSINESS = {("bidder A", "POST", "/evaluation/clarifications/{clarification_id:uuid}/statement")}
"""Unsafe calls a role may make: bidder A asks for the statement to sign over its own clarification
(nothing is stored; the page shows the text to sign)."""


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    template: str

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def stream(self) -> bool:
        return self.template.endswith("/events")


def routes(app: Litestar) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for route in app.routes:
        if not route.path.startswith(PREFIXES):
            continue
        out.extend((method, route.path) for method in sorted(route.methods - {"OPTIONS", "HEAD"}))
    return sorted(set(out))


def fill(template: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no value for {{{name}}} in {template}"
        return values[name]

    return PARAM.sub(one, template)


async def values_of(story: Story) -> dict[str, str]:
    async with story.maker() as session:
        finding = await session.scalar(sa.select(Finding).where(Finding.evaluation_id == story.ev))
        clarification = await session.scalar(sa.select(Clarification).where(Clarification.evaluation_id == story.ev))
        draw = await session.scalar(sa.select(CommitteeDraw).where(CommitteeDraw.evaluation_id == story.ev))
    assert finding is not None
    assert clarification is not None
    assert draw is not None
    member = (await story.current())[0]
    return {
        "evaluation_id": str(story.ev),
        "tender_id": str(story.tender_id),
        "opening_bid_id": str(story.bids["A"]),
        "member_id": str(member.id),
        "finding_id": str(finding.id),
        "clarification_id": str(clarification.id),
        "venue_id": str(story.venues["main"]),
        "seat_id": str(story.seats["main"][0]),
        "expert_id": str(member.expert_id),
        "entry_id": str(uuid.uuid4()),
        "draw_id": str(draw.id),
        "file_name": "技术方案.pdf",
        "fmt": "csv",
    }


async def secrets_of(story: Story) -> list[str]:
    """What must not show: every drawn or pooled expert's name, masked ID number, username and ids;
    the distinctive scores."""
    out: list[str] = []
    async with story.maker() as session:
        for expert in await session.scalars(sa.select(Expert)):
            out += [expert.name, str(expert.id)]
            person = await session.get_one(Person, expert.person_id)
            out.append(person.id_masked)
    out += [e.account.username for e in story.experts]
    out += [v for pair in SCORES.values() for v in pair]
    return out


async def refusals(story: Story) -> int:
    async with story.maker() as session:
        return int(
            await session.scalar(
                sa.select(sa.func.count()).select_from(LedgerEntry).where(LedgerEntry.action.like("%refused%"))
            )
            or 0
        )


async def browser(app: Litestar, account: Account) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local")  # type: ignore[arg-type]
    form = await client.get("/login")
    response = await client.post(
        "/login",
        data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": account.password},
    )
    assert response.status_code == 303, response.text
    home = await client.get("/", follow_redirects=True)
    return client, csrf_token(home.text)


async def scored(story: Story) -> None:
    """The session at scoring, every member's sheet submitted, a clarification asked."""
    await drawn_and_seated(story, gp_method())
    chair = await story.chair()
    for state in (SessionState.SIGNED_IN, SessionState.QUALIFICATION, SessionState.DETAILED):
        await story.enter(state, chair.actor)
    bids = await opening_bids(story)
    experts = [story.person_of(m) for m in await story.current()]
    with clock.use_clock(story.shifted):
        asked = await story.client.post(
            f"/api/v1/evaluation/e/{story.ev}/clarifications",
            json={"openingBidId": str(bids["A"]), "question": "请澄清交货期。", "minutes": 30},
            headers=await story.token(experts[0].account),
        )
    assert asked.status_code == 201, asked.text
    await story.enter(SessionState.SCORING, chair.actor)
    for index, expert in enumerate(experts):

        async def work(s: AsyncSession, expert: ExpertPerson = expert, index: int = index) -> None:
            scoring = story.scoring(s)
            for name, (tech, service) in SCORES.items():
                points = Decimal("99.95") if index == 6 and name == "C" else Decimal(tech)
                await scoring.score(expert.actor, story.ev, bids[name], TECH, points)
                await scoring.score(expert.actor, story.ev, bids[name], SERVICE, Decimal(service))
            await scoring.submit(expert.actor, story.ev)

        await story.run(work)


def leaks(body: str, secrets: list[str], path: str) -> list[str]:
    """The secrets the body shows (an id the caller put in the URL itself does not count)."""
    return [s for s in secrets if s and s in body and s not in path]


@pytest.fixture
async def story(make_story: Callable[..., Awaitable[Story]]) -> Story:
    built = await make_story()
    await scored(built)
    return built


def calls(app: Litestar, values: dict[str, str]) -> Iterator[Call]:
    for method, template in routes(app):
        yield Call(method, fill(template, values), template)


async def test_the_tenderee_the_agency_and_bidders_walk_every_evaluation_route_and_see_no_expert_or_score(  # noqa: C901, PLR0912 - one walk
    story: Story, app: Litestar, tmp_path: Path
) -> None:
    del tmp_path
    values = await values_of(story)
    secrets = await secrets_of(story)
    walked = list(calls(app, values))
    assert len(walked) > 60, "the evaluation serves its pages and API"
    roles = {
        "tenderee": story.tenderee.account,
        "agency": story.agency.account,
        **{f"bidder {n}": p.account for n, p in story.bidders.items()},
    }
    problems: list[str] = []
    statuses: dict[tuple[str, str, str], int] = {}
    refused = 0
    with clock.use_clock(story.shifted):
        for role, account in roles.items():
            page_client, token = await browser(app, account)
            api_headers = bearer(await api_token(story.client, account))
            try:
                for call in walked:
                    before = await refusals(story)
                    if call.api:
                        request = story.client.request(
                            call.method,
                            call.path,
                            headers=api_headers,
                            json={} if call.method != "GET" else None,
                        )
                    elif call.method == "GET":
                        request = page_client.get(call.path)
                    else:
                        request = page_client.post(call.path, data={"_csrf_token": token})
                    try:
                        response = await asyncio.wait_for(request, timeout=10)
                    except TimeoutError:
                        problems.append(f"{role} {call.method} {call.path}: the stream stayed open")
                        continue
                    status = response.status_code
                    statuses[role, call.method, call.template] = status
                    leaked = leaks(response.text, secrets, call.path)
                    if leaked:
                        problems.append(f"{role} {call.method} {call.template} {status}: shows {leaked[:3]}")
                    if (
                        200 <= status < 300
                        and call.method != "GET"
                        and (role, call.method, call.template) not in OWN_BUSINESS
                    ):
                        problems.append(f"{role} {call.method} {call.template}: accepted ({status})")
                    if status == 403:
                        refused += 1
                        if await refusals(story) <= before:
                            problems.append(f"{role} {call.method} {call.template}: 403 not in the ledger")
            finally:
                await page_client.aclose()
    assert not problems, "\n".join(problems)
    for role in roles:
        for method, template in COMMITTEE_ROUTES:
            assert statuses[role, method, template] == 403, (role, method, template)
    assert refused > 0
    async with story.maker() as session:
        recorded = await session.scalar(
            sa.select(sa.func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.action == "evaluation.access_refused", LedgerEntry.subject_id == str(story.ev))
        )
    assert recorded


async def test_after_publication_the_committee_names_are_public(story: Story) -> None:
    chair = await story.chair()
    finding = None
    async with story.maker() as session:
        finding = await session.scalar(
            sa.select(Finding).where(Finding.evaluation_id == story.ev, Finding.rule == "outlier_high")
        )
    assert finding is not None
    owner = next(m for m in await story.current() if m.id == finding.member_id)
    await story.run(
        lambda s: story.scoring(s).resolve(
            story.person_of(owner).actor, story.ev, finding.id, justification="该投标人技术方案确有突出之处"
        )
    )
    with clock.use_clock(story.shifted):
        before = await story.client.get(f"/evaluation/e/{story.ev}/result")
    assert before.status_code == 404
    await story.enter(SessionState.REPORT_SIGNING, chair.actor)
    await story.render()
    experts = [story.person_of(m) for m in await story.current()]
    for expert in experts:
        await story.sign(expert)
    with clock.use_clock(story.shifted):
        page = await story.client.get(f"/evaluation/e/{story.ev}/result")
        api = await story.client.get(
            f"/api/v1/evaluation/e/{story.ev}/result",
            headers=bearer(await api_token(story.client, story.bidders["A"].account)),
        )
    assert page.status_code == 200, page.text
    assert api.status_code == 200, api.text
    for expert in experts:
        assert expert.name in page.text
        assert expert.name in api.text
