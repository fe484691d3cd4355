"""Names for the ids an entry's summary holds (organisations and users), for the ledger page.

The ledger sits below ``trading.parties`` in the layers, so it cannot read organisations or users
itself: the composition root puts a `PartyNames` lookup in the application state
(``ledger_party_names``, ``trading.server.app``) and the page asks it once per page for every id
it shows. Without one (a bare app in a unit test), or for an id it does not know, the id is shown as
recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import Final, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

PartyKind = Literal["organisation", "user"]

ID_KEYS: Final[Mapping[str, PartyKind]] = {
    "organisation_id": "organisation",
    "tenderee_organisation_id": "organisation",
    "agency_organisation_id": "organisation",
    "user_id": "user",
}
"""The summary keys whose values are ids of a party, and which kind of party."""


class PartyNames(Protocol):
    async def __call__(
        self, session: AsyncSession, *, organisations: Collection[uuid.UUID], users: Collection[uuid.UUID]
    ) -> Mapping[tuple[PartyKind, uuid.UUID], str]:
        """The organisations' names and the users' display names (one query), by (kind, id);
        unknown ids are absent.
        """
        ...


def _uuid(value: object) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def wanted(summaries: Iterable[Mapping[str, object]]) -> dict[PartyKind, set[uuid.UUID]]:
    """The party ids in ``summaries``, by kind (values that are not UUIDs are left alone)."""
    ids: dict[PartyKind, set[uuid.UUID]] = {"organisation": set(), "user": set()}
    for summary in summaries:
        for key, kind in ID_KEYS.items():
            found = _uuid(summary.get(key))
            if found is not None:
                ids[kind].add(found)
    return ids


async def resolve(
    session: AsyncSession, lookup: PartyNames | None, summaries: Iterable[Mapping[str, object]]
) -> dict[tuple[str, str], str]:
    """``{(summary key, raw value): name}`` for every party id in ``summaries`` that ``lookup``
    knows; one call to ``lookup`` (none when there is nothing to name).
    """
    summaries = list(summaries)
    ids = wanted(summaries)
    if lookup is None or not (ids["organisation"] or ids["user"]):
        return {}
    names = await lookup(session, organisations=ids["organisation"], users=ids["user"])
    shown: dict[tuple[str, str], str] = {}
    for summary in summaries:
        for key, kind in ID_KEYS.items():
            raw = summary.get(key)
            found = _uuid(raw)
            if found is not None and (kind, found) in names:
                shown[(key, str(raw))] = names[(kind, found)]
    return shown
