"""The report's in-page signing routes through the real application (what ``sign-pdf.js`` sends):
the page offers the form; the prepare route answers JSON (the refusal too, naming field and rule in
Chinese); a tampered signature re-shows the page with 422 and the rule; the right one is stored."""

from __future__ import annotations

import base64

import httpx
from cryptography.hazmat.primitives import serialization
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.sign.cades import sign_detached
from tests.bidding.evaluation.pool.test_pages import log_in
from tests.bidding.evaluation.report.test_report_pages import member_account
from tests.bidding.evaluation.report.world import World
from tests.trading.parties.factories import csrf_token
from trading.kernel.settings import Settings


async def test_the_page_prepares_refuses_a_tampered_signature_and_stores_the_right_one(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: World,
) -> None:
    me, account = await member_account(session_maker, settings, world, world.signers[0])
    report_url = f"/evaluation/e/{world.evaluation_id}/report"
    await log_in(client, account)  # type: ignore[arg-type]
    page = await client.get(report_url)
    assert page.status_code == 200
    assert "data-pki-sign-pdf" in page.text
    assert "在本页签署评标报告" in page.text
    assert "ggzy bid sign-report" in page.text  # the CLI path stays
    token = csrf_token(page.text)
    headers = {"x-csrftoken": token}

    refused = await client.post(
        f"{report_url}/page-signature/prepare", data={"certificate": "bm90IGEgY2VydA=="}, headers=headers
    )
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert (error["field"], error["rule"]) == ("certificate", "certificate_unreadable")
    assert "证书" in error["message"]

    certificate = base64.b64encode(me.identity.certificate.public_bytes(serialization.Encoding.DER)).decode()
    prepared = await client.post(
        f"{report_url}/page-signature/prepare", data={"certificate": certificate}, headers=headers
    )
    assert prepared.status_code == 200, prepared.text
    answer = prepared.json()
    assert answer["digestAlgorithm"] == "sha256"
    cms = bytearray(await sign_detached(base64.b64decode(answer["toSign"]), me.identity.signing()))
    cms[-10] ^= 0x01
    tampered = await client.post(
        f"{report_url}/page-signature",
        data={"_csrf_token": token, "prepared": answer["id"], "signature": base64.b64encode(bytes(cms)).decode()},
    )
    assert tampered.status_code == 422
    assert 'data-rule="bad-signature"' in tampered.text
    assert 'id="signature-count">0<' in tampered.text

    cms[-10] ^= 0x01
    accepted = await client.post(
        f"{report_url}/page-signature",
        data={"_csrf_token": token, "prepared": answer["id"], "signature": base64.b64encode(bytes(cms)).decode()},
    )
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"].endswith(f"{report_url}#answers")
    after = await client.get(report_url)
    assert 'id="signature-count">1<' in after.text
    assert f'data-member="{me.member_id}" data-state="signed"' in after.text

    reused = await client.post(
        f"{report_url}/page-signature",
        data={"_csrf_token": token, "prepared": answer["id"], "signature": base64.b64encode(bytes(cms)).decode()},
    )
    assert reused.status_code == 422
    assert 'data-rule="pdf-signing-reused"' in reused.text
