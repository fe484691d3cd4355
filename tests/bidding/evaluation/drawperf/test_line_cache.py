"""The draw's cache of the pool's candidate lines (`pool.linecache`), keyed by the pool's version
token that triggers move (migration 0037): a draw over the cached lines is the draw over the lines
the database builds (`listed(use_cache=False)`) — the same lines, fits, digest, exclusion record
and committee — cold and warm, for every spec; after each kind of pool change the cached draw is
still the database's: a change to an expert's id or codes (insert, update of the codes, delete,
truncate) moves the version so the old entry is never used, a change the draw judges per draw
(status, conflicts, unavailability, past draws, other columns) leaves it and is read fresh; a
rolled-back change's entry is never used again. On SQLite the same triggers move the version.
"""

from __future__ import annotations

import random
import secrets
import sqlite3
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.draw.avoidance import AvoidedList
from bidding.evaluation.draw.candidates import Candidate, CandidateLines, CheckedLines, DrawContext
from bidding.evaluation.draw.committee import (
    DrawRefused,
    DrawSpec,
    candidate_columns,
    candidate_list_digest,
    draw_committee,
    published_result,
)
from bidding.evaluation.draw.rules import shipped_rules
from bidding.evaluation.pool import linecache
from bidding.evaluation.pool.models import (
    ConflictDeclaration,
    DrawOutcome,
    DrawRecord,
    Expert,
    ExpertSpecialty,
    ExpertStatus,
    RelationType,
    Unavailability,
)
from bidding.evaluation.pool.repository import CandidateRepository
from tests.bidding.evaluation.draw_factories import spec
from tests.bidding.evaluation.drawperf.test_pool_lines import DRAW_DAY, EVALUATION, SPECS, _draw, _random_pool
from tests.bidding.evaluation.pool.factories import opened_tender
from tests.trading.parties.factories import create_account, new_uscc
from trading.kernel import draws
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.parties.models import Organisation, Person
from trading.server.cli import alembic_config

CHINA = ZoneInfo("Asia/Shanghai")


def _same(cached: AvoidedList, built: AvoidedList, committee: DrawSpec) -> None:
    """The cached path's result is the database's, byte for byte (lines, fits, digest, record)."""
    assert isinstance(cached.candidates, CandidateLines)
    assert isinstance(built.candidates, CandidateLines)
    assert list(cached.candidates.lines) == list(built.candidates.lines)
    assert cached.candidates.joined() == built.candidates.joined()
    assert dict(cached.candidates.fits) == dict(built.candidates.fits)
    assert candidate_list_digest(cached.candidates) == candidate_list_digest(built.candidates)
    assert candidate_columns(cached.candidates, committee) == candidate_columns(built.candidates, committee)
    assert cached.excluded == built.excluded
    assert cached.exclusion_record() == built.exclusion_record()
    assert cached.rules_version == built.rules_version
    seed = draws.new_secret()
    drawn = _draw(seed, cached.candidates, committee)
    assert drawn == _draw(seed, built.candidates, committee)
    if not isinstance(drawn, str):
        assert published_result(
            server_seed=seed, draw=drawn, candidates=cached.candidates, spec=committee, excluded=cached.excluded
        ) == published_result(
            server_seed=seed, draw=drawn, candidates=built.candidates, spec=committee, excluded=built.excluded
        )


class _Setting:
    def __init__(self, repository: CandidateRepository, context: DrawContext) -> None:
        self.repository = repository
        self.context = context
        self.rules = shipped_rules()

    async def check(self, committee: DrawSpec = SPECS[0]) -> tuple[int, int]:
        """Cached and built lists compared; returns the cache's (hits, misses) during the cached call."""
        hits, misses = linecache.CACHE.hits, linecache.CACHE.misses
        cached = await self.repository.listed(self.context, self.rules, committee)
        used = (linecache.CACHE.hits - hits, linecache.CACHE.misses - misses)
        built = await self.repository.listed(self.context, self.rules, committee, use_cache=False)
        _same(cached, built, committee)
        return used

    async def version(self) -> tuple[int, str]:
        with self.repository.session.no_autoflush:  # the version before the pending change, when asked so
            found = await self.repository.pool_version()
        assert found is not None
        return found


