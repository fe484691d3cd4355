"""The supervisor's ledger page (``/ledger``): a filterable table and a verification panel.

One URL serves the full page to a browser and just the results to htmx (the filter form and the
paging links swap ``#ledger-results``), so the page works with and without JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from certs.errors import Refused
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.web.htmx import is_htmx
from trading.kernel.web.pages import page
from trading.kernel.web.templating import DISPLAY_TZ
from trading.ledger import actions, names, service, timestamping
from trading.ledger.models import LedgerCheckpoint
from trading.ledger.policies import LedgerPermission, can_verify

PUBLIC_PATHS = frozenset({"/ledger/checkpoint"})
PAGE_SIZE = 50
_FILTER_FIELDS = ("chain", "action", "username", "subject_type", "subject_id", "since", "until")


def _day_start(raw: str | None, *, next_day: bool = False) -> tuple[datetime | None, str | None]:
    """``YYYY-MM-DD`` as the start of that day (or the next one, for an inclusive "until")."""
    if not raw:
        return None, None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None, raw
    start = datetime.combine(day + timedelta(days=1 if next_day else 0), time(0), DISPLAY_TZ)
    return start, None


def _timestamp_time(checkpoint: LedgerCheckpoint) -> datetime | None:
    """The TSA's time over the checkpoint's digest, if it has a token that holds."""
    if checkpoint.timestamp_token is None:
        return None
    return _verified_timestamp_time(bytes(checkpoint.timestamp_token), bytes(checkpoint.digest))


@lru_cache(maxsize=64)
def _verified_timestamp_time(token: bytes, digest: bytes) -> datetime | None:
    """`_timestamp_time`, remembered: ``/ledger/checkpoint`` is public and not throttled, and the
    token's signature check is a pure function of these bytes (no trust store, no clock), so each
    checkpoint's token is verified once per process rather than on every page view. Keyed by the
    bytes, not the number, so a token added to a checkpoint later is verified afresh.
    """
    try:
        return timestamping.timestamp_time(token, digest)
    except (Refused, ValueError):
        return None


def _chain_choices(chains: Iterable[str]) -> list[str]:
    """The filter's suggestions: the platform's chain and the chains on this page, as labels (only
    chains the reader already sees, so no sealed or withheld project is named).
    """
    return list(dict.fromkeys([actions.chain_label("platform"), *sorted(actions.chain_label(c) for c in set(chains))]))


class LedgerPages(Controller):
    path = "/ledger"

    @get("/", name="ledger.entry_list", opt=requires(LedgerPermission.ENTRY_READ))
    async def entry_list(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        chain: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        username: FromQuery[str | None] = None,
        subject_type: FromQuery[str | None] = None,
        subject_id: FromQuery[str | None] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """The ledger, newest first, with the same filters as ``GET /api/v1/ledger/entries``."""
        since_at, bad_since = _day_start(since)
        until_at, bad_until = _day_start(until, next_day=True)
        # The reader filters by what an action is called (its label in their language, or part of
        # one); the label maps to the action codes it names.
        # The chain likewise: 平台, 项目 <code> (or the chain as recorded).
        filters = service.EntryFilter(
            chain=actions.chain_matching(chain) if chain and chain.strip() else None,
            actions=actions.codes_matching(action) if action and action.strip() else None,
            actor=username or None,
            subject_type=subject_type or None,
            subject_id=subject_id or None,
            since=since_at,
            until=until_at,
        )
        entries, next_cursor = await service.list_entries(
            db_session, actor, filters, limit=PAGE_SIZE, cursor=cursor or None
        )
        # Ids in summaries (organisations, users) by name: one lookup for the page, through what
        # the composition root plugged in (the ledger cannot read parties itself).
        party_names = await names.resolve(
            db_session, request.app.state.get("ledger_party_names"), (entry.summary for entry in entries)
        )
        values = {
            "chain": chain,
            "action": action,
            "username": username,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "since": since,
            "until": until,
        }
        values = {name: values[name] or "" for name in _FILTER_FIELDS}
        active = {name: value for name, value in values.items() if value}
        here = request.app.route_reverse("ledger.entry_list")
        context = {
            "entries": entries,
            "filters": values,
            "invalid_dates": [value for value in (bad_since, bad_until) if value],
            "next_url": f"{here}?{urlencode({**active, 'cursor': next_cursor})}" if next_cursor else None,
            "first_url": f"{here}?{urlencode(active)}" if cursor else None,
            "display_tz": DISPLAY_TZ,
            "can_verify": can_verify(actor),
            "action_choices": actions.choices(),
            "action_label": actions.action_label,
            "subject_label": actions.subject_label,
            "summary_label": actions.summary_label,
            "summary_value": actions.summary_value,
            "chain_label": actions.chain_label,
            "chain_choices": _chain_choices(entry.chain for entry in entries),
            "party_name": lambda key, value: party_names.get((key, value)) if isinstance(value, str) else None,
        }
        template = "ledger/_entry_results.html" if is_htmx(request) else "ledger/entry_list.html"
        return await page(request, template, context)

    @get("/checkpoint", name="ledger.published_checkpoint")
    async def published_checkpoint(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        """The newest published checkpoint, for anyone to keep (public: listed in PUBLIC_PATHS)."""
        checkpoint = await service.latest_published_checkpoint(db_session)
        context: dict[str, Any] = {"checkpoint": None, "display_tz": DISPLAY_TZ}
        if checkpoint is not None:
            published = service.published_checkpoint(checkpoint)
            context |= {
                "checkpoint": checkpoint,
                "published": published,
                "chains": len(published["heads"]),
                "timestamp_time": _timestamp_time(checkpoint),
            }
        return await page(request, "ledger/checkpoint.html", context)

    @get("/_verification", name="ledger.verification_panel", opt=requires(LedgerPermission.CHAIN_VERIFY))
    async def verification_panel(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], state: State
    ) -> Template:
        """Run a verification and show its outcome (a fragment for the page's verify button)."""
        report = await service.verify_ledger(db_session, public_keys=service.platform_public_keys(state.settings))
        template = "ledger/_verification.html" if is_htmx(request) else "ledger/verification.html"
        return await page(request, template, {"report": report})
