"""`CandidateRepository.listed` on PostgreSQL (the candidate list's lines and the groups' fits
built by the database, only the experts with a filter's input judged as records) draws exactly
what the pure path draws over every expert's record (`avoided_by_records` + `draw_committee`):
the same candidate list and digest, the same exclusion record, the same committee and reserves
(or the same refusal), over random pools with every kind of avoidance input, several seeds, a GP
and an engineering spec and the edges (a group with no or one eligible expert, more reserves
than the list holds, a group taking every candidate); and experts named in ``judged_ids`` are
judged as records without changing the result.
"""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.draw.avoidance import Avoidance
from bidding.evaluation.draw.candidates import CandidateLines, DraftingRole, DrawContext
from bidding.evaluation.draw.committee import (
    CommitteeDraw,
    DrawRefused,
    DrawSpec,
    candidate_columns,
    candidate_list_digest,
    draw_committee,
    published_result,
)
from bidding.evaluation.draw.rules import shipped_rules
from bidding.evaluation.pool import repository as pool_sql
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
from tests.bidding.evaluation.pool.factories import opened_tender
from tests.trading.parties.factories import create_account, new_uscc
from trading.kernel import draws
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.parties.models import Organisation, Person

CHINA = ZoneInfo("Asia/Shanghai")
EVALUATION = date(2026, 12, 16)
DRAW_DAY = date(2026, 12, 14)
CODES = ("A01", "A0101", "A0102", "A0501", "B02", "B0201", "B0202", "C03", "C0301", "D", "ZA01", "DB0201")
SPECS = (
    spec(("technical", ("A01",), 5, 2), ("economic", ("B02",), 2, 1)),  # GP 综合评分: 7 members
    spec(("a", ("A",), 3, 3), ("b", ("A01", "B0201"), 2, 0), ("c", ("C03", "D"), 1, 1)),  # engineering
    spec(("experts", (), 7, 2)),  # not split by specialty: every candidate
    spec(("x", ("A0101",), 1, 0), ("y", (), 4, 1)),
    spec(("lonely", ("Q0101",), 1, 5), ("rest", ("B",), 2, 99)),  # one eligible; reserves > list
    spec(("nobody", ("Q09",), 1, 0), ("a", ("A",), 2, 1)),  # no one eligible: a shortfall
)


def _draw(seed: str, listing: object, committee: DrawSpec) -> CommitteeDraw | str:
    try:
        return draw_committee(seed, draws.commitment(seed), listing, committee)  # type: ignore[arg-type]
    except DrawRefused as refused:
        return refused.rule


