"""The guarantor API on PostgreSQL with the development PKI: the queue, decisions, the upload of a really
signed guarantee (verified before it is recorded), claims and releases, and each refusal by its reason.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.authority import Profile
from certs.devpki.pki import DevPki, make_uscc, organisation_name
from certs.tsa.client import LocalTsa
from tests.trading.guarantees.api.conftest import Bank, Parties, Signed, apply, onboard
from tests.trading.guarantees.factories import SYSTEM
from trading.guarantees import lifecycle, service
from trading.guarantees.client.issuer import IssuerFacts, build_guarantee
from trading.guarantees.document import Organisation, issue
from trading.guarantees.models import (
    ApplicationStatus,
    ClaimTrigger,
    Guarantee,
    GuaranteeApplication,
    GuaranteeStatus,
    ReleaseReason,
)
from trading.kernel.settings import Settings


def _json(body: object) -> bytes:
    return json.dumps(body).encode()


async def _issue_body(signed: Signed, bank: Bank, number: str, tsa: LocalTsa, **changes: object) -> dict[str, str]:
    """Read the application, build its guarantee (with ``changes``), sign it for real, encode the upload."""
    detail = (await signed.get(f"/applications/{number}")).json()
    guarantee = build_guarantee(detail, IssuerFacts.of(bank.identity.certificate))
    if changes:
        guarantee = replace(guarantee, **changes)  # type: ignore[arg-type]
    issued = await issue(guarantee, bank.identity.signing(), tsa=tsa)
    return {
        "guarantee_no": guarantee.guarantee_no,
        "json": base64.b64encode(issued.json).decode(),
        "cades": base64.b64encode(issued.cades).decode(),
        "pdf": base64.b64encode(issued.pdf).decode(),
    }


def _rules(response: httpx.Response) -> list[str]:
    return [error["rule"] for error in response.json()["errors"]]


async def test_queue_detail_and_decisions(
    signed: Signed, bank: Bank, parties: Parties, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    first = await apply(session_maker, bank, parties)
    second = await apply(session_maker, bank, parties)
    queue = await signed.get("/applications")
    assert queue.status_code == 200, queue.text
    assert [row["application_no"] for row in queue.json()] == [first.application_no, second.application_no]
    detail = (await signed.get(f"/applications/{first.application_no}")).json()
    assert detail["applicant"] == {"name": parties.bidder.name, "uscc": parties.bidder.uscc}
    assert detail["beneficiary"]["uscc"] == parties.tenderee.uscc
    assert (detail["amount"], detail["fee"], detail["valid_until"]) == ("80000.00", "400.00", "2027-03-31")
    assert detail["verification_url"].endswith(f"/guarantees/verify/{detail['verification_code']}")

    approve = await signed.post(f"/applications/{first.application_no}/decision", b'{"decision":"approve"}', key="d-1")
    assert approve.status_code == 200, approve.text
    assert approve.json()["status"] == "paid"
    again = await signed.post(f"/applications/{first.application_no}/decision", b'{"decision":"approve"}', key="d-1")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == approve.content
    reused = await signed.post(f"/applications/{first.application_no}/decision", b'{"decision":"refuse"}', key="d-1")
    assert reused.status_code == 422
    assert _rules(reused) == ["idempotency_key_reused"]

    no_reason = await signed.post(f"/applications/{second.application_no}/decision", b'{"decision":"refuse"}')
    assert no_reason.status_code == 422
    assert _rules(no_reason) == ["required"]
    refuse = await signed.post(
        f"/applications/{second.application_no}/decision", _json({"decision": "refuse", "reason": "额度不足"})
    )
    assert refuse.json()["status"] == "refused"
    assert refuse.json()["refusal_reason"] == "额度不足"
    assert (await signed.get("/applications")).json() == [] or all(
        row["status"] == "paid" for row in (await signed.get("/applications")).json()
    )
    bad_status = await signed.get("/applications", status="lost")
    assert bad_status.status_code == 422
    assert bad_status.json()["errors"][0]["field"] == "status"


async def test_unsigned_replayed_and_missing_key_are_refused(
    signed: Signed, bank: Bank, parties: Parties, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    application = await apply(session_maker, bank, parties)
    unsigned = await signed.http.get("/api/v1/guarantor/applications")
    assert unsigned.status_code == 401
    assert unsigned.json()["type"] == "urn:ggzy:error:request_unsigned"

    url = httpx.URL(f"http://testserver.local/api/v1/guarantor/applications/{application.application_no}/decision")
    body = b'{"decision":"approve"}'
    headers = signed.sign("POST", url, body, {"Content-Type": "application/json", "Idempotency-Key": "k-replay"})
    first = await signed.http.post(url, content=body, headers=headers)
    assert first.status_code == 200, first.text
    replay = await signed.http.post(url, content=body, headers=headers)
    assert replay.status_code == 401
    assert replay.json()["type"] == "urn:ggzy:error:request_replayed"

    no_key = signed.sign("POST", url, body, {"Content-Type": "application/json", "Idempotency-Key": "k-gone"})
    del no_key["Idempotency-Key"]
    missing = await signed.http.post(url, content=body, headers=no_key)
    assert missing.status_code == 400
    assert _rules(missing) == ["idempotency_key_missing"]


async def test_another_guarantors_items_are_not_found_and_a_suspended_guarantor_is_refused(  # noqa: PLR0917 - pytest fixtures
    client: httpx.AsyncClient,
    signed: Signed,
    bank: Bank,
    parties: Parties,
    dev_pki: DevPki,
    settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    uscc = make_uscc(41, "320000")
    other_identity = dev_pki.guarantor_ca.issue(
        organisation_name("南京测试担保有限公司(开发)", uscc, "江苏省", uscc_in_subject=True),
        profile=Profile.DOCUMENT_SIGN,
        not_before=dev_pki.now - timedelta(days=1),
        not_after=dev_pki.now + timedelta(days=365),
    )
    async with session_maker() as session, session.begin():
        other = await onboard(session, settings, other_identity)
    theirs = await apply(session_maker, other, parties)
    mine = await apply(session_maker, bank, parties)
    other_client = Signed(client, other_identity)
    assert [row["application_no"] for row in (await other_client.get("/applications")).json()] == [
        theirs.application_no
    ]
    for path in (f"/applications/{mine.application_no}",):
        hidden = await other_client.get(path)
        assert hidden.status_code == 404
        assert hidden.json()["errors"][0]["field"] == "application_no"
    decide = await other_client.post(f"/applications/{mine.application_no}/decision", b'{"decision":"approve"}')
    assert decide.status_code == 404

    async with session_maker() as session, session.begin():
        await service.suspend(session, SYSTEM, other.guarantor.id)
    suspended = await other_client.get("/applications")
    assert suspended.status_code == 401
    assert suspended.json()["type"] == "urn:ggzy:error:request_certificate_invalid"
    assert "suspended" in suspended.json()["detail"]


async def test_a_signed_guarantee_is_verified_and_recorded(  # noqa: PLR0917 - pytest fixtures
    client: httpx.AsyncClient,
    signed: Signed,
    bank: Bank,
    parties: Parties,
    dev_tsa: LocalTsa,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    application = await apply(session_maker, bank, parties, paid=True)
    body = await _issue_body(signed, bank, application.application_no, dev_tsa)
    response = await signed.post(f"/applications/{application.application_no}/guarantee", _json(body))
    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["guarantee_no"] == body["guarantee_no"]
    async with session_maker() as session:
        guarantee = (
            await session.execute(select(Guarantee).where(Guarantee.application_id == application.id))
        ).scalar_one()
        assert guarantee.status == GuaranteeStatus.ISSUED
        assert guarantee.json_sha256 == recorded["json_sha256"]
        assert guarantee.verification_code == recorded["verification_code"]
        assert (await session.get(GuaranteeApplication, application.id)).status == ApplicationStatus.ISSUED  # type: ignore[union-attr]
    public = await client.get(f"/api/v1/guarantees/verify/{recorded['verification_code']}")
    assert public.status_code == 200
    assert public.json()["guarantee_no"] == body["guarantee_no"]
    detail = (await signed.get(f"/applications/{application.application_no}")).json()
    assert (detail["status"], detail["guarantee_no"]) == ("issued", body["guarantee_no"])


async def test_altered_or_mismatched_guarantees_are_refused_with_their_reasons(
    signed: Signed, bank: Bank, parties: Parties, dev_tsa: LocalTsa, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    application = await apply(session_maker, bank, parties, paid=True)
    path = f"/applications/{application.application_no}/guarantee"
    good = await _issue_body(signed, bank, application.application_no, dev_tsa)
    altered_json = base64.b64decode(good["json"]).replace(b'"80000.00"', b'"8000.00"')
    altered = await signed.post(path, _json({**good, "json": base64.b64encode(altered_json).decode()}))
    assert altered.status_code == 422
    assert "guarantee_signature_invalid" in _rules(altered)

    wrong = await _issue_body(
        signed,
        bank,
        application.application_no,
        dev_tsa,
        amount=Decimal("100.00"),
        beneficiary=Organisation("别的招标人", parties.bidder.uscc),
        lot_code="002",
    )
    mismatch = await signed.post(path, _json(wrong))
    assert mismatch.status_code == 422
    assert {"guarantee_amount_insufficient", "guarantee_beneficiary_mismatch", "guarantee_lot_mismatch"} <= set(
        _rules(mismatch)
    )
    code = await signed.post(
        path,
        _json(
            await _issue_body(
                signed, bank, application.application_no, dev_tsa, verification_code="AAAA-AAAA-AAAA-AAAA"
            )
        ),
    )
    assert _rules(code) == ["verification_code"]
    not_base64 = await signed.post(path, _json({**good, "pdf": "%%%"}))
    assert _rules(not_base64) == ["base64"]
    async with session_maker() as session:
        assert (await session.get(GuaranteeApplication, application.id)).status == ApplicationStatus.PAID  # type: ignore[union-attr]


async def test_claims_are_answered_and_releases_acknowledged(
    signed: Signed, bank: Bank, parties: Parties, dev_tsa: LocalTsa, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    guarantees = []
    for _ in range(2):
        application = await apply(session_maker, bank, parties, paid=True)
        body = await _issue_body(signed, bank, application.application_no, dev_tsa)
        assert (
            await signed.post(f"/applications/{application.application_no}/guarantee", _json(body))
        ).status_code == 201
        async with session_maker() as session:
            guarantees.append(
                (
                    await session.execute(select(Guarantee).where(Guarantee.application_id == application.id))
                ).scalar_one()
            )
    claimed, released = guarantees
    async with session_maker() as session, session.begin():
        claim = await lifecycle.file_claim(
            session,
            SYSTEM,
            claimed.id,
            trigger=ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE,
            claimant_organisation_id=parties.tenderee.id,
            amount=Decimal("80000.00"),
            statement="投标截止后撤回投标文件",
        )
        await lifecycle.request_release(session, SYSTEM, released.id, ReleaseReason.NOT_AWARDED)
    filed = (await signed.get("/claims")).json()
    assert [(row["claim_id"], row["guarantee_no"], row["trigger"]) for row in filed] == [
        (str(claim.id), claimed.guarantee_no, "withdrawal_after_deadline")
    ]
    answered = await signed.post(f"/claims/{claim.id}/answer", _json({"pay": True, "answer": "依约赔付"}))
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "paid"
    twice = await signed.post(f"/claims/{claim.id}/answer", _json({"pay": False, "answer": "再答"}))
    assert twice.status_code == 409
    assert (await signed.get("/claims")).json() == []

    pending = (await signed.get("/releases")).json()
    assert [(row["guarantee_no"], row["reason"]) for row in pending] == [(released.guarantee_no, "not_awarded")]
    ack = await signed.post(f"/releases/{released.guarantee_no}/acknowledge", b"{}")
    assert ack.status_code == 200, ack.text
    assert ack.json()["acknowledged_at"] is not None
    assert (await signed.get("/releases")).json() == []
    assert len((await signed.get("/releases", status="acknowledged")).json()) == 1
    unknown = await signed.post("/releases/BH-NOPE/acknowledge", b"{}")
    assert unknown.status_code == 404
    async with session_maker() as session:
        assert (await session.get(Guarantee, claimed.id)).status == GuaranteeStatus.PAID_OUT  # type: ignore[union-attr]


async def test_approving_records_the_account_the_fee_was_paid_from(
    signed: Signed, bank: Bank, parties: Parties, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    """Issue 19: the approval may name the fee's payer account; a bad one is refused by field and rule."""
    application = await apply(session_maker, bank, parties)
    url = f"/applications/{application.application_no}/decision"
    bad = await signed.post(url, _json({"decision": "approve", "payer_account_no": "12AB", "payer_bank": "工行"}))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "payer_account_no"
    assert _rules(bad) == ["account-number-format"]
    body = {"decision": "approve", "payer_account_no": "6222 0210 0112 3456 789", "payer_bank": "中国工商银行"}
    approved = await signed.post(url, _json(body))
    assert approved.status_code == 200, approved.text
    async with session_maker() as session:
        row = await session.scalar(
            select(GuaranteeApplication).where(GuaranteeApplication.application_no == application.application_no)
        )
    assert row is not None
    assert (row.status, row.payer_account_no, row.payer_bank) == (
        ApplicationStatus.PAID,
        "6222021001123456789",
        "中国工商银行",
    )