async def _setting(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings, pool_seed: int
) -> tuple[_Setting, dict[str, object]]:
    tenderee = await create_account(session_maker, settings, Role.TENDEREE)
    elsewhere = await create_account(session_maker, settings, Role.TENDEREE)
    tenderee_org = await session.get(Organisation, tenderee.organisation_id)
    assert tenderee_org is not None
    tender = await opened_tender(session, tenderee_id=tenderee.organisation_id, created_by=tenderee.user_id)
    agency, bidders = new_uscc(), [new_uscc() for _ in range(3)]
    rng = random.Random(pool_seed)  # noqa: S311 - reproducible pools
    ids = {"tender": tender.id, "tenderee": tenderee.organisation_id, "elsewhere": elsewhere.organisation_id}
    await _random_pool(session, rng, 200, [tenderee_org.uscc, agency, *bidders], **ids)
    context = DrawContext(
        tender_id=str(tender.id),
        tenderee_uscc=tenderee_org.uscc,
        agency_uscc=agency,
        bidder_usccs=frozenset(bidders),
        evaluation_date=EVALUATION,
        evaluation_end=EVALUATION + timedelta(days=1),
        draw_date=DRAW_DAY,
        government_procurement=pool_seed == 1,
    )
    return _Setting(CandidateRepository(session), context), {**ids, "tenderee_uscc": tenderee_org.uscc}