async def _random_pool(session: AsyncSession, rng: random.Random, size: int, parties: list[str], **ids: object) -> None:
    """``size`` experts with every kind of avoidance input, written as rows; one holds the only
    ``Q0101`` code (a group with one eligible expert).
    """
    now = datetime(2026, 12, 1, tzinfo=CHINA)
    elsewhere = [new_uscc() for _ in range(4)]
    people: list[object] = []
    experts: list[object] = []
    rows: list[object] = []  # what refers to the experts: written after them
    for number in range(size):
        person = Person(id=uuid7(), id_hash=secrets.token_hex(32), id_masked="3208**********0011", name="专家")
        status = rng.choice([ExpertStatus.ACTIVE] * 12 + [ExpertStatus.SUSPENDED, ExpertStatus.REMOVED])
        until = None
        if status is ExpertStatus.SUSPENDED and rng.random() < 0.8:
            until = datetime.combine(EVALUATION + timedelta(days=rng.randint(-3, 3)), time(0), CHINA)
        codes = sorted(set(rng.sample(CODES, rng.randint(0, 3)) + (["Q0101"] if number == 7 else [])))
        expert = Expert(
            id=uuid7(),
            person_id=person.id,
            name="专家",
            region_code="320100",
            home_library="本库",
            employer_uscc=rng.choice([*elsewhere, *parties]) if rng.random() < 0.3 else elsewhere[0],
            employer_name="单位",
            status=status,
            suspended_until=until,
            specialty_codes=",".join(codes),
            created_at=now,
            updated_at=now,
        )
        people.append(person)
        experts.append(expert)
        rows += [ExpertSpecialty(expert_id=expert.id, code=code, added_at=now) for code in codes]
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 2)):
                first = EVALUATION + timedelta(days=rng.randint(-3, 2))
                withdrawn = now if rng.random() < 0.2 else None
                rows.append(
                    Unavailability(
                        id=uuid7(),
                        expert_id=expert.id,
                        first_day=first,
                        last_day=first + timedelta(days=rng.randint(0, 2)),
                        declared_at=now,
                        withdrawn_at=withdrawn,
                    )
                )
        if rng.random() < 0.15:
            for _ in range(rng.randint(1, 2)):
                rows.append(
                    ConflictDeclaration(
                        id=uuid7(),
                        expert_id=expert.id,
                        organisation_uscc=rng.choice([*parties, *elsewhere[:2]]),
                        organisation_name="单位",
                        relation=RelationType.EMPLOYMENT,
                        period_from=date(2018, 1, 1) if rng.random() < 0.5 else date(2010, 1, 1),
                        period_until=date(2020 + rng.randint(0, 6), 6, 30) if rng.random() < 0.5 else None,
                        declared_at=now,
                    )
                )
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 5)):
                rows.append(
                    DrawRecord(
                        id=uuid7(),
                        expert_id=expert.id,
                        tender_id=ids["tender"],
                        tenderee_organisation_id=rng.choice([ids["tenderee"], ids["elsewhere"]]),
                        outcome=DrawOutcome.CONFIRMED,
                        drawn_at=datetime.combine(DRAW_DAY - timedelta(days=rng.randint(0, 500)), time(12), CHINA),
                    )
                )
    for batch in (people, experts, rows):
        session.add_all(batch)
        await session.flush()


