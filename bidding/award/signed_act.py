"""The form path every signed act of the award's pages takes, written once.

A signed act's route (open the publicity, confirm, pass over, file or answer an objection, a
complaint's step, draft or sign a notice, sign the contract in the page…) is always: find the
tender (a missing one is a 404), then inside the kernel's savepoint (`submit`) find what the form
names, let the service check who acts and verify the signature, and answer 303 back to the page
with what was done in the query, or the page again (422) with the refusal naming field and rule.

The route keeps what is its own: the service it calls with which fields, the page it returns to,
the query word the page reads, and what the refused form keeps. The signature itself is verified
by the service (never here), so the API routes share it by calling the same services.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.lookups import award_of, tender_of
from bidding.award.models import Award
from trading.kernel.web.forms import PLAIN, FieldError, Labels, submit

Refusal = Callable[[list[FieldError]], Awaitable[Response[Any]]]
"""The page again with the refusal's errors (a page's ``render``, or a lambda keeping the form)."""


async def submit_act(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    act: Callable[[], Awaitable[object]],
    *,
    back: str,
    code: str,
    done: str,
    refusal: Refusal,
    labels: Labels = PLAIN,
) -> Response[Any]:
    """Run ``act`` in a savepoint: 303 to the route ``back`` of the tender ``code`` with ``?done``,
    or ``refusal(errors)`` with 422 (nothing the act flushed survives).
    """
    return await submit(
        db_session,
        act,
        labels=labels,
        redirect=f"{request.app.route_reverse(back, code=code)}?{done}",
        refusal=refusal,
    )


async def submit_award_act(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    act: Callable[[Award], Awaitable[object]],
    *,
    code: str,
    award: str,
    back: str,
    done: str,
    refusal: Refusal,
) -> Response[Any]:
    """`submit_act` for an act on the award the form's ``award`` field names: the tender is found
    first (404 when there is none), the award inside the savepoint (a wrong id is refused on the
    page, field ``award``), then ``act(award)`` calls the service.
    """
    tender = await tender_of(db_session, code)

    async def run() -> object:
        return await act(await award_of(db_session, tender, award))

    return await submit_act(request, db_session, run, back=back, code=code, done=done, refusal=refusal)
