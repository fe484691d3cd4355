"""Plain records for the committee-draw tests: experts, a tender's context, a spec."""

from __future__ import annotations

from datetime import date
from typing import Any

from bidding.evaluation.draw.candidates import Candidate, DrawContext
from bidding.evaluation.draw.committee import DrawSpec, GroupSpec

TENDEREE = "91320000TENDEREE01"
AGENCY = "91320000AGENCY0001"
BIDDER_A = "91320000BIDDERA001"
BIDDER_B = "91320000BIDDERB001"
SUPERVISOR = "11320000SUPERVISE1"
ELSEWHERE = "91110000ELSEWHERE1"
TENDER = "tender-e2e-1"
EVALUATION = date(2026, 12, 16)
DRAW_DAY = date(2026, 12, 14)


def expert(number: int, *codes: str, **fields: Any) -> Candidate:
    values: dict[str, Any] = {
        "expert_id": f"e{number:05d}",
        "specialties": frozenset(codes or ("A0101",)),
        "region": "320100",
        "employer_uscc": ELSEWHERE,
    }
    values.update(fields)
    return Candidate(**values)


def context(**fields: Any) -> DrawContext:
    values: dict[str, Any] = {
        "tender_id": TENDER,
        "tenderee_uscc": TENDEREE,
        "agency_uscc": AGENCY,
        "bidder_usccs": frozenset({BIDDER_A, BIDDER_B}),
        "evaluation_date": EVALUATION,
        "draw_date": DRAW_DAY,
        "government_procurement": True,
        "other_parties": frozenset({SUPERVISOR}),
    }
    values.update(fields)
    return DrawContext(**values)


def pool(size: int, codes: tuple[str, ...] = ("A0101",)) -> list[Candidate]:
    return [expert(number, *codes) for number in range(size)]


def spec(*groups: tuple[str, tuple[str, ...], int, int]) -> DrawSpec:
    return DrawSpec(tuple(GroupSpec(key, frozenset(codes), count, reserves) for key, codes, count, reserves in groups))


SEVEN = spec(("technical", ("A01",), 5, 2), ("economic", ("B02",), 2, 1))
