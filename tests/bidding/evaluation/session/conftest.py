"""Fixtures of the session tests: the development PKI and trust lists (real signatures), a seated
committee (support.py), and the result finaliser the scoring part will register."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Evaluation
from bidding.evaluation.session import hooks
from tests.trading.parties.certificates.conftest import dev_ca, dev_lists, dev_pki, settings

__all__ = ["dev_ca", "dev_lists", "dev_pki", "settings"]


@pytest.fixture
def finalised() -> Iterator[list[Evaluation]]:
    """A stand-in for the scoring part's ``result.finalise``: records the call and sets a result."""
    calls: list[Evaluation] = []

    async def finalise(session: AsyncSession, evaluation: Evaluation) -> None:
        del session
        calls.append(evaluation)
        evaluation.result = {"method": evaluation.method, "bids": [], "candidates": []}

    previous = hooks.use_finaliser(finalise)
    yield calls
    hooks.use_finaliser(previous)
