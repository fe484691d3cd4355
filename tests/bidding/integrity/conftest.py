"""Fixtures of the integrity tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bidding.integrity import screening


@pytest.fixture
def only_test_screeners() -> Iterator[None]:
    """The plumbing's tests bring screeners of their own: the platform's screens (registered when an
    app is built, `bidding.integrity.screeners.plug_screeners`) are set aside meanwhile."""
    saved = list(screening._screeners)
    screening._screeners.clear()
    try:
        yield
    finally:
        screening._screeners[:] = saved