@pytest.mark.parametrize("pool_seed", [1, 2])
async def test_the_lines_path_draws_what_the_records_path_draws(  # noqa: PLR0915
    pool_seed: int,
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenderee = await create_account(session_maker, settings, Role.TENDEREE)
    elsewhere = await create_account(session_maker, settings, Role.TENDEREE)
    tenderee_org = await session.get(Organisation, tenderee.organisation_id)
    assert tenderee_org is not None
    tender = await opened_tender(session, tenderee_id=tenderee.organisation_id, created_by=tenderee.user_id)
    agency, bidders = new_uscc(), [new_uscc() for _ in range(3)]
    rng = random.Random(pool_seed)  # noqa: S311 - reproducible pools
    await _random_pool(
        session,
        rng,
        300,
        [tenderee_org.uscc, agency, *bidders],
        tender=tender.id,
        tenderee=tenderee.organisation_id,
        elsewhere=elsewhere.organisation_id,
    )
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
    rules = shipped_rules()
    repository = CandidateRepository(session)
    assert session.get_bind().dialect.name == "postgresql"  # the lines path runs
    # What the judged query settles without a record (one plain input: standing or unavailable
    # days) and what it leaves to records, over every call below: each kind must occur.
    split = pool_sql._plain_exclusions
    plain_codes: set[str] = set()
    plain_kept: list[str] = []

    def observed(rows: Any, bounds: Any) -> Any:
        plain, rest = split(rows, bounds)
        plain_codes.update(reason.code.value for excluded in plain for reason in excluded.reasons)
        plain_kept.extend(row[0] for row in rest if row[0] in {r[1] for r in rows if r[7] is not None})
        return plain, rest

    monkeypatch.setattr(pool_sql, "_plain_exclusions", observed)
    records = await repository.avoided_by_records(context, rules)
    assert records.excluded  # every filter has something to find
    seen: set[str | int] = set()
    for committee in SPECS:
        lines = await repository.listed(context, rules, committee)
        assert isinstance(lines.candidates, CandidateLines)
        listed = candidate_columns(records.candidates, committee)
        assert candidate_columns(lines.candidates, committee) == listed
        assert candidate_list_digest(lines.candidates) == candidate_list_digest(listed)
        fitting = set(listed.ids) | {e.expert_id for e in lines.excluded}
        assert lines.excluded == tuple(e for e in records.excluded if e.expert_id in fitting)
        assert lines.rules_version == records.rules_version
        # Every settled expert judged as a record (as drafters will be): the same result.
        judged = await repository.listed(context, rules, committee, judged_ids=list(listed.ids)[::3])
        assert candidate_columns(judged.candidates, committee) == listed
        assert judged.excluded == lines.excluded
        for draw_number in range(3):
            seed = draws.new_secret()
            expected = _draw(seed, records.candidates, committee)
            assert _draw(seed, lines.candidates, committee) == expected
            assert _draw(seed, judged.candidates, committee) == expected
            seen.add(expected if isinstance(expected, str) else len(expected.groups))
            if isinstance(expected, CommitteeDraw) and draw_number == 0:
                assert published_result(
                    server_seed=seed,
                    draw=expected,
                    candidates=lines.candidates,
                    spec=committee,
                    excluded=lines.excluded,
                ) == published_result(
                    server_seed=seed,
                    draw=expected,
                    candidates=records.candidates,
                    spec=committee,
                    excluded=lines.excluded,
                )
                if committee is SPECS[4]:
                    assert expected.group("lonely").eligible == 1
                    assert len(expected.group("rest").reserves) < 99  # as many as the list holds
    assert "shortfall" in seen
    # Declared drafters (the evaluation's, not the pool's): judged and named as on the records path.
    committee = SPECS[0]
    listed = candidate_columns(records.candidates, committee)
    drafters = {expert: (DraftingRole(str(tender.id), "documents"),) for expert in list(listed.ids)[:3]}
    drafters[records.excluded[0].expert_id] = (DraftingRole("another-tender", "documents"),)
    by_records = await repository.avoided_by_records(context, rules, drafting=drafters)
    by_lines = await repository.listed(context, rules, committee, drafting=drafters)
    assert candidate_columns(by_lines.candidates, committee) == candidate_columns(by_records.candidates, committee)
    fitting = set(candidate_columns(by_records.candidates, committee).ids) | {e.expert_id for e in by_lines.excluded}
    assert by_lines.excluded == tuple(e for e in by_records.excluded if e.expert_id in fitting)
    named = {e.expert_id for e in by_lines.excluded if any(r.code is Avoidance.DRAFTING_ROLE for r in e.reasons)}
    assert named == set(list(listed.ids)[:3])
    seed = draws.new_secret()
    assert _draw(seed, by_lines.candidates, committee) == _draw(seed, by_records.candidates, committee)
    assert {1, 2, 3} <= seen
    assert plain_codes == {"suspended", "removed", "unavailable"}
    assert plain_kept  # a suspension over before the evaluation: judged as a record, kept


async def test_uuid_order_is_the_text_order(session: AsyncSession) -> None:
    """The lines come in ``ORDER BY id`` (uuid): PostgreSQL compares uuids as bytes, which is the
    order of their lowercase hex text, the canonical order the draw requires.
    """
    rng = random.Random(5)  # noqa: S311 - reproducible ids
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(2000)]
    ids += ["00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff", "7fffffffffffffff8000000000000000"]
    found = await session.scalars(
        sa.text("SELECT u::text FROM unnest(CAST(:ids AS uuid[])) AS t(u) ORDER BY u").bindparams(ids=ids)
    )
    ordered = list(found)
    assert ordered == sorted(ordered)
    assert sorted(ordered) == sorted(str(uuid.UUID(value)) for value in ids)
