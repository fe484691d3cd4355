"""Seats, sign-in at the seat, and the chair's election (issue 15 item 3).

- **Seats.** The host (the organisation running the tender) gives each current member a seat in
  one of the evaluation's venues (main or sub). A seat holds one current member per evaluation
  (``seat_taken``); a member who signed in keeps their seat (``signed_in``).
- **Sign-in.** The platform's certificate-login challenge (`trading.parties.certificates`, purpose
  ``evaluation-seat``) is bound to the seat: the expert signs `seat_statement` — canonical JSON
  naming the evaluation, the seat, the challenge's nonce, origin and validity — with their
  certificate. The seat must be the member's own (``own_seat``) and the certificate the member's
  (bound to their account, or a personal certificate naming their person: ``member_certificate``);
  the chain, revocation and trust list are checked for ``login``. Every refusal raises: nothing is
  stored, not even the challenge's use.
- **Chair.** Each signed-in member votes once (a vote may change until the chair is elected). A
  candidate with more than half of the current members' votes is elected at once; when every current
  member has voted, the most votes win, ties going to the earliest drawn position. Votes of a
  replaced member do not count.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import (
    ChairVote,
    Evaluation,
    Member,
    MemberStatus,
    Seat,
    SessionState,
)
from bidding.evaluation.pool.models import Attendance, AttendanceOutcome
from bidding.evaluation.session.errors import NotSessionParty, SessionRefused, SessionStateConflict
from bidding.evaluation.session.journal import announce, current, ledger, load
from bidding.evaluation.session.repository import SessionRepository
from bidding.models import Tender
from certs.auth.challenge import Challenge, LoginResponse, check_challenge
from certs.canonical import canonical_json
from certs.errors import Reason, Refused
from certs.pathval.identity import party_of
from certs.pathval.validate import ValidatedPath
from certs.sign.cades import verify_detached
from certs.sign.verify import verify_raw
from certs.trustlist.model import Usage, fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.parties import identifiers
from trading.parties.certificates.challenges import DbChallengeStore
from trading.parties.certificates.login import CertificateService
from trading.parties.certificates.trust import PlatformRefused, Refusal, trust_context
from trading.parties.models import ChallengePurpose, PartyKind
from trading.parties.repository import CertificateBindingRepository, ChallengeRepository

STATEMENT_VERSION: Final = "ggzy-evaluation-seat/1"


def seat_statement(evaluation_id: uuid.UUID, seat_id: uuid.UUID, challenge: Challenge) -> bytes:
    """The exact bytes an expert signs to sign in at a seat (pure)."""
    return canonical_json(
        {
            "version": STATEMENT_VERSION,
            "evaluation": str(evaluation_id),
            "seat": str(seat_id),
            "nonce": challenge.nonce,
            "origin": challenge.origin,
            "issuedAt": challenge.issued_at.isoformat(),
            "expiresAt": challenge.expires_at.isoformat(),
        }
    )


@dataclass(frozen=True, slots=True)
class SeatChallenge:
    challenge: Challenge
    seat_id: uuid.UUID
    statement: bytes
    """What to sign: `seat_statement` for the member's seat."""


def host_only(actor: Actor, evaluation: Evaluation) -> None:
    if actor.kind is ActorKind.SYSTEM:
        return
    if actor.organisation_id is None or actor.organisation_id != evaluation.host_organisation_id:
        raise NotSessionParty("only the organisation hosting the session does this", field="actor", rule="host_only")


def not_completed(evaluation: Evaluation) -> None:
    if evaluation.state is SessionState.COMPLETED:
        raise SessionStateConflict("the session is completed", field="state", rule="session_open")


