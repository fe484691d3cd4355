"""Sign-in to the hall (签到, domain-rules §2.1): a bidder signs `format.sign_in_statement` (tender,
bidder, action) with its certificate; only a signed-in bidder decrypts or sends a backup (rule
``opening_sign_in_required``, default on).
"""

from __future__ import annotations

import base64
import hashlib

from bidding.client import format as fmt
from bidding.errors import OpeningRefused, OpeningStateConflict
from bidding.opening import repository
from bidding.opening.events import publish_after_commit
from bidding.opening.models import OpeningBid, Stage
from bidding.opening.services.base import HallPart, audited, b64decode
from certs.trustlist.model import fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.ledger.service import append_entry


class Attendance(HallPart):
    """The bidders' sign-in."""

    @audited("sign_in")
    async def sign_in(self, actor: Actor, code: str, signature: str) -> list[OpeningBid]:
        """A bidder signs in to the hall (签到, domain-rules §2.1: with a CA signature), signed over
        `format.sign_in_statement` (tender, bidder, action); recorded on each of its bids here.
        """
        signature_der = b64decode(signature, "signature")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self.load(session, code)
            await self.check_bidder(session, opening, actor)
            if opening.stage not in {Stage.SIGN_IN, Stage.DECRYPTION}:
                raise OpeningStateConflict("sign-in is over", field="stage", rule="sign-in")
            rows = [
                r
                for r in await repository.bid_rows(session, opening, lock=True)
                if r.organisation_id == actor.organisation_id
            ]
            if not rows:
                raise OpeningRefused(
                    "the caller's organisation has no bid at this opening", field="actor", rule="not-a-bidder"
                )
            now = await clock.now(session)
            statement = fmt.sign_in_statement(code, rows[0].bidder_uscc)
            signature_check = await self.verify_bidder_signature(
                session, statement, signature_der, uscc=rows[0].bidder_uscc, now=now
            )
            for row in rows:
                row.signed_in_at = row.signed_in_at or now
                row.updated_at = now
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_signed_in",
                subject_type="bidding.tender",
                subject_id=str(tender.id),
                summary={
                    "bidder": rows[0].bidder_uscc,
                    "signer": fingerprint(signature_check.signer_certificate),
                    "statementSha256": hashlib.sha256(statement).hexdigest(),
                },
                data={"statement": statement.decode(), "signature": base64.b64encode(signature_der).decode()},
                project_code=code,
            )
            signed = sum(1 for r in await repository.bid_rows(session, opening) if r.signed_in_at is not None)
            publish_after_commit(
                session, code, {"type": "signed-in", "state": opening.stage.value, "at": now, "signedIn": signed}
            )
            return rows
