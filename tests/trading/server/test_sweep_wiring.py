"""The platform's sweep is wired so that a tender's deadline starts its opening.

Core's ``bidding.jobs.TenderDeadline`` closes a tender and begins only what ``at_close`` names;
the opening's subclass names ``start_opening``. A closed tender is never looked at again by the
deadline handler, so registering the core class would close tenders that never open.
"""

from __future__ import annotations

import pytest

from bidding import jobs as bidding_jobs
from bidding.opening import jobs as opening_jobs
from bidding.opening.stages import start_opening
from trading.kernel import sweep
from trading.server.wiring import register_sweep_handlers


def test_the_registered_deadline_handler_starts_the_opening() -> None:
    register_sweep_handlers()
    [deadline] = [handler for handler in sweep.registered() if handler.name == "bidding.tender_deadline"]
    assert type(deadline) is opening_jobs.TenderDeadline
    assert start_opening in deadline.at_close
    assert bidding_jobs.TenderDeadline.at_close == ()  # core alone begins nothing


def test_a_second_kind_of_handler_under_a_registered_name_is_refused() -> None:
    register_sweep_handlers()
    with pytest.raises(ValueError, match=r"bidding\.tender_deadline"):
        sweep.register(bidding_jobs.TenderDeadline())
    register_sweep_handlers()  # the same kinds again: allowed (idempotent wiring)
