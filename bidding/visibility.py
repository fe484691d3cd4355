"""Who sees what of a tender's bids: one policy, by the caller's relation to the tender and the
opening's stage (issue 11). Pure: no database, no I/O.

Every route under ``/bidding`` and ``/api/v1/bidding`` declares what it exposes with
``opt=guarded(permission, Exposure.X)`` (or ``opt=exposes(Exposure.X)`` on a public route); a test
walks the application's routes and fails on a bidding route without a declaration, and walks the
declared ones as each role at each stage and as unrelated organisations.

The rules (Order 20 Art. 21, 27, 29-32; domain-rules §1-2):

- **Before the deadline** nobody learns who bid or downloaded (the listings refuse, audited).
- **Owners** (the tenderee and its mandated agency, the opening's host among them) and
  **overseers** (行政监督 supervisors and the centre's admins, on every tender, read-only) see the
  bid and download listings after the deadline and, at the opening, every bidder's statuses: the
  host runs the decryption and records incidents by bidder.
- **Before 唱标** (sign-in, decryption) a bidder sees only its own rows, its own price and its own
  objections; visitors and unrelated organisations see counts only.
- **Nobody sees another's price before the price table is published** (price reading): not the
  host, not the supervisor, not a bidder that has already decrypted. From 唱标 on the price table
  (names, prices, outcomes, causes) is public.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from bidding.opening_stage import Stage
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.permissions import Permission, requires
from trading.kernel.auth.roles import Role

VISIBILITY_OPT: Final = "bidding_exposure"
"""The route ``opt`` key naming what a bidding route exposes (read by the tests' walks)."""


class Exposure(StrEnum):
    """What a route returns and to whom: the declaration each bidding route carries."""

    NONE = "none"
    """No bid, price, bidder or downloader data (forms, the clock, the caller's own drafts)."""
    PUBLIC = "public"
    """Published tender information, the same for everyone (drafts only to their owners)."""
    PARTICIPATION = "participation"
    """Any organisation of the route's role may take part in any published tender: download, ask,
    bid, withdraw its own bid, read its own questions (nothing of another organisation).
    """
    OWN = "own"
    """A resource of the caller's organisation named in the URL (an upload, a receipt), or its own
    listings; another organisation's is refused.
    """
    OWNER = "owner"
    """The tender's owners only (tenderee, its agency): management, unanswered questions."""
    OWNER_OR_OVERSEER = "owner-or-overseer"
    """Who bid and who downloaded: owners and overseers, after the deadline only."""
    HOST = "host"
    """The opening's host only (checked and audited in the service)."""
    OPENING_BIDDER = "opening-bidder"
    """An organisation with a bid at the opening, on its own rows."""
    KEY_HOLDER = "key-holder"
    """A key holder listed in the tender (escrow remedy): identified by its certificate's signature
    over the release, and only for a bid the host recorded an incident for.
    """
    OPENING_STAGE = "opening-stage"
    """The hall's views, record, events and pages: `OpeningPolicy` by stage and relation."""


def exposes(exposure: Exposure) -> dict[str, Any]:
    """Route ``opt`` of a public route: what it exposes."""
    return {VISIBILITY_OPT: exposure}


def guarded(permission: Permission, exposure: Exposure) -> dict[str, Any]:
    """Route ``opt``: the permission the guard checks and what the route exposes."""
    return {**requires(permission), VISIBILITY_OPT: exposure}


class Relation(StrEnum):
    """The caller's relation to one tender."""

    OWNER = "owner"
    """The tenderee or its mandated agency (the opening's host is one of them)."""
    OVERSEER = "overseer"
    """A supervisor (行政监督) or the centre's admin: every tender, read-only."""
    BIDDER = "bidder"
    """An organisation with a bid at the tender's opening."""
    OUTSIDER = "outsider"
    """A visitor or any unrelated organisation."""


OVERSEER_ROLES: Final = frozenset({Role.SUPERVISOR, Role.ADMIN})
PRICE_FIELDS: Final = ("currency", "totalPrice", "durationDays", "items")
"""The price summary's fields as the price table and the record show them."""
READ_OUT_STAGES: Final = frozenset({Stage.PRICE_READING, Stage.COEFFICIENT_DRAW, Stage.CONFIRMATION, Stage.CLOSED})
"""From 唱标 on the price table is public."""


def owns(actor: Actor, *, tenderee: uuid.UUID, agency: uuid.UUID | None) -> bool:
    """The tenderee or its agency (any of their users)."""
    return actor.organisation_id is not None and actor.organisation_id in {tenderee, agency}


def oversees(actor: Actor) -> bool:
    """Supervisors and admins oversee every tender; the platform's own jobs too."""
    return bool(actor.roles & OVERSEER_ROLES) or actor.kind is ActorKind.SYSTEM


def may_list_bidders(actor: Actor, *, tenderee: uuid.UUID, agency: uuid.UUID | None) -> bool:
    """Who bid and who downloaded (after the deadline): the tender's owners and overseers."""
    return owns(actor, tenderee=tenderee, agency=agency) or oversees(actor)


def relation_of(
    actor: Actor, *, tenderee: uuid.UUID, agency: uuid.UUID | None, bidders: Collection[uuid.UUID]
) -> Relation:
    if owns(actor, tenderee=tenderee, agency=agency):
        return Relation.OWNER
    if bool(actor.roles & OVERSEER_ROLES):
        return Relation.OVERSEER
    if actor.organisation_id is not None and actor.organisation_id in bidders:
        return Relation.BIDDER
    return Relation.OUTSIDER


class Page(StrEnum):
    """The hall's pages (`bidding.opening.web`)."""

    VISITOR = "visitor"
    HOST = "host"
    BIDDER = "bidder"
    SUPERVISOR = "supervisor"


PAGE_AUDIENCES: Final[Mapping[Page, frozenset[Relation]]] = {
    Page.VISITOR: frozenset(Relation),
    Page.HOST: frozenset({Relation.OWNER}),
    Page.BIDDER: frozenset({Relation.BIDDER}),
    Page.SUPERVISOR: frozenset({Relation.OWNER, Relation.OVERSEER}),
}


@dataclass(frozen=True)
class OpeningPolicy:
    """What one caller sees of one opening at its current stage."""

    relation: Relation
    stage: Stage
    organisation_id: uuid.UUID | None

    @classmethod
    def of(
        cls,
        actor: Actor,
        *,
        tenderee: uuid.UUID,
        agency: uuid.UUID | None,
        stage: Stage,
        bidders: Collection[uuid.UUID],
    ) -> OpeningPolicy:
        relation = relation_of(actor, tenderee=tenderee, agency=agency, bidders=bidders)
        return cls(relation, stage, actor.organisation_id)

    @property
    def price_table_published(self) -> bool:
        return self.stage in READ_OUT_STAGES

    @property
    def participant(self) -> bool:
        return self.relation is not Relation.OUTSIDER

    @property
    def sees_every_status(self) -> bool:
        """Every bidder's name and decryption status (no prices): the host and the overseers
        run and watch the decryption; everyone once the price table is published.
        """
        return self.price_table_published or self.relation in {Relation.OWNER, Relation.OVERSEER}

    def _own(self, organisation_id: uuid.UUID) -> bool:
        return self.organisation_id is not None and organisation_id == self.organisation_id

    def sees_row(self, organisation_id: uuid.UUID) -> bool:
        """A bidder's row (name, statuses, outcome)."""
        return self.sees_every_status or self._own(organisation_id)

    def sees_price(self, organisation_id: uuid.UUID) -> bool:
        """A bidder's prices: its own, and everybody's once the price table is published."""
        return self.price_table_published or self._own(organisation_id)

    def sees_objection(self, organisation_id: uuid.UUID) -> bool:
        """Objections name their bidder: owners and overseers see all; bidders their own before
        唱标 and all after; visitors none (the record, published at the end, has them all).
        """
        if self.relation in {Relation.OWNER, Relation.OVERSEER}:
            return True
        return self.relation is Relation.BIDDER and (self.price_table_published or self._own(organisation_id))

    def may_read_record(self) -> bool:
        """The record's data (``GET …/record``): the opening's participants."""
        return self.participant

    def may_read_record_pdf(self, *, platform_signed: bool) -> bool:
        """The signed PDF: everyone once the platform has signed it. Order 20 Art. 32 has the
        platform generate and publish the opening record; the host's countersignature, when it
        comes, replaces the published file (the same record with one more signature) and does
        not gate it. The stage alone never publishes it: before the platform's signature there
        is no record to serve.
        """
        return platform_signed

    def may_open(self, page: Page) -> bool:
        return self.relation in PAGE_AUDIENCES[page]

    @property
    def role_label(self) -> str:
        """The view's ``role`` (what the hall's pages and clients switch on)."""
        if self.relation in {Relation.OWNER, Relation.OVERSEER}:
            return "host-or-supervisor"
        return "bidder" if self.relation is Relation.BIDDER else "visitor"

    def price_line(self, line: Mapping[str, Any], organisation_id: uuid.UUID) -> dict[str, Any]:
        """A price-table or record line with the prices the caller may not see taken out."""
        if self.sees_price(organisation_id):
            return dict(line)
        return {key: value for key, value in line.items() if key not in PRICE_FIELDS}