@pytest.mark.parametrize("pool_seed", [1, 2])
async def test_the_cached_lines_draw_what_the_database_lines_draw(
    pool_seed: int, session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    setting, _ = await _setting(session, session_maker, settings, pool_seed)
    linecache.CACHE.clear()
    assert await setting.check(SPECS[0]) == (0, 1)  # cold: filled for this version
    # Checked once when cached, so handed to the draw as checked lines; the database's are not.
    cached = await setting.repository.listed(setting.context, setting.rules, SPECS[0])
    assert isinstance(cached.candidates, CheckedLines)
    built = await setting.repository.listed(setting.context, setting.rules, SPECS[0], use_cache=False)
    assert not isinstance(built.candidates, CheckedLines)
    for committee in SPECS:  # every spec from the same pool entry, warm
        assert await setting.check(committee) == (1, 0)
        assert await setting.check(committee) == (1, 0)
    # Experts judged as records (the drafters' way): subtracted from the cached lines, same result.
    committee = SPECS[1]
    built = await setting.repository.listed(setting.context, setting.rules, committee, use_cache=False)
    judged = list(candidate_columns(built.candidates, committee).ids)[::4]
    cached = await setting.repository.listed(setting.context, setting.rules, committee, judged_ids=judged)
    _same(
        cached,
        await setting.repository.listed(setting.context, setting.rules, committee, judged_ids=judged, use_cache=False),
        committee,
    )
    _same(cached, built, committee)


async def test_each_kind_of_pool_change_moves_the_version_or_is_read_fresh(  # noqa: PLR0915
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    setting, ids = await _setting(session, session_maker, settings, 3)
    repository = setting.repository
    await setting.check()
    assert await setting.check() == (1, 0)
    now = datetime(2026, 12, 2, tzinfo=CHINA)
    experts = list((await session.scalars(sa.select(Expert).order_by(Expert.id))).all())

    async def moved(change: str, before: tuple[int, str]) -> None:
        await session.flush()
        after = await setting.version()
        assert after[0] > before[0], change
        assert after[1] != before[1], change
        assert await setting.check() == (0, 1), change  # the old entry is not used
        assert await setting.check() == (1, 0), change

    async def kept(change: str, before: tuple[int, str]) -> None:
        await session.flush()
        assert await setting.version() == before, change
        assert await setting.check() == (1, 0), change  # read fresh by the judged query

    # A new expert fitting the spec, no filter's input: a new line.
    before = await setting.version()
    person = Person(id=uuid7(), id_hash=secrets.token_hex(32), id_masked="3208**********0011", name="专家")
    session.add(person)
    await session.flush()
    session.add(
        Expert(
            id=uuid7(),
            person_id=person.id,
            name="新专家",
            region_code="320100",
            home_library="本库",
            employer_uscc=new_uscc(),
            employer_name="单位",
            specialty_codes="A0101,B0201",
            created_at=now,
            updated_at=now,
        )
    )
    await moved("insert", before)
    # Codes changed the service's way (`set_specialties`), and by a bare UPDATE of the column.
    settled = next(e for e in experts if e.status is ExpertStatus.ACTIVE and e.specialty_codes)
    before = await setting.version()
    await repository.set_specialties(settled.id, ["A0501", "B0202"], now)
    await moved("set_specialties", before)
    before = await setting.version()
    await session.execute(sa.update(Expert).where(Expert.id == experts[5].id).values(specialty_codes="A01"))
    await moved("update of specialty_codes", before)
    # An expert deleted (with their rows).
    gone = experts[-1].id
    before = await setting.version()
    for table in (ExpertSpecialty, Unavailability, ConflictDeclaration, DrawRecord):
        await session.execute(sa.delete(table).where(table.expert_id == gone))
    await session.execute(sa.delete(Expert).where(Expert.id == gone))
    await moved("delete", before)
    # What the draw judges per draw: the version stays, the change is seen all the same.
    before = await setting.version()
    await session.execute(
        sa.update(Expert)
        .where(Expert.id == experts[10].id)
        .values(status=ExpertStatus.SUSPENDED, suspended_until=datetime.combine(EVALUATION, time(0), CHINA))
    )
    await kept("status", before)
    await session.execute(
        sa.update(Expert).where(Expert.id == experts[11].id).values(employer_uscc=ids["tenderee_uscc"])
    )
    await kept("employer a party", before)
    session.add(
        ConflictDeclaration(
            id=uuid7(),
            expert_id=experts[12].id,
            organisation_uscc=str(ids["tenderee_uscc"]),
            organisation_name="单位",
            relation=RelationType.EMPLOYMENT,
            period_from=date(2024, 1, 1),
            declared_at=now,
        )
    )
    await kept("conflict", before)
    session.add(
        Unavailability(id=uuid7(), expert_id=experts[13].id, first_day=EVALUATION, last_day=EVALUATION, declared_at=now)
    )
    await kept("unavailability", before)
    for days in (1, 2, 3, 4):
        session.add(
            DrawRecord(
                id=uuid7(),
                expert_id=experts[14].id,
                tender_id=ids["tender"],
                tenderee_organisation_id=ids["tenderee"],
                outcome=DrawOutcome.CONFIRMED,
                drawn_at=datetime.combine(DRAW_DAY - timedelta(days=days), time(12), CHINA),
            )
        )
    await kept("past draws", before)
    await session.execute(sa.update(Expert).where(Expert.id == experts[15].id).values(name="改名"))
    await kept("another column", before)
    # A change rolled back (a savepoint): its token is never seen again, the entry never used.
    before = await setting.version()
    async with session.begin_nested() as nested:
        await session.execute(sa.update(Expert).where(Expert.id == experts[16].id).values(specialty_codes="Q0101"))
        assert (await setting.version())[1] != before[1]
        assert await setting.check() == (0, 1)  # inside the change: filled for its own token
        await nested.rollback()
    assert await setting.version() == before
    assert await setting.check() == (1, 0)  # the entry of the version seen again, never the rolled-back one
    # Truncated (statement trigger): the pool empty, the version moved.
    before = await setting.version()
    await session.execute(sa.text("TRUNCATE evaluation_experts CASCADE"))
    await moved("truncate", before)
    # The version row gone: no cache, the database builds the lines.
    await session.execute(sa.text("DELETE FROM evaluation_pool_version"))
    assert await repository.pool_version() is None
    assert await setting.check() == (0, 0)


async def test_a_judged_expert_missing_from_the_cached_lines_is_refused(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """A write that bypassed the triggers (codes changed, version not moved) is not drawn over
    silently: a judged expert absent from the cached lines raises `StaleLines`."""
    setting, _ = await _setting(session, session_maker, settings, 4)
    await setting.check()
    suspended = (
        await session.scalars(
            sa.select(Expert.id).where(Expert.status == ExpertStatus.REMOVED, Expert.specialty_codes.like("A01%"))
        )
    ).first()
    assert suspended is not None
    token = await setting.version()
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    entry = linecache.CACHE.get(database, token[1])
    assert entry is not None
    linecache.CACHE.put(database, token[1], [line for line in entry.lines if not line.startswith(str(suspended))])
    with pytest.raises(linecache.StaleLines):
        await setting.repository.listed(setting.context, setting.rules, SPECS[0])
    linecache.CACHE.clear()


async def test_a_pool_with_a_line_the_draw_refuses_is_cached_unchecked(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """The cache checks a pool version's lines once; when one fails (codes holding whitespace,
    written past the pool's own checks), the version is cached unchecked and every draw over it
    checks its list as the database path does: refused where that line is on the list, drawn
    the same where it is not."""
    setting, _ = await _setting(session, session_maker, settings, 6)
    committee = SPECS[0]  # technical A01, economic B02
    built = await setting.repository.listed(setting.context, setting.rules, committee, use_cache=False)
    settled = set(candidate_columns(built.candidates, committee).ids) - {e.expert_id for e in built.excluded}
    bad = sorted(settled)[len(settled) // 2]  # no filter input: a line of the cache, not a record
    await session.execute(
        sa.text("UPDATE evaluation_experts SET specialty_codes = :codes WHERE id = CAST(:id AS uuid)"),
        {"codes": "A01\tB02", "id": bad},
    )
    linecache.CACHE.clear()
    cached = await setting.repository.listed(setting.context, setting.rules, committee)
    assert type(cached.candidates) is CandidateLines  # unchecked: the draw checks it
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    entry = linecache.CACHE.get(database, (await setting.version())[1])
    assert entry is not None
    assert not entry.checked
    built = await setting.repository.listed(setting.context, setting.rules, committee, use_cache=False)
    assert isinstance(built.candidates, CandidateLines)
    assert list(cached.candidates.lines) == list(built.candidates.lines)
    assert cached.excluded == built.excluded
    seed = draws.new_secret()
    for listing in (cached.candidates, built.candidates):  # the same refusal both ways
        with pytest.raises(DrawRefused) as refused:
            draw_committee(seed, draws.commitment(seed), listing, committee)
        assert refused.value.rule == "candidate_format"
    assert await setting.check(spec(("c", ("C03",), 1, 0))) == (1, 0)  # the line fits no group: drawn the same


def test_the_cache_hands_out_checked_lines_only_for_lines_the_draw_accepts() -> None:
    """`PoolLines` checks a version's lines as the draw does (`committee.check_lines`): lines the
    draw accepts are handed out as `CheckedLines` (and drawn as the same lines unchecked are), any
    line it refuses leaves the version unchecked and the draw refuses it as before; a judged
    expert merged back out of order (a repeated id) is left to the draw's checks, which refuse it.
    """
    committee = SPECS[2]  # every candidate, 7 + 2
    good = [f"e{n:03d} A0101,B02" for n in range(40)]
    key: linecache.SpecKey = (None, ())
    seed = draws.new_secret()
    commitment = draws.commitment(seed)
    entry = linecache.PoolLines(list(good))
    assert entry.checked
    judged = ["e003", "e010", "e011"]
    kept = [Candidate("e010", ("A0101",), "320100", None)]
    listing = entry.for_spec(key).listing(judged, kept)
    assert isinstance(listing, CheckedLines)
    expected_lines = [line for line in good if line[:4] not in judged]
    expected_lines.insert(9, "e010 A0101")
    assert list(listing.lines) == expected_lines
    assert list(listing.ids or ()) == [line[:4] for line in expected_lines]
    assert draw_committee(seed, commitment, listing, committee) == draw_committee(
        seed, commitment, CandidateLines(expected_lines), committee
    )
    for bad in ("e005 x y", "e005\tx A0101", "e005\u3000x A0101", "e005A0101", "e005 A01\x0001"):
        lines = list(good)
        lines[5] = bad
        unchecked = linecache.PoolLines(lines)
        assert not unchecked.checked
        handed = unchecked.for_spec(key).listing([], [])
        assert type(handed) is CandidateLines
        with pytest.raises(DrawRefused) as refused:
            draw_committee(seed, commitment, handed, committee)
        assert refused.value.rule == "candidate_format"
    for disorder in ([*good[:3], good[2], *good[3:]], list(reversed(good))):
        assert not linecache.PoolLines(disorder).checked
    # A kept expert whose id is still among the lines (not judged): not checked, refused.
    twice = entry.for_spec(key).listing([], [Candidate("e007", ("B02",), "320100", None)])
    assert type(twice) is CandidateLines
    with pytest.raises(DrawRefused) as refused:
        draw_committee(seed, commitment, twice, committee)
    assert refused.value.rule == "canonical_order"


@pytest.mark.sqlite
def test_sqlite_triggers_move_the_version(tmp_path: Path) -> None:
    path = tmp_path / "pool.sqlite3"
    command.upgrade(alembic_config(f"sqlite+aiosqlite:///{path}"), "head")
    db = sqlite3.connect(path)

    def version() -> tuple[int, str]:
        return db.execute("SELECT version, token FROM evaluation_pool_version WHERE id = 1").fetchone()

    start = version()
    expert = uuid.uuid4().hex
    db.execute(
        "INSERT INTO evaluation_experts (id, person_id, name, title, region_code, home_library, shared, fee_standard,"
        " employer_uscc, employer_name, status, status_reason, senior, created_at, updated_at, specialty_codes)"
        " VALUES (?, ?, '专家', '', '320100', '本库', 0, '', 'x', '单位', 'active', '', 0, '2026-12-01', '2026-12-01',"
        " 'A01')",
        (expert, uuid.uuid4().hex),
    )
    inserted = version()
    db.execute("UPDATE evaluation_experts SET specialty_codes = 'B02' WHERE id = ?", (expert,))
    updated = version()
    db.execute("UPDATE evaluation_experts SET name = '改名' WHERE id = ?", (expert,))
    assert version() == updated  # not a column of the lines
    db.execute("DELETE FROM evaluation_experts WHERE id = ?", (expert,))
    deleted = version()
    db.commit()
    db.close()
    numbers = [start[0], inserted[0], updated[0], deleted[0]]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 4
    assert len({start[1], inserted[1], updated[1], deleted[1]}) == 4