class Seating:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.repo = SessionRepository(session)

    async def _mine(self, actor: Actor, evaluation: Evaluation) -> Member:
        member = await self.repo.member_of_user(evaluation.id, actor.user_id) if actor.user_id is not None else None
        if member is None:
            raise NotSessionParty("you are not a member of this committee", field="actor", rule="committee_member")
        return member

    # --- seats ----------------------------------------------------------------------------------

    async def assign_seat(
        self, actor: Actor, evaluation_id: uuid.UUID, member_id: uuid.UUID, seat_id: uuid.UUID
    ) -> Member:
        """The host gives a current member a seat in one of the evaluation's venues."""
        evaluation, tender = await load(self.repo, evaluation_id)
        host_only(actor, evaluation)
        not_completed(evaluation)
        members = await self.repo.members(evaluation.id, lock=True)
        member = next((m for m in current(members) if m.id == member_id), None)
        if member is None:
            raise SessionRefused("not a current member of this committee", field="member", rule="current_member")
        if member.signed_in_at is not None:
            raise SessionStateConflict("the member has signed in at their seat", field="member", rule="signed_in")
        seat = await self.repo.seat(seat_id)
        venues = {venue.id: link.role for link, venue in await self.repo.evaluation_venues(evaluation.id)}
        if seat is None or seat.venue_id not in venues or not seat.active:
            raise SessionRefused(
                "the seat is not an active seat of this evaluation's venues", field="seat", rule="evaluation_venue"
            )
        holder = next((m for m in current(members) if m.seat_id == seat.id and m.id != member.id), None)
        if holder is not None:
            raise SessionRefused("another member holds this seat", field="seat", rule="seat_taken")
        member.seat_id = seat.id
        await self.session.flush()
        now = await clock.now(self.session)
        await ledger(
            self.session,
            actor,
            "evaluation.seat_assigned",
            evaluation,
            tender,
            summary={"member": str(member.id), "seat": str(seat.id), "venue_role": venues[seat.venue_id].value},
        )
        announce(self.session, evaluation, "seat-assigned", now)
        return member

    # --- sign-in ------------------------------------------------------------------------------

    async def challenge(self, actor: Actor, evaluation_id: uuid.UUID, *, origin: str | None = None) -> SeatChallenge:
        """A one-time challenge for the member's own seat, and the statement to sign."""
        evaluation, _ = await load(self.repo, evaluation_id, lock=False)
        not_completed(evaluation)
        member = await self._mine(actor, evaluation)
        if member.seat_id is None:
            raise SessionRefused("the host has not given you a seat yet", field="seat", rule="seat_assigned")
        challenge = await CertificateService(self.session, self.settings).issue_challenge(
            ChallengePurpose.SEAT_SIGN_IN, actor=actor, origin=origin
        )
        return SeatChallenge(challenge, member.seat_id, seat_statement(evaluation.id, member.seat_id, challenge))

    def _expected_origin(self, origin: str) -> str:
        origins = self.settings.certs.origins
        return origin if origin in origins else origins[0]

    async def sign_in(self, actor: Actor, evaluation_id: uuid.UUID, payload: Mapping[str, Any]) -> Member:
        """Sign in at the seat with a certificate (see the module docstring)."""
        evaluation, tender = await load(self.repo, evaluation_id)
        not_completed(evaluation)
        member = await self._mine(actor, evaluation)
        try:
            seat_id = uuid.UUID(str(payload.get("seat", "")))
        except ValueError:
            raise SessionRefused("name the seat you sign in at", field="seat", rule="format") from None
        if member.seat_id is None:
            raise SessionRefused("the host has not given you a seat yet", field="seat", rule="seat_assigned")
        if seat_id != member.seat_id:
            raise SessionRefused("this seat is not yours", field="seat", rule="own_seat")
        if member.signed_in_at is not None:
            raise SessionStateConflict("you have signed in already", field="member", rule="signed_in_once")
        now = await clock.now(self.session)
        try:
            statement, signature, path = await self._verify(evaluation.id, seat_id, payload, now)
        except (Refused, PlatformRefused) as exc:
            refusal = Refusal.of(exc)
            raise SessionRefused(refusal.text or refusal.reason, field="signature", rule=refusal.reason) from None
        sha256 = fingerprint(path.leaf)
        party = party_of(path)
        if not await self._members_certificate(member, path.leaf, party.kind, party.identifier):
            raise SessionRefused("the certificate is not yours", field="signature", rule="member_certificate")
        member.status = MemberStatus.SIGNED_IN
        member.signed_in_at = now
        member.sign_in_certificate_sha256 = sha256
        if member.expert_id is not None:  # the expert's record in the pool: they sat this evaluation
            self.repo.add(
                Attendance(
                    id=uuid7(),
                    expert_id=member.expert_id,
                    tender_id=evaluation.tender_id,
                    session_id=evaluation.id,
                    outcome=AttendanceOutcome.ATTENDED,
                    signed_in_at=now,
                )
            )
        await self.session.flush()
        seat = await self.repo.seat(seat_id)
        await ledger(
            self.session,
            actor,
            "evaluation.signed_in_at_seat",
            evaluation,
            tender,
            summary={
                "member": str(member.id),
                "seat": str(seat_id),
                "signer": sha256,
                "statementSha256": hashlib.sha256(statement).hexdigest(),
            },
            data={
                "statement": statement.decode(),
                "signature": base64.b64encode(signature).decode(),
                "seat_label": seat.label if isinstance(seat, Seat) else "",
            },
        )
        announce(self.session, evaluation, "signed-in", now)
        return member

    async def _verify(
        self, evaluation_id: uuid.UUID, seat_id: uuid.UUID, payload: Mapping[str, Any], now: datetime
    ) -> tuple[bytes, bytes, ValidatedPath]:
        """Consume the challenge and verify the signature over the seat's statement: either the
        certificate-login answer (``nonce``, ``certificate``, ``chain``, ``signature`` — what
        certificate middleware and ``certs.auth.challenge.sign_challenge`` produce, here over the
        statement) or a detached CAdES signature from the page (``nonce``, ``cades``: base64).
        Raises certs' `Refused`.
        """
        cades = payload.get("cades")
        response = None if cades else LoginResponse.from_dict(dict(payload))
        nonce = response.nonce if response is not None else str(payload.get("nonce", ""))
        row = await ChallengeRepository(self.session).get(nonce, for_update=True)
        store = DbChallengeStore(row, ChallengePurpose.SEAT_SIGN_IN, now)
        challenge = store.consume(nonce)
        check_challenge(
            challenge,
            expected_origin=self._expected_origin(challenge.origin),
            purpose=ChallengePurpose.SEAT_SIGN_IN.value,
            now=now,
        )
        statement = seat_statement(evaluation_id, seat_id, challenge)
        context = await trust_context(self.session, self.settings, now)
        if response is not None:
            path = await verify_raw(
                statement,
                response.signature,
                response.certificate,
                context.validator,
                usage=Usage.LOGIN,
                at=now,
                intermediates=response.chain,
            )
            return statement, response.signature.value, path
        try:
            signature = base64.b64decode(str(cades), validate=True)
        except ValueError:
            raise Refused(Reason.MALFORMED, "the signature is not base64") from None
        signed = verify_detached(statement, signature)
        path = await context.validator.validate(
            signed.signer_certificate, signed.certificates, at=now, usage=Usage.LOGIN
        )
        return statement, signature, path

    async def _members_certificate(self, member: Member, leaf: Any, kind: str, identifier: str) -> bool:
        binding = await CertificateBindingRepository(self.session).live_by_certificate(fingerprint(leaf))
        if binding is not None:
            return member.user_id is not None and binding.user_id == member.user_id
        if kind != PartyKind.PERSON:
            return False
        person = await self.repo.person(member.person_id)
        digest = identifiers.resident_id_hash(identifier, self.settings.secret("pii_hash_key"))
        return person is not None and person.id_hash == digest

    # --- the chair ------------------------------------------------------------------------------

    async def vote(self, actor: Actor, evaluation_id: uuid.UUID, candidate_id: uuid.UUID) -> Member | None:
        """A signed-in member's vote for the chair; returns the chair once elected."""
        evaluation, tender = await load(self.repo, evaluation_id)
        not_completed(evaluation)
        voter = await self._mine(actor, evaluation)
        if voter.signed_in_at is None:
            raise SessionRefused("sign in at your seat before you vote", field="member", rule="signed_in_first")
        members = current(await self.repo.members(evaluation.id))
        if evaluation.chair_member_id in {m.id for m in members}:
            raise SessionStateConflict("the chair has been elected", field="chair", rule="chair_elected_once")
        candidate = next((m for m in members if m.id == candidate_id), None)
        if candidate is None:
            raise SessionRefused("vote for a current member", field="candidate", rule="candidate_member")
        now = await clock.now(self.session)
        vote = await self.repo.vote_of(evaluation.id, voter.id)
        if vote is None:
            self.repo.add(
                ChairVote(
                    evaluation_id=evaluation.id,
                    voter_member_id=voter.id,
                    candidate_member_id=candidate.id,
                    voted_at=now,
                )
            )
        else:
            vote.candidate_member_id = candidate.id
            vote.voted_at = now
        await self.session.flush()
        await ledger(
            self.session,
            actor,
            "evaluation.chair_voted",
            evaluation,
            tender,
            summary={"voter": str(voter.id)},
            data={"candidate": str(candidate.id)},
        )
        chair = elected(members, await self.repo.votes(evaluation.id))
        if chair is not None:
            await self._elect(actor, evaluation, tender, chair, now)
        announce(self.session, evaluation, "chair-vote", now)
        return chair

    async def _elect(self, actor: Actor, evaluation: Evaluation, tender: Tender, chair: Member, now: datetime) -> None:
        evaluation.chair_member_id = chair.id
        evaluation.updated_at = now
        await self.session.flush()
        await ledger(
            self.session, actor, "evaluation.chair_elected", evaluation, tender, summary={"chair": str(chair.id)}
        )


def elected(members: list[Member], votes: list[ChairVote]) -> Member | None:
    """The chair the votes elect, if any (pure; see the module docstring)."""
    counted = {m.id for m in members}
    ballots = [v for v in votes if v.voter_member_id in counted and v.candidate_member_id in counted]
    tally = Counter(v.candidate_member_id for v in ballots)
    if not tally:
        return None
    by_id = {m.id: m for m in members}
    top = max(tally.values())
    if top * 2 <= len(members) and len(ballots) < len(members):
        return None
    leaders = [by_id[candidate] for candidate, count in tally.items() if count == top]
    leaders.sort(key=lambda m: (m.draw_position is None, m.draw_position or 0, m.created_at, str(m.id)))
    return leaders[0]
