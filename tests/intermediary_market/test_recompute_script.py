"""Issue 21 item 11: ``scripts/recompute_lottery.py`` judges a published result against what was
published before the draw, from published data alone (a subprocess in isolated mode, no database).

The tampered results are made internally consistent wherever the tamperer could (a new seed with
its own commitment and the draw recomputed, a list with its digest recomputed): only the data
published earlier can expose them.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intermediary_market import selection
from intermediary_market.models import Announcement
from intermediary_market.schemas import AnnouncementRead
from intermediary_market.selection import FundingType, SelectionMethod
from intermediary_market.service import MarketService
from tests.intermediary_market.factories import (
    actor_in_new_organisation,
    announcement_form,
    publish_item,
    qualified_intermediary,
)
from tests.intermediary_market.test_web import ITEM, ensure_item, qualify
from tests.intermediary_market.test_web_pages import actor_of
from tests.trading.parties.factories import create_account
from trading.kernel import clock, draws
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "recompute_lottery.py"
AFTER = timedelta(days=5, hours=1)
"""After the factories' five-day registration window."""


def _public(row: Announcement) -> dict[str, Any]:
    """The announcement as the public API shows it (``/api/v1/intermediary/results``)."""
    return json.loads(msgspec.json.encode(AnnouncementRead.of(row)))


def _run(tmp_path: Path, result: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    published = tmp_path / "result.json"
    published.write_text(json.dumps(result), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(published), *args], capture_output=True, text=True, check=False
    )


def _before(tmp_path: Path, announcement: dict[str, Any]) -> list[str]:
    path = tmp_path / "before.json"
    path.write_text(json.dumps(announcement), encoding="utf-8")
    return ["--before", str(path)]


def _redraw(result: dict[str, Any]) -> dict[str, Any]:
    """Make a tampered lottery result consistent with itself: digest, draw seed, winner."""
    computation = result["computation"]
    lines = computation["closed_list"]
    commitments = {line["organisation_id"]: line["contribution_sha256"] for line in lines}
    computation["closed_list_sha256"] = draws.closed_list_digest(commitments)
    revealed = {key: computation["contributions"].get(key) for key in commitments}
    computation["draw_seed"] = draws.draw_seed(computation["seed"], computation["closed_list_sha256"], revealed)
    keys = sorted(commitments)
    computation["registrants"] = keys
    computation["winner"] = keys[draws.draw_index(computation["draw_seed"], "lottery", keys)]
    result["winner_organisation_id"] = computation["winner"]
    return result


