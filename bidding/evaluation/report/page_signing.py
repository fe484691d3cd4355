"""A committee member signs the evaluation report in the page (besides ``ggzy bid sign-report``).

The platform's mechanism (`trading.parties.pdf_signing`) in two steps, each in the caller's
transaction:

* `prepare_report_signature`: for a current member who has not answered, in ``report-signing``, the
  current revision is prepared for a signature by the certificate the page sent, in the member's own
  field (``Member-`` and the first 16 hex digits of the certificate's SHA-256, as the CLI names it);
  purpose ``evaluation.report``, subject the evaluation.
* `finish_report_signature`: the page's CMS finishes that signature (checked, timestamped by the
  platform TSA) and the signed PDF goes through `sign_report` exactly as an upload does: current
  revision as prefix, one new signature, trust list, the signer bound to the member who signs.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import SessionState
from bidding.evaluation.report.service import report_pdf, report_status, sign_report
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import Conflict, PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.parties.pdf_signing import PreparedSignature, finish_pdf_signature, prepare_pdf_signature

PURPOSE: Final = "evaluation.report"
FIELD_PREFIX: Final = "Member"
REASON: Final = "评标委员会成员签署评标报告"


def field_name(certificate: x509.Certificate) -> str:
    """The member's signature field, as ``bidding.client.sdk.report_field_name`` names it."""
    return f"{FIELD_PREFIX}-{hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()[:16]}"


async def prepare_report_signature(
    session: AsyncSession, store: Store, *, actor: Actor, evaluation_id: uuid.UUID, certificate: x509.Certificate
) -> PreparedSignature:
    """The current revision prepared for the actor's signature in the page."""
    status = await report_status(session, actor, evaluation_id, overseers=False)
    mine = next((a for a in status.answers if a.member_id == status.me), None)
    if mine is None:
        raise PermissionDenied(
            "only a current member of the evaluation committee signs its report",
            field="evaluation",
            rule="committee-member",
        )
    if status.state is not SessionState.REPORT_SIGNING:
        raise Conflict(
            f"the report is signed in the report-signing state, not in {status.state.value}",
            field="state",
            rule="report-signing",
        )
    if mine.state != "pending":
        raise Conflict("you have already answered the report", field="report", rule="answers-once")
    pdf = await report_pdf(session, store, actor, evaluation_id)
    return await prepare_pdf_signature(
        session,
        actor=actor,
        purpose=PURPOSE,
        subject_id=str(evaluation_id),
        pdf=pdf,
        certificate=certificate,
        field_name=field_name(certificate),
        reason=REASON,
    )


async def finish_report_signature(
    session: AsyncSession,
    settings: Settings,
    store: Store,
    *,
    actor: Actor,
    evaluation_id: uuid.UUID,
    prepared_id: str,
    signature_cms: bytes,
) -> dict[str, object]:
    """Finish the page's signature and store it as `sign_report` stores an uploaded one."""
    signed = await finish_pdf_signature(
        session,
        settings,
        actor=actor,
        request_id=prepared_id,
        purpose=PURPOSE,
        subject_id=str(evaluation_id),
        signature_cms=signature_cms,
    )
    answer = await sign_report(session, settings, store=store, actor=actor, evaluation_id=evaluation_id, pdf=signed.pdf)
    return {**answer, "inPage": True}
