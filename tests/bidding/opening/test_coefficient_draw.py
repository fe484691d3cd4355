"""The public draw of random coefficients (浮动系数, 抽取系数) in the opening hall.

Pure: the derivation is always on the tender's grid and recomputes from the seed (the platform's
and the client's restatement agree); a changed seed fails the commitment. PostgreSQL: the seeds are
committed when the opening starts, the stage comes after 唱标 only for tenders with coefficients,
only the host draws (a bidder's attempt is refused and recorded), the drawn values are in the hall,
the API, the record and `drawn_values`, and the host cannot move on before the draw.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding import coefficients
from bidding.client import coefficients as client_coefficients
from bidding.client.cli import bid
from bidding.client.sync_client import SyncBidClient
from bidding.errors import TenderRuleViolated
from bidding.models import Tender
from bidding.opening import coefficients as hall_coefficients
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.record import render_record
from bidding.opening.stages import next_stage, stages_of
from bidding.opening_stage import STAGE_ORDER, Stage
from bidding.schemas import CoefficientCreate
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client
from tests.bidding.factories import bidder_party, published_tender, tenderee_party
from tests.bidding.opening.hall_support import PRICES, ledger_actions, read_record_data, seal_bid
from tests.bidding.test_agency import draft_form
from tests.bidding.test_web import log_in
from tests.trading.kernel.test_pdf import poppler, warm_renderer
from tests.trading.parties.factories import csrf_token
from trading.kernel import clock, draws
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep

K = coefficients.CoefficientSpec("K", Decimal("0.95"), Decimal("1.00"), Decimal("0.01"))
FLOAT = coefficients.CoefficientSpec("float", Decimal("-0.05"), Decimal("0.05"), Decimal("0.005"))


# --- pure -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [K, FLOAT])
def test_the_value_is_always_on_the_grid_and_recomputes_from_the_seed(spec: coefficients.CoefficientSpec) -> None:
    """Whatever the seed, the drawn value lies in [low, high] on the step grid; the client's
    standard-library restatement gives the same value; every grid value is reachable.
    """
    seen = set()
    for _ in range(400):
        seed = draws.new_secret()
        value = coefficients.derive(seed, "E3201-0001", spec)
        assert spec.low <= value <= spec.high
        assert spec.contains(value)
        assert coefficients.verify(seed, draws.commitment(seed), "E3201-0001", spec, value)
        assert value == client_coefficients.recompute(
            seed, coefficients.purpose("E3201-0001", spec.name), spec.low, spec.high, spec.step
        )
        seen.add(value)
    assert seen == set(spec.values())


def test_a_changed_seed_fails_the_check() -> None:
    """A seed other than the committed one is caught, even when it happens to draw the same value."""
    seed = draws.new_secret()
    committed = draws.commitment(seed)
    value = coefficients.derive(seed, "E3201-0001", K)
    other = ("0" if seed[0] != "0" else "1") + seed[1:]
    assert not coefficients.verify(other, committed, "E3201-0001", K, value)
    assert not coefficients.verify(seed, committed, "E3201-0001", K, value + K.step if value < K.high else K.low)
    published = {
        "name": "K",
        "low": "0.95",
        "high": "1.00",
        "step": "0.01",
        "purpose": coefficients.purpose("E3201-0001", "K"),
        "seedCommitment": committed,
        "seed": other,
        "value": str(value),
    }
    assert client_coefficients.check(published)["commitmentMatches"] is False
    assert client_coefficients.check({**published, "seed": seed})["commitmentMatches"] is True
    assert client_coefficients.check({**published, "seed": seed})["valueMatches"] is True


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ([{"name": "K", "low": "1.00", "high": "0.95", "step": "0.01"}], "coefficient_range"),
        ([{"name": "K", "low": "0.95", "high": "1.00", "step": "0.03"}], "coefficient_step"),
        ([{"name": "K", "low": "0.95", "high": "1.00", "step": "0"}], "coefficient_step"),
        ([{"name": "K", "low": "abc", "high": "1.00", "step": "0.01"}], "coefficient_decimal"),
        ([{"name": "", "low": "0.95", "high": "1.00", "step": "0.01"}], "coefficient_name"),
        ([{"name": "K", "low": "0", "high": "1", "step": "0.00001"}], "coefficient_values"),
        ([{"name": "K", "low": "0.95", "high": "1.00", "step": "0.01"}] * 2, "coefficient_unique"),
        ({"K": 1}, "coefficients_list"),
    ],
)
def test_bad_coefficient_ranges_are_named(raw: object, rule: str) -> None:
    assert [p.rule for p in coefficients.problems({"coefficients": raw})] == [rule]


def test_a_tender_without_coefficients_keeps_the_old_stage_order() -> None:
    plain = Tender(evaluation_criteria={"criteria": [{"name": "price", "weight": 100}]})
    with_k = Tender(evaluation_criteria={"coefficients": [K.as_json()]})
    assert stages_of(plain) == STAGE_ORDER
    assert next_stage(plain, Stage.PRICE_READING) is Stage.CONFIRMATION
    assert next_stage(with_k, Stage.PRICE_READING) is Stage.COEFFICIENT_DRAW
    assert next_stage(with_k, Stage.COEFFICIENT_DRAW) is Stage.CONFIRMATION
    assert next_stage(with_k, Stage.CLOSED) is None


# --- PostgreSQL -------------------------------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("dev_lists")


async def test_publication_refuses_a_bad_coefficient_range_naming_the_rule(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    with pytest.raises(TenderRuleViolated) as refused:
        await published_tender(
            session_maker,
            settings,
            store,
            tenderee,
            lots=1,
            coefficients=[CoefficientCreate("K", "0.95", "1.00", "0.03")],
        )
    assert refused.value.rule == "coefficient_step"
    assert refused.value.field == "evaluationCriteria"


async def test_the_coefficient_is_committed_at_the_start_and_drawn_in_public_by_the_host(  # noqa: PLR0915 - one story
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(
        session_maker,
        settings,
        store,
        tenderee,
        lots=1,
        coefficients=[CoefficientCreate("K", "0.95", "1.00", "0.01")],
    )
    assert tender.deadline is not None
    code = tender.project_code
    bidders = {name: await bidder_party(session_maker, settings, dev_pki) for name in "ABC"}
    clients = {name: await bid_client(client, p) for name, p in bidders.items()}
    for name, bidder in bidders.items():
        built = await seal_bid(
            tmp_path / name, bidder, code=code, deadline=tender.deadline, price=PRICES[name], holders=[]
        )
        await clients[name].upload(code, "L1", built.path)
    host = await tenderee.headers(client)
    async with session_maker() as session:
        offset = tender.deadline - await clock.now(session) + timedelta(seconds=1)
    with clock.use_clock(clock.ShiftedClock(offset)):
        await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
        # Committed at the start, before any price: the commitment is public, the seed is not.
        hall = (await client.get(f"/api/v1/bidding/opening/{code}")).json()
        [published] = hall["coefficients"]
        assert published["seed"] is None
        assert published["value"] is None
        assert draws.is_sha256_hex(published["seedCommitment"])
        async with session_maker() as session:
            actions = await ledger_actions(session, code, "bidding.opening_coefficients")
        assert actions == [
            ("bidding.opening_coefficients_committed", {"commitments": {"K": published["seedCommitment"]}})
        ]
    # Nobody signs in or decrypts: the sweep ends sign-in, then the window (every bid revoked), 唱标 starts.
    for minutes in (20, 20 + (tender.decryption_window_minutes or 0) + 5):
        with clock.use_clock(clock.ShiftedClock(offset + timedelta(minutes=minutes))):
            await run_sweep(session_maker, [OpeningClock()])
    with clock.use_clock(clock.ShiftedClock(offset + timedelta(minutes=90))):
        hall = (await client.get(f"/api/v1/bidding/opening/{code}", headers=host)).json()
        assert hall["stage"] == "price-reading"
        assert hall["nextStage"] == "coefficient-draw"
        skipped = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "confirmation"}, headers=host
        )
        assert skipped.status_code == 409, skipped.text
        assert skipped.json()["errors"][0]["rule"] == "next-stage"
        early = await client.post(f"/api/v1/bidding/opening/{code}/coefficients/draw", headers=host)
        assert early.status_code == 409, early.text
        assert early.json()["errors"][0]["rule"] == "coefficient-stage"
        moved = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "coefficient-draw"}, headers=host
        )
        assert moved.status_code == 200, moved.text
        not_yet = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "confirmation"}, headers=host
        )
        assert not_yet.status_code == 409, not_yet.text
        assert not_yet.json()["errors"][0]["rule"] == "coefficients-drawn"
        # A bidder may not draw: refused and recorded.
        bidder_headers = await bidders["A"].headers(client)
        refused = await client.post(f"/api/v1/bidding/opening/{code}/coefficients/draw", headers=bidder_headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["errors"][0]["rule"] == "host-only"
        async with session_maker() as session:
            assert ("bidding.opening_host_refused") in [a for a, _ in await ledger_actions(session, code, "bidding")]
            assert await hall_coefficients.drawn_values(session, tender.id) == {}
        drawn = await client.post(f"/api/v1/bidding/opening/{code}/coefficients/draw", headers=host)
        assert drawn.status_code == 200, drawn.text
        [row] = drawn.json()
        value = Decimal(row["value"])
        assert row["seedCommitment"] == published["seedCommitment"]
        assert hashlib.sha256(row["seed"].encode()).hexdigest() == published["seedCommitment"]
        assert coefficients.verify(row["seed"], published["seedCommitment"], code, K, value)
        assert Decimal("0.95") <= value <= Decimal("1.00")
        again = await client.post(f"/api/v1/bidding/opening/{code}/coefficients/draw", headers=host)
        assert again.status_code == 409, again.text
        assert again.json()["errors"][0]["rule"] == "drawn-once"
        # Public: the visitor's hall shows the seed and the value.
        visitor = (await client.get(f"/api/v1/bidding/opening/{code}")).json()
        assert visitor["coefficients"][0]["seed"] == row["seed"]
        assert visitor["coefficients"][0]["value"] == row["value"]
        page = await client.get(f"/bidding/opening/{code}")
        assert 'data-coefficient="K"' in page.text
        assert row["seed"] in page.text
        confirmed = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "confirmation"}, headers=host
        )
        assert confirmed.status_code == 200, confirmed.text
    async with session_maker() as session:
        assert await hall_coefficients.drawn_values(session, tender.id) == {"K": value}
        drawn_entries = await ledger_actions(session, code, "bidding.opening_coefficient_drawn")
    assert drawn_entries == [
        (
            "bidding.opening_coefficient_drawn",
            {"name": "K", "value": row["value"], "seedCommitment": published["seedCommitment"]},
        )
    ]
    record = await read_record_data(session_maker, code)
    assert record["coefficients"][0]["value"] == row["value"]
    assert any("抽取系数" in event["text"] for event in record["events"])
    # The record (开标记录) prints the range, the commitment, the revealed seed and the value.
    warm_renderer()
    pdf = await asyncio.to_thread(render_record, record, generated_at=datetime.now(UTC))
    # -raw: content-stream order, so two digests wrapped side by side in one row do not interleave.
    text = "".join(poppler("pdftotext", pdf, tmp_path, "-raw").split())
    for fragment in ("浮动系数", "0.95～1.00", row["value"], row["seed"], published["seedCommitment"]):
        assert fragment in text, fragment


async def test_the_draft_form_takes_coefficients_and_names_a_malformed_line(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_pki: DevPki,
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    await log_in(client, tenderee)
    token = csrf_token((await client.get("/bidding/manage/new")).text)
    form = {**draft_form(token, "K-0001", tenderee.organisation_id), "coefficients": "K | 0.95 | 1.00"}
    refused = await client.post("/bidding/manage/new", data=form)
    assert refused.status_code == 422
    assert 'id="error-coefficients"' in refused.text
    created = await client.post("/bidding/manage/new", data={**form, "coefficients": "K | 0.95 | 1.00 | 0.01"})
    assert created.status_code == 303, created.text
    async with session_maker() as session:
        tender = await session.scalar(sa.select(Tender).where(Tender.project_code == "K-0001"))
    assert tender is not None
    assert tender.evaluation_criteria["coefficients"] == [K.as_json()]


def test_ggzy_bid_coefficients_recomputes_and_fails_on_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command recomputes each drawn value from the published seed; a value the seed does not
    draw (or a seed that does not match its commitment) makes it exit 1. The hall's answer is canned.
    """
    seed = draws.new_secret()
    value = coefficients.derive(seed, "E3201-0001", K)
    drawn = {
        **{k: str(v) for k, v in K.as_json().items()},
        "purpose": coefficients.purpose("E3201-0001", "K"),
        "seedCommitment": draws.commitment(seed),
        "seed": seed,
        "value": str(value),
    }
    views = {"good": {"stage": "confirmation", "coefficients": [drawn]}}
    wrong = K.low if value != K.low else K.high
    views["bad"] = {"stage": "confirmation", "coefficients": [{**drawn, "value": str(wrong)}]}
    for name, expected in (("good", 0), ("bad", 1)):
        monkeypatch.setattr(SyncBidClient, "run", lambda _self, _call, view=views[name]: view)
        result = CliRunner().invoke(
            bid, ["coefficients", "--server", "http://platform", "--token", "t", "--tender", "E3201-0001"]
        )
        assert result.exit_code == expected, result.output
        assert '"recomputed": "' + str(value) + '"' in result.stdout