async def _lottery(session: AsyncSession, settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """A real lottery with two contributions: (the announcement as published at the close, the result)."""
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    intermediaries = [await qualified_intermediary(session, settings) for _ in range(4)]
    service = MarketService(session)
    announcement = await service.announce(await announcement_form(session, SelectionMethod.RANDOM), actor=owner)
    secrets = {}
    for n, intermediary in enumerate(intermediaries):
        secret = draws.new_secret() if n < 2 else None
        secrets[intermediary] = secret
        commitment = draws.commitment(secret) if secret else None
        await service.register(announcement.id, price=None, actor=intermediary, contribution_sha256=commitment)
    with use_clock(ShiftedClock(AFTER)):
        for intermediary, secret in secrets.items():
            if secret:
                await service.reveal(announcement.id, secret, actor=intermediary)  # closes the list first
        before = _public(announcement)
        result = _public(await service.draw(announcement.id, actor=owner))
    return before, result


@pytest.fixture
async def lottery(session: AsyncSession, settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    return await _lottery(session, settings)


async def test_an_honest_lottery_is_confirmed(lottery: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path) -> None:
    before, result = lottery
    assert before["closed_list"]["closed_list_sha256"] == result["computation"]["closed_list_sha256"]
    done = _run(tmp_path, result, *_before(tmp_path, before))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == {
        "verified": True,
        "method": "random",
        "registrants": 4,
        "winner": result["winner_organisation_id"],
        "failed": False,
    }


async def test_a_new_seed_with_a_recomputed_commitment_is_refused(
    lottery: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    before, result = lottery
    forged = copy.deepcopy(result)
    forged["computation"]["seed"] = draws.new_secret()
    forged["computation"]["seed_sha256"] = forged["seed_sha256"] = draws.commitment(forged["computation"]["seed"])
    done = _run(tmp_path, _redraw(forged), *_before(tmp_path, before))
    assert done.returncode == 1
    assert "does not match the commitment published before the draw" in done.stdout


async def test_a_removed_registrant_is_refused(lottery: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path) -> None:
    before, result = lottery
    forged = copy.deepcopy(result)
    removed = forged["computation"]["closed_list"].pop()["organisation_id"]
    forged["computation"]["contributions"].pop(removed)
    done = _run(tmp_path, _redraw(forged), *_before(tmp_path, before))
    assert done.returncode == 1
    assert f"registrant {removed} was on the list at the close but is missing" in done.stdout


async def test_a_duplicated_registrant_is_refused(
    lottery: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    before, result = lottery
    forged = copy.deepcopy(result)
    doubled = forged["computation"]["closed_list"][0]
    forged["computation"]["closed_list"].append(dict(doubled))
    done = _run(tmp_path, forged, *_before(tmp_path, before))
    assert done.returncode == 1
    assert f"registrant {doubled['organisation_id']} appears 2 times in the list" in done.stdout


async def test_a_changed_winner_is_refused(lottery: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path) -> None:
    before, result = lottery
    forged = copy.deepcopy(result)
    other = next(key for key in forged["computation"]["registrants"] if key != result["winner_organisation_id"])
    forged["computation"]["winner"] = forged["winner_organisation_id"] = other
    done = _run(tmp_path, forged, *_before(tmp_path, before))
    assert done.returncode == 1
    assert f"published winner {other}, recomputed {result['winner_organisation_id']}" in done.stdout


async def test_a_changed_method_is_refused(lottery: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path) -> None:
    before, result = lottery
    forged = copy.deepcopy(result)
    forged["computation"]["method"] = forged["method"] = "lowest_price"
    forged["computation"]["bids"] = [{"registrant": result["winner_organisation_id"], "price": "1.00"}]
    done = _run(tmp_path, forged, *_before(tmp_path, before))
    assert done.returncode == 1
    assert "the announcement published the method 'random', the result applies 'lowest_price'" in done.stdout


async def test_a_result_checked_only_against_itself_is_not_verified(
    lottery: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    _, result = lottery
    done = _run(tmp_path, {"computation": result["computation"]})
    assert done.returncode == 2
    assert "CANNOT VERIFY: the seed commitment published before the draw is needed" in done.stdout


async def test_a_lowest_price_result_is_judged(session: AsyncSession, settings: Settings, tmp_path: Path) -> None:
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    intermediaries = [await qualified_intermediary(session, settings) for _ in range(4)]
    service = MarketService(session)
    form = await announcement_form(
        session, SelectionMethod.LOWEST_PRICE, price_min=Decimal(50000), price_max=Decimal(100000)
    )
    announcement = await service.announce(form, actor=owner)
    for intermediary, price in zip(intermediaries, ["70000", "65000", "65000", "80000"], strict=True):
        await service.register(announcement.id, price=Decimal(price), actor=intermediary)
    with use_clock(ShiftedClock(AFTER)):
        await service.close_registration(announcement, await clock.now(session), actor=Actor.system())
        before = _public(announcement)
        result = _public(await service.draw(announcement.id, actor=owner))
    assert result["computation"]["tie_break"]["candidates"] == sorted(
        str(i.organisation_id) for i in intermediaries[1:3]
    )
    done = _run(tmp_path, result, *_before(tmp_path, before))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["winner"] == result["winner_organisation_id"]

    forged = copy.deepcopy(result)
    other = str(intermediaries[0].organisation_id)  # the 70 000 bid
    forged["computation"]["winner"] = forged["winner_organisation_id"] = other
    done = _run(tmp_path, forged, *_before(tmp_path, before))
    assert done.returncode == 1
    assert f"published winner {other}" in done.stdout


async def test_a_failed_result_is_judged(session: AsyncSession, settings: Settings, tmp_path: Path) -> None:
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    intermediaries = [await qualified_intermediary(session, settings) for _ in range(2)]
    service = MarketService(session)
    announcement = await service.announce(await announcement_form(session, SelectionMethod.RANDOM), actor=owner)
    for intermediary in intermediaries:
        await service.register(announcement.id, price=None, actor=intermediary)
    with use_clock(ShiftedClock(AFTER)):
        await service.close_registration(announcement, await clock.now(session), actor=Actor.system())
        before = _public(announcement)
        result = _public(await service.draw(announcement.id, actor=owner))
    assert result["status"] == "failed"
    done = _run(tmp_path, result, *_before(tmp_path, before))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == {
        "verified": True,
        "method": "random",
        "registrants": 2,
        "winner": None,
        "failed": True,
    }


async def test_a_failure_declared_without_cause_is_refused(
    lottery: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    before, result = lottery
    forged = copy.deepcopy(result)
    forged["status"], forged["winner_organisation_id"], forged["failure_rule"] = "failed", None, "no_registrants"
    forged["computation"].pop("winner")
    forged["computation"]["failure"] = "nobody registered"
    done = _run(tmp_path, forged, *_before(tmp_path, before))
    assert done.returncode == 1
    assert "the selection was declared failed (no_registrants), but 4 eligible registrants allow" in done.stdout


# --- the platform's public API as the source (--server) --------------------------------------------


@pytest.fixture
def mirror() -> Iterator[tuple[str, dict[str, Any]]]:
    """A plain HTTP server answering the public result API with what the platform answered."""
    answers: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            key = f"{url.path}?{parse_qs(url.query)['announcement_id'][0]}"
            body = json.dumps(answers[key]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answers
    finally:
        server.shutdown()
        server.server_close()


async def test_server_mode_saves_the_record_before_the_draw_and_checks_the_result_against_it(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    mirror: tuple[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    url, answers = mirror
    await ensure_item(session_maker)
    owner = await create_account(session_maker, settings, Role.TENDEREE)
    accounts = [await create_account(session_maker, settings, Role.INTERMEDIARY) for _ in range(3)]
    for account in accounts:
        await qualify(session_maker, account)
    async with session_maker() as session:
        form = await announcement_form(session, SelectionMethod.RANDOM, window=timedelta(minutes=1))
        form.item_code = ITEM
        market = MarketService(session)
        announcement = await market.announce(form, actor=actor_of(owner, Role.TENDEREE))
        for account in accounts:
            await market.register(announcement.id, price=None, actor=actor_of(account, Role.INTERMEDIARY))
        await session.commit()
    path = f"/api/v1/intermediary/results?{announcement.id}"

    async def publish() -> None:
        response = await client.get("/api/v1/intermediary/results", params={"announcement_id": str(announcement.id)})
        assert response.status_code == 200
        answers[path] = response.json()

    server = ["--server", url, "--announcement", str(announcement.id)]
    with use_clock(ShiftedClock(timedelta(minutes=5))):
        async with session_maker() as session:  # the sweep's close: the list is frozen and public
            row = await MarketService(session).announcement(announcement.id, lock=True)
            await MarketService(session).close_registration(row, await clock.now(session), actor=Actor.system())
            await session.commit()
        await publish()
        saved = tmp_path / "before.json"
        done = subprocess.run(
            [sys.executable, "-I", str(SCRIPT), *server, "--save", str(saved)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        async with session_maker() as session:
            await MarketService(session).draw(announcement.id, actor=actor_of(owner, Role.TENDEREE))
            await session.commit()
        await publish()
    done = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), *server, "--before", str(saved)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["winner"] == answers[path]["winner_organisation_id"]

    # The platform replaces the seed, its commitment and the outcome after the draw: the record
    # saved before exposes it.
    forged = _redraw(copy.deepcopy(answers[path]))
    forged["computation"]["seed"] = draws.new_secret()
    forged["computation"]["seed_sha256"] = forged["seed_sha256"] = selection.commitment(forged["computation"]["seed"])
    answers[path] = _redraw(forged)
    done = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), *server, "--before", str(saved)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "the seed was replaced" in done.stdout


async def test_a_reference_price_result_is_judged(session: AsyncSession, settings: Settings, tmp_path: Path) -> None:
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    intermediaries = [await qualified_intermediary(session, settings) for _ in range(5)]
    service = MarketService(session)
    form = await announcement_form(
        session, SelectionMethod.REFERENCE_PRICE, price_min=Decimal(80000), price_max=Decimal(110000)
    )
    announcement = await service.announce(form, actor=owner)
    prices = ["90000", "90000", "95500", "98000", "110000"]  # equal lowest bids: one is dropped by the draw
    for intermediary, price in zip(intermediaries, prices, strict=True):
        await service.register(announcement.id, price=Decimal(price), actor=intermediary)
    with use_clock(ShiftedClock(AFTER)):
        await service.close_registration(announcement, await clock.now(session), actor=Actor.system())
        before = _public(announcement)
        result = _public(await service.draw(announcement.id, actor=owner))
    done = _run(tmp_path, result, *_before(tmp_path, before))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["winner"] == result["winner_organisation_id"]

    forged = copy.deepcopy(result)
    forged["computation"]["reference_price"] = "1.00"
    done = _run(tmp_path, forged, *_before(tmp_path, before))
    assert done.returncode == 1
    assert f"the reference price is {result['computation']['reference_price']}, the result shows 1.00" in done.stdout


def test_the_scripts_restatement_agrees_with_the_platform_on_random_cases() -> None:
    """The script restates ``trading.kernel.draws`` and ``selection`` independently; on random bids
    (many ties at the extremes) both give the same winner, coefficient and reference price.
    """
    import importlib.util
    import random

    spec = importlib.util.spec_from_file_location("recompute_lottery", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    generator = random.Random(21)  # noqa: S311 - test data, not security
    for case in range(300):
        keys = [f"k{n}" for n in range(generator.randint(3, 9))]
        bids = {key: Decimal(generator.choice([90, 90, 95, 100, 120, 120])) * 1000 for key in keys}
        seed = f"seed-{case}"
        platform = selection.reference_price(seed, bids, FundingType.SOCIAL)
        problems: list[str] = []
        assert script.reference_price_winner(seed, bids, platform.computation, problems) == platform.winner
        assert problems == []
        assert script.pick(seed, "lottery", keys) == selection.lottery(seed, keys, FundingType.SOCIAL).winner
