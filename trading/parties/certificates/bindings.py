"""Binding a certificate to an account: the user proves possession by signing a challenge.

A binding decides which account a certificate opens (`certificates`), before any mapping by
identity. The certificate must validate for ``login`` (chain, revocation, trust list) and name the
user's own organisation (an active membership there) or the user's own person; a user without a
person record is linked to the person a personal certificate names (compared by the ID number's
keyed hash). Bindings end (``unbound_at``) but stay as history; each change is on the ledger.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from certs.auth.challenge import LoginResponse, check_challenge
from certs.errors import Refused
from certs.pathval.identity import party_of
from certs.pathval.validate import ValidatedPath
from certs.sign.verify import verify_raw
from certs.trustlist.model import Usage, fingerprint
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.kernel.errors import PermissionDenied
from trading.parties import identifiers
from trading.parties.certificates.challenges import DbChallengeStore, path_evidence
from trading.parties.certificates.login import CertificateService
from trading.parties.certificates.trust import PlatformReason, PlatformRefused, Refusal
from trading.parties.errors import BindingNotFound
from trading.parties.models import CertificateBinding, ChallengePurpose, PartyKind, Person, User
from trading.parties.service import record_change


@dataclass(frozen=True)
class BindingOutcome:
    binding: CertificateBinding | None = None
    refusal: Refusal | None = None


class BindingService(CertificateService):
    """Certificate bindings of the signed-in user (challenges and checks shared with login)."""

    async def bind(self, payload: Mapping[str, Any], *, actor: Actor) -> BindingOutcome:
        """Bind a certificate to the actor's account after they signed a binding challenge with its
        key. The certificate must validate for ``login`` and name the actor's organisation (an
        active membership there) or the actor's person (a user without a person record is linked to
        the person the certificate names). Appends ``parties.certificate_bound`` or
        ``parties.certificate_bind_refused``.
        """
        user = await self._signed_in_user(actor)
        now = await self._now()
        try:
            response = LoginResponse.from_dict(dict(payload))
        except Refused as malformed:
            return BindingOutcome(refusal=Refusal.of(malformed))
        row = await self.challenges.get(response.nonce, for_update=True)
        store = DbChallengeStore(row, ChallengePurpose.BIND, now, user_id=user.id)
        try:
            challenge = store.consume(response.nonce)
            check_challenge(
                challenge, expected_origin=self._expected_origin(row), purpose=ChallengePurpose.BIND.value, now=now
            )
            context = await self._context(now)
            path = await verify_raw(
                challenge.to_sign(),
                response.signature,
                response.certificate,
                context.validator,
                usage=Usage.LOGIN,
                at=now,
                intermediates=response.chain,
            )
            binding = await self._bind(user, path, now, actor, proof="signed-challenge")
        except (Refused, PlatformRefused) as exc:
            refusal = await self._refused(
                "certificate_bind_refused",
                exc,
                store,
                actor,
                subject_type="certificate",
                subject_id=fingerprint(response.certificate),
            )
            return BindingOutcome(refusal=refusal)
        return BindingOutcome(binding=binding)

    async def register_binding(
        self,
        user: User,
        certificate: x509.Certificate,
        chain: tuple[x509.Certificate, ...] = (),
        *,
        actor: Actor,
    ) -> CertificateBinding:
        """Bind without a possession proof: for certificates the platform issued itself (the demo).

        The certificate is validated like any other; raises `Refused` / `PlatformRefused`.
        """
        now = await self._now()
        context = await self._context(now)
        path = await context.validator.validate(certificate, chain, at=now, usage=Usage.LOGIN)
        return await self._bind(user, path, now, actor, proof="issued-by-platform")

    async def _bind(
        self, user: User, path: ValidatedPath, now: datetime, actor: Actor, *, proof: str
    ) -> CertificateBinding:
        party = party_of(path)
        sha256 = fingerprint(path.leaf)
        existing = await self.bindings.live_by_certificate(sha256)
        if existing is not None:
            whose = "this account" if existing.user_id == user.id else "another account"
            raise PlatformRefused(PlatformReason.ALREADY_BOUND, f"bound to {whose}")
        organisation_id = person_id = None
        linked = False
        if party.kind == PartyKind.ORGANISATION:
            organisation = await self.organisations.by_uscc(party.identifier)
            members = await self.bindings.members(organisation.id, now) if organisation is not None else []
            if organisation is None or user.id not in {member.id for member in members}:
                raise PlatformRefused(
                    PlatformReason.PARTY_MISMATCH, f"it names 统一社会信用代码 {party.identifier}, not one of yours"
                )
            organisation_id = organisation.id
        else:
            person = await self.people.by_id_hash(self._id_hash(party.identifier))
            if user.person_id is not None and (person is None or person.id != user.person_id):
                raise PlatformRefused(PlatformReason.PARTY_MISMATCH, "it names another person")
            if person is None:
                person = Person(
                    id=uuid7(),
                    id_hash=self._id_hash(party.identifier),
                    id_masked=identifiers.mask_resident_id(party.identifier),
                    name=party.name[:100],
                    created_at=now,
                )
                self.people.add(person)
                await self.session.flush()  # no ORM relationship orders the inserts
            if user.person_id is None:
                user.person_id, linked = person.id, True
            person_id = person.id
        leaf = path.leaf
        binding = CertificateBinding(
            id=uuid7(),
            user_id=user.id,
            certificate_sha256=sha256,
            certificate=leaf.public_bytes(Encoding.DER),
            subject=leaf.subject.rfc4514_string()[:500] if party.kind == PartyKind.ORGANISATION else party.name[:500],
            issuer=leaf.issuer.rfc4514_string()[:500],
            serial_number=f"{leaf.serial_number:x}"[:64],
            not_after=leaf.not_valid_after_utc,
            ca_name=path.recognition.service.name[:200],
            party_kind=PartyKind(party.kind),
            organisation_id=organisation_id,
            person_id=person_id,
            bound_at=now,
        )
        self.bindings.add(binding)
        await self.session.flush()
        summary = {
            "certificate_sha256": sha256,
            "ca": binding.ca_name,
            "party_kind": party.kind,
            "organisation_id": str(organisation_id) if organisation_id else None,
            "proof": proof,
            "person_linked": linked,
        }
        await record_change(
            self.session,
            actor,
            "certificate_bound",
            "certificate_binding",
            binding.id,
            summary=summary,
            data={**summary, "user_id": str(user.id), "evidence": path_evidence(path, party, None)},
        )
        return binding

    async def unbind(self, binding_id: uuid.UUID, *, actor: Actor) -> CertificateBinding:
        """End one of the actor's own bindings now (it stays as history). Appends ``parties.certificate_unbound``."""
        binding = await self.bindings.get(binding_id, for_update=True)
        if binding is None or binding.user_id != actor.user_id or binding.unbound_at is not None:
            raise BindingNotFound("no such live binding of yours")
        binding.unbound_at = await self._now()
        await self.session.flush()
        await record_change(
            self.session,
            actor,
            "certificate_unbound",
            "certificate_binding",
            binding.id,
            summary={"certificate_sha256": binding.certificate_sha256},
        )
        return binding

    async def bindings_of(self, actor: Actor) -> list[CertificateBinding]:
        user = await self._signed_in_user(actor, lock=False)
        return list(await self.bindings.for_user(user.id))

    async def _signed_in_user(self, actor: Actor, *, lock: bool = True) -> User:
        if actor.user_id is None:
            raise PermissionDenied("only a signed-in user has certificate bindings")
        user = await self.users.get(actor.user_id, for_update=lock)
        if user is None:
            raise PermissionDenied("no such user")
        return user
