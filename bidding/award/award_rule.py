"""The tender's published 定标 rule (评定分离): which rule decides the winner among the committee's
recommended (unranked) candidates, published by the tenderee before the bid deadline.

* kinds (`succession.AwardRule`): ``lowest_price`` (lowest price among the recommended),
  ``committee_vote`` (the 定标委员会 votes; its voters are published), ``draw`` (a seeded draw whose
  seed is committed now: its SHA-256 is published with the rule, the seed revealed at 定标);
* tie break (`succession.TieBreak`): ``lowest_price``, ``draw`` (then the seed's commitment is
  published too) or ``revote`` (votes only).

Refusals name field and rule, nothing stored: the tender's owners only (``owner``), before the bid
deadline only (``award_rule_before_deadline``: bidders bid knowing the rule), a known kind
(``award_rule_kind``) and tie break (``award_tie_break``), voters for a vote (``award_voters``), a
SHA-256 commitment where a draw is used (``award_seed_commitment``). Each publication is a ledger
entry on the tender's chain (``award.rule_published``). Services only flush.
"""

from __future__ import annotations

import uuid
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import publicity
from bidding.award.errors import AwardRefused
from bidding.award.rule_models import TenderAwardRule
from bidding.award.succession import AwardRule, PublishedRule, TieBreak
from bidding.models import Tender
from trading.kernel import clock, draws
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import PermissionDenied
from trading.ledger.service import append_entry

KINDS: Final = (AwardRule.LOWEST_PRICE, AwardRule.COMMITTEE_VOTE, AwardRule.DRAW)
VOTERS_MAX: Final = 50
VOTER_MAX: Final = 100


async def rule_of(session: AsyncSession, tender_id: uuid.UUID) -> TenderAwardRule | None:
    return await session.scalar(sa.select(TenderAwardRule).where(TenderAwardRule.tender_id == tender_id))


def published_of(row: TenderAwardRule | None) -> PublishedRule:
    """The rule the award uses: the tender's, or the committee's ranking when it published none."""
    if row is None:
        return PublishedRule()
    return PublishedRule(AwardRule(row.rule), TieBreak(row.tie_break), tuple(row.voters or ()))


async def published_rule(session: AsyncSession, tender_id: uuid.UUID) -> PublishedRule:
    return published_of(await rule_of(session, tender_id))


def uses_draw(row: TenderAwardRule | None) -> bool:
    return row is not None and (row.rule == AwardRule.DRAW.value or row.tie_break == TieBreak.DRAW.value)


def _voters(voters: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(v.strip() for v in voters if v.strip()))
    if len(cleaned) > VOTERS_MAX or any(len(v) > VOTER_MAX for v in cleaned):
        raise AwardRefused(
            f"at most {VOTERS_MAX} voters of at most {VOTER_MAX} characters", field="voters", rule="length"
        )
    return cleaned


def _checked(rule: str, tie_break: str, voters: list[str], seed_sha256: str) -> tuple[AwardRule, TieBreak, list[str]]:
    try:
        kind = AwardRule(rule.strip())
    except ValueError:
        kind = AwardRule.RANKED
    if kind not in KINDS:
        raise AwardRefused(f"{rule!r} is not a 定标 rule", field="rule", rule="award_rule_kind")
    try:
        tie = TieBreak(tie_break.strip())
    except ValueError:
        raise AwardRefused(f"{tie_break!r} is not a tie break", field="tie_break", rule="award_tie_break") from None
    if tie is TieBreak.REVOTE and kind is not AwardRule.COMMITTEE_VOTE:
        raise AwardRefused("only a vote breaks a tie by voting again", field="tie_break", rule="award_tie_break")
    cast = _voters(voters)
    if kind is AwardRule.COMMITTEE_VOTE and not cast:
        raise AwardRefused("a committee vote names its voters", field="voters", rule="award_voters")
    if (kind is AwardRule.DRAW or tie is TieBreak.DRAW) and not draws.is_sha256_hex(seed_sha256.strip().lower()):
        raise AwardRefused(
            "a draw publishes the SHA-256 of its seed (64 hexadecimal digits) with the rule",
            field="seed_sha256",
            rule="award_seed_commitment",
        )
    return kind, tie, cast if kind is AwardRule.COMMITTEE_VOTE else []


async def set_rule(
    session: AsyncSession,
    actor: Actor,
    tender_id: uuid.UUID,
    *,
    rule: str,
    tie_break: str,
    voters: list[str],
    seed_sha256: str,
) -> TenderAwardRule:
    """Publish (or, before the bid deadline, change) the tender's 定标 rule (module docstring)."""
    tender = await session.get_one(Tender, tender_id, with_for_update=True)
    if not publicity.is_tenderee(actor, tender) or actor.user_id is None:
        raise PermissionDenied("only the tenderee or its agency sets the 定标 rule", field="actor", rule="owner")
    now = await clock.now(session)
    if tender.deadline is not None and now >= tender.deadline:
        raise AwardRefused(
            "the 定标 rule is published before the bid deadline and not changed after it",
            field="rule",
            rule="award_rule_before_deadline",
        )
    kind, tie, cast = _checked(rule, tie_break, voters, seed_sha256)
    commitment = seed_sha256.strip().lower() if kind is AwardRule.DRAW or tie is TieBreak.DRAW else None
    row = await rule_of(session, tender_id)
    if row is None:
        row = TenderAwardRule(tender_id=tender_id)
        session.add(row)
    row.rule, row.tie_break, row.voters, row.seed_sha256 = kind.value, tie.value, cast, commitment
    row.set_by, row.set_at = actor.user_id, now
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action="award.rule_published",
        subject_type="bidding.tender",
        subject_id=str(tender.id),
        summary={"rule": kind.value, "tie_break": tie.value, "voters": cast, "seed_sha256": commitment},
        project_code=tender.project_code,
    )
    return row
