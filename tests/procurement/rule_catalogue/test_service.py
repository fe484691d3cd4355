"""The catalogue's service on PostgreSQL: the shipped edition stored once (also when two first uses
race), an edit is a new version and the old one stays readable, a bad draft is refused whole with
each field and rule named and nothing written, retirement, and the ledger entries.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from procurement.negative_list.catalogue import default_rules
from procurement.rule_catalogue import service
from procurement.rule_catalogue.models import RuleHead, RuleVersion
from procurement.rule_catalogue.service import active_rules, new_version, rule_version
from tests.procurement.rule_catalogue.support import FOUND_BY_NOTHING, NEW_SUGGESTION, RULE, draft
from tests.trading.parties.factories import create_account
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.errors import NotFound, ValidationFailed
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry

SHIPPED = {rule.id for rule in default_rules()}


async def _count(session: AsyncSession, model: type[RuleVersion | RuleHead]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _entries(session: AsyncSession, action: str) -> list[LedgerEntry]:
    rows = await session.scalars(select(LedgerEntry).where(LedgerEntry.action == action).order_by(LedgerEntry.seq))
    return list(rows)


def _editor(account_user_id: object = None) -> Actor:
    return Actor(kind=ActorKind.USER, user_id=account_user_id, username="procurement-office", display_name="采购办")  # type: ignore[arg-type]


async def test_the_shipped_rules_are_stored_once_as_version_one(session: AsyncSession) -> None:
    first = await active_rules(session)
    assert {rule.id for rule in first} == SHIPPED
    assert {rule.version for rule in first} == {1}
    assert await service.ensure_seeded(session) == 0  # nothing left to store
    assert await active_rules(session) == first
    assert await _count(session, RuleVersion) == len(SHIPPED)
    seeded = await _entries(session, "procurement.rules_seeded")
    assert [entry.summary for entry in seeded] == [{"rows": len(SHIPPED)}]


async def test_two_first_uses_at_once_store_the_shipped_rules_once(fresh_db: str) -> None:
    engine = create_engine(fresh_db, pool_size=3)
    try:
        maker = create_session_maker(engine)
        async with maker() as first, maker() as second:
            assert await service.ensure_seeded(first) == len(SHIPPED)
            # The second insert waits on the first's uncommitted rows, then meets the unique key.
            racing = asyncio.create_task(active_rules(second))
            await asyncio.sleep(0.5)
            assert not racing.done()
            await first.commit()
            rules = await asyncio.wait_for(racing, timeout=10)
            await second.commit()
            assert {rule.id for rule in rules} == SHIPPED
        async with maker() as check:
            assert await _count(check, RuleVersion) == len(SHIPPED)
            assert len(await _entries(check, "procurement.rules_seeded")) == 1
    finally:
        await engine.dispose()


async def test_an_edit_is_version_two_and_version_one_stays_readable(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.SUPERVISOR)
    async with session_maker() as session:
        row = await new_version(session, draft(), actor=_editor(account.user_id))
        assert (row.version, row.author_id, row.reason) == (2, account.user_id, "修改建议表述更具体")
        in_force = {rule.id: rule for rule in await active_rules(session)}
        assert (in_force[RULE.id].version, in_force[RULE.id].suggestion) == (2, NEW_SUGGESTION)
        old = await rule_version(session, RULE.id, 1)
        assert (old.version, old.suggestion) == (1, RULE.suggestion)
        assert old == RULE  # version 1 is the shipped rule, unchanged
        changes = service.diff(await service.version_row(session, RULE.id, 1), row)
        assert [change.field for change in changes] == ["suggestion"]
        (entry,) = await _entries(session, "procurement.rule_version_created")
        assert (entry.subject_type, entry.subject_id) == ("procurement.rule", RULE.id)
        assert entry.summary == {"code": RULE.id, "version": 2, "name": RULE.name}
        assert (entry.actor_user_id, entry.actor_label) == (account.user_id, "procurement-office")
        with pytest.raises(NotFound):
            await rule_version(session, RULE.id, 3)


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"patterns": (*RULE.patterns, "(未闭合")}, "patterns", "regex_invalid"),
        ({"negations": ("[",)}, "negations", "regex_invalid"),
        ({"patterns": (*RULE.patterns, "a*")}, "patterns", "regex_matches_empty"),
        ({"positive_examples": (*RULE.positive_examples, FOUND_BY_NOTHING)}, "positive_examples", "example_missed"),
        (
            {"negative_examples": (*RULE.negative_examples, RULE.positive_examples[0])},
            "negative_examples",
            "example_hit",
        ),
        ({"basis": "  "}, "basis", "required"),
        ({"suggestion": ""}, "suggestion", "required"),
        ({"reason": ""}, "reason", "required"),
        ({"patterns": ()}, "patterns", "pattern_required"),
        ({"negative_examples": ()}, "negative_examples", "example_required"),
        ({"base_version": 0}, "rule_id", "rule_id_taken"),
        ({"base_version": 7}, "base_version", "rule_changed_meanwhile"),
        ({"suggestion": RULE.suggestion}, "form", "rule_unchanged"),
    ],
)
async def test_a_bad_draft_is_refused_naming_the_field_and_nothing_is_written(
    session: AsyncSession, changes: dict[str, object], field: str, rule: str
) -> None:
    await active_rules(session)
    before = await _count(session, RuleVersion)
    with pytest.raises(ValidationFailed) as refused:
        await new_version(session, draft(**changes), actor=_editor())
    named = {(item["field"], item["rule"]) for item in refused.value.extra["errors"]}
    assert (field, rule) in named
    assert await _count(session, RuleVersion) == before
    head = await session.get(RuleHead, RULE.id)
    assert head is not None
    assert head.version == 1
    assert await _entries(session, "procurement.rule_version_created") == []


async def test_every_problem_is_named_at_once_with_its_line(session: AsyncSession) -> None:
    bad = draft(
        patterns=(*RULE.patterns, "(x"), basis="", positive_examples=(*RULE.positive_examples, FOUND_BY_NOTHING)
    )
    problems = service.validate(bad).items
    assert {(p["field"], p["rule"]) for p in problems} == {("patterns", "regex_invalid"), ("basis", "required")}
    regex = next(p for p in problems if p["rule"] == "regex_invalid")
    assert (regex["line"], regex["text"]) == (len(RULE.patterns) + 1, "(x")
    missed = service.validate(draft(positive_examples=(FOUND_BY_NOTHING,))).items
    assert [(p["field"], p["line"], p["text"]) for p in missed] == [("positive_examples", 1, FOUND_BY_NOTHING)]


async def test_a_retired_rule_is_kept_but_no_longer_applied(session: AsyncSession) -> None:
    await active_rules(session)
    retired = await new_version(session, draft(in_force=False, reason="已被新规则取代"), actor=_editor())
    assert (retired.version, retired.in_force) == (2, False)
    assert RULE.id not in {rule.id for rule in await active_rules(session)}
    assert (await rule_version(session, RULE.id, 2)).id == RULE.id  # still readable
    assert len(await _entries(session, "procurement.rule_retired")) == 1
    back = await new_version(session, draft(base_version=2, reason="恢复适用"), actor=_editor())
    assert back.version == 3
    assert RULE.id in {rule.id for rule in await active_rules(session)}
    assert len(await _entries(session, "procurement.rule_reinstated")) == 1


async def test_a_new_rule_is_version_one(session: AsyncSession) -> None:
    new = draft(
        rule_id="NL-PRICE-DROP-EXTREMES",
        name="评审时去掉最高报价和最低报价",
        basis="《政府采购货物和服务招标投标管理办法》(财政部令第87号)第五十五条",
        patterns=(r"去掉(1个)?最高(报价|价)和(1个)?最低(报价|价)",),
        negations=(),
        positive_examples=("价格分计算时去掉一个最高报价和一个最低报价。",),
        negative_examples=("以满足招标文件要求的最低投标报价为评标基准价。",),
        base_version=0,
        reason="补充第五十五条",
    )
    row = await new_version(session, new, actor=_editor())
    assert (row.rule_id, row.version) == ("NL-PRICE-DROP-EXTREMES", 1)
    assert "NL-PRICE-DROP-EXTREMES" in {rule.id for rule in await active_rules(session)}
    assert len(await _entries(session, "procurement.rule_created")) == 1
    with pytest.raises(ValidationFailed) as refused:
        await new_version(session, draft(rule_id="nl-lower", base_version=0), actor=_editor())
    assert ("rule_id", "rule_id_format") in {(i["field"], i["rule"]) for i in refused.value.extra["errors"]}
    with pytest.raises(NotFound):
        await new_version(session, draft(rule_id="NL-NO-SUCH", base_version=3), actor=_editor())


def test_trying_a_rule_cuts_the_text_into_hits() -> None:
    text = FOUND_BY_NOTHING + RULE.positive_examples[0]
    findings, segments = service.try_rule(RULE, text)
    assert len(findings) == 1
    assert "".join(s.text for s in segments) == text
    (hit,) = [s for s in segments if s.hit]
    assert hit.text == text[findings[0].start : findings[0].end]
