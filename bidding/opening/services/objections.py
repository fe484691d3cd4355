"""Objections and confirmations in the hall (实施条例 Art. 44, 87号令 Art. 42): a bidder files a
signed objection until the confirmation stage ends and the host answers it (the opening does not
close over an unanswered one); during the confirmation stage a bidder signs the published price
table's digest (absence at the close is acceptance).
"""

from __future__ import annotations

import uuid

from bidding.client import format as fmt
from bidding.errors import OpeningRefused, OpeningStateConflict
from bidding.opening import repository
from bidding.opening.events import publish_after_commit
from bidding.opening.models import Confirmation, Objection, Stage
from bidding.opening.readings import price_table, price_table_sha256
from bidding.opening.services.base import MAX_TEXT, HallPart, audited, b64decode
from bidding.opening.stages import objections_open
from certs.trustlist.model import fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict, NotFound
from trading.ledger.service import append_entry


class Objections(HallPart):
    """Bidders' objections and the host's answers; bidders' confirmations of the price table."""

    @audited("objection")
    async def file_objection(self, actor: Actor, code: str, text: str, signature: str) -> Objection:
        """A bidder objects in the hall (实施条例 Art. 44), signed; until the confirmation stage ends."""
        if not text.strip() or len(text) > MAX_TEXT:
            raise OpeningRefused(f"the objection is 1–{MAX_TEXT} characters", field="text", rule="length")
        signature_der = b64decode(signature, "signature")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self.load(session, code, lock=True)
            await self.check_bidder(session, opening, actor)
            now = await clock.now(session)
            if not objections_open(tender, opening, now):
                raise OpeningRefused(
                    "objections are filed in the hall until the confirmation stage ends",
                    field="stage",
                    rule="objection-window",
                )
            rows = [
                r for r in await repository.bid_rows(session, opening) if r.organisation_id == actor.organisation_id
            ]
            if not rows or actor.user_id is None:
                raise OpeningRefused("only a bidder of this opening objects here", field="actor", rule="not-a-bidder")
            statement = fmt.objection_statement(code, rows[0].bidder_uscc, text)
            signed = await self.verify_bidder_signature(
                session, statement, signature_der, uscc=rows[0].bidder_uscc, now=now
            )
            objection = Objection(
                session_id=opening.id,
                organisation_id=rows[0].organisation_id,
                filed_by=actor.user_id,
                text=text,
                signature=signature_der,
                signer_sha256=fingerprint(signed.signer_certificate),
                filed_at=now,
            )
            session.add(objection)
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_objection_filed",
                subject_type="bidding.opening_objection",
                subject_id=str(objection.id),
                summary={"bidder": rows[0].bidder_uscc, "stage": opening.stage.value},
                data={"text": text, "signer": objection.signer_sha256},
                project_code=tender.project_code,
            )
            publish_after_commit(session, code, {"type": "objection", "state": opening.stage.value, "at": now})
            return objection

    @audited("host")
    async def answer_objection(self, actor: Actor, code: str, objection_id: uuid.UUID, answer: str) -> Objection:
        answer = answer.strip()
        if not answer or len(answer) > MAX_TEXT:
            raise OpeningRefused(f"the answer is 1–{MAX_TEXT} characters", field="answer", rule="length")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self.load(session, code, lock=True)
            self.check_host(actor, opening)
            if opening.stage is Stage.CLOSED:
                raise OpeningStateConflict("the opening is closed", field="stage", rule="objection-window")
            objection = await repository.objection_locked(session, opening.id, objection_id)
            if objection is None:
                raise NotFound("no such objection at this opening", field="objection", rule="exists")
            if objection.answer is not None:
                raise Conflict("the objection is already answered", field="objection", rule="answered-once")
            now = await clock.now(session)
            objection.answer = answer
            objection.answered_by = actor.user_id
            objection.answered_at = now
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_objection_answered",
                subject_type="bidding.opening_objection",
                subject_id=str(objection.id),
                summary={"objection": str(objection.id)},
                data={"answer": answer},
                project_code=tender.project_code,
            )
            publish_after_commit(session, code, {"type": "objection-answered", "state": opening.stage.value, "at": now})
            return objection

    @audited("confirmation")
    async def confirm(self, actor: Actor, code: str, signature: str) -> Confirmation:
        """A bidder confirms the opening result: a signature over the published price table's digest."""
        signature_der = b64decode(signature, "signature")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self.load(session, code, lock=True)
            await self.check_bidder(session, opening, actor)
            now = await clock.now(session)
            if opening.stage is not Stage.CONFIRMATION or (
                opening.stage_ends_at is not None and now >= opening.stage_ends_at
            ):
                raise OpeningRefused(
                    "confirmations are signed during the confirmation stage", field="stage", rule="confirmation-window"
                )
            rows = [
                r for r in await repository.bid_rows(session, opening) if r.organisation_id == actor.organisation_id
            ]
            if not rows or actor.user_id is None:
                raise OpeningRefused("only a bidder of this opening confirms", field="actor", rule="not-a-bidder")
            statement = fmt.confirmation_statement(
                code, rows[0].bidder_uscc, price_table_sha256(await price_table(session, opening))
            )
            signed = await self.verify_bidder_signature(
                session, statement, signature_der, uscc=rows[0].bidder_uscc, now=now
            )
            existing = await repository.confirmation_of(session, opening.id, rows[0].organisation_id)
            if existing is not None:
                raise Conflict("already confirmed", field="actor", rule="confirmed-once")
            confirmation = Confirmation(
                session_id=opening.id,
                organisation_id=rows[0].organisation_id,
                confirmed_by=actor.user_id,
                statement=statement,
                signature=signature_der,
                signer_sha256=fingerprint(signed.signer_certificate),
                confirmed_at=now,
            )
            session.add(confirmation)
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_confirmed",
                subject_type="bidding.tender",
                subject_id=str(tender.id),
                summary={"bidder": rows[0].bidder_uscc},
                data={"statement": statement.decode(), "signer": confirmation.signer_sha256},
                project_code=code,
            )
            publish_after_commit(session, code, {"type": "confirmed", "state": opening.stage.value, "at": now})
            return confirmation
