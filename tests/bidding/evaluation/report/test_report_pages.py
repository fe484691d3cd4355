"""The report's pages and API through the real application: a member opens the report page (in
Chinese, with the ``ggzy bid sign-report`` command), uploads a signature by an outsider (refused,
the rule named on the page) and then their own (accepted); the result page and the report are
404 / refused before publication and public after it; the page reads in English with the switch.
"""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.sdk import sign_report as client_sign
from bidding.evaluation.models import Member
from certs.tsa.client import LocalTsa
from tests.bidding.evaluation.pool.test_pages import log_in
from tests.bidding.evaluation.report.test_report_signing import current_pdf, sign_as
from tests.bidding.evaluation.report.world import Signer, World
from tests.trading.parties.factories import api_token, bearer, create_account, csrf_token
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.parties.models import CertificateBinding


async def member_account(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, world: World, signer: Signer
) -> tuple[Signer, object]:
    """Give the member a real expert account (role and password) and move their binding to it."""
    account = await create_account(session_maker, settings, Role.EXPERT)
    async with session_maker() as session:
        await session.execute(sa.update(Member).where(Member.id == signer.member_id).values(user_id=account.user_id))
        await session.execute(
            sa.update(CertificateBinding)
            .where(CertificateBinding.user_id == signer.user_id)
            .values(user_id=account.user_id)
        )
        await session.commit()
    return Signer(signer.member_id, account.user_id, signer.name, signer.identity), account


async def test_a_member_signs_on_the_page_and_the_result_becomes_public(  # noqa: PLR0917 - the fixtures it needs
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    world: World,
) -> None:
    me, account = await member_account(session_maker, settings, world, world.signers[0])
    report_url = f"/evaluation/e/{world.evaluation_id}/report"
    result_url = f"/evaluation/e/{world.evaluation_id}/result"
    assert (await client.get(result_url)).status_code == 404
    assert (await client.get(f"/evaluation/e/{world.evaluation_id}/report.pdf")).status_code == 403
    await log_in(client, account)  # type: ignore[arg-type]
    listing = await client.get("/evaluation/reports")
    assert listing.status_code == 200
    assert report_url in listing.text
    assert "评标报告" in listing.text
    page = await client.get(report_url)
    assert page.status_code == 200, page.text
    assert "ggzy bid sign-report" in page.text
    assert "拒绝签字" in page.text
    downloaded = await client.get(f"/evaluation/e/{world.evaluation_id}/report.pdf")
    assert downloaded.status_code == 200
    assert downloaded.content == await current_pdf(session_maker, store, world)

    forged = await client_sign(downloaded.content, world.outsider.identity.signing(), tsa=dev_tsa)
    refused = await client.post(
        f"{report_url}/signatures",
        data={"_csrf_token": csrf_token(page.text)},
        files={"pdf": ("report-signed.pdf", forged, "application/pdf")},
    )
    assert refused.status_code == 422
    assert 'data-rule="signer-not-member"' in refused.text
    assert "不是本评标委员会成员" in refused.text

    signed = await client_sign(downloaded.content, me.identity.signing(), tsa=dev_tsa)
    accepted = await client.post(
        f"{report_url}/signatures",
        data={"_csrf_token": csrf_token(page.text)},
        files={"pdf": ("report-signed.pdf", signed, "application/pdf")},
    )
    assert accepted.status_code == 303, accepted.text
    after = await client.get(report_url)
    assert f'data-member="{me.member_id}" data-state="signed"' in after.text
    assert 'id="sign-form"' not in after.text  # answered once

    for signer in world.signers[1:]:
        await sign_as(session_maker, settings, store, dev_tsa, world, signer)
    await client.get("/logout")
    client.cookies.clear()
    public = await client.get(result_url)
    assert public.status_code == 200, public.text
    assert "南京甲建设工程有限公司" in public.text
    assert all(s.name in public.text for s in world.signers)  # the committee's names are public now
    assert (await client.get(f"/evaluation/e/{world.evaluation_id}/report.pdf")).status_code == 200
    api = await client.get(f"/api/v1/evaluation/e/{world.evaluation_id}/result")
    assert api.status_code == 200
    body = api.json()
    assert [c["rank"] for c in body["candidates"]] == [1, 2, 3]
    assert body["candidates"][0]["total"] == "90.50"
    await client.get("/locale/en", params={"next": result_url})
    english = await client.get(result_url)
    assert "Evaluation result" in english.text


async def test_the_api_takes_a_signature_and_a_refusal(  # noqa: PLR0917 - the fixtures it needs
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    world: World,
) -> None:
    me, account = await member_account(session_maker, settings, world, world.signers[0])
    other, other_account = await member_account(session_maker, settings, world, world.signers[1])
    token = await api_token(client, account)  # type: ignore[arg-type]
    pdf = await client.get(f"/api/v1/evaluation/e/{world.evaluation_id}/report.pdf", headers=bearer(token))
    assert pdf.status_code == 200
    signed = await client_sign(pdf.content, me.identity.signing(), tsa=dev_tsa)
    answer = await client.post(
        f"/api/v1/evaluation/e/{world.evaluation_id}/report/signatures",
        content=signed,
        headers={**bearer(token), "Content-Type": "application/pdf"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["signatures"] == 1
    again = await client.post(
        f"/api/v1/evaluation/e/{world.evaluation_id}/report/signatures",
        content=signed,
        headers={**bearer(token), "Content-Type": "application/pdf"},
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["rule"] == "answers-once"
    other_token = await api_token(client, other_account)  # type: ignore[arg-type]
    refusal = await client.post(
        f"/api/v1/evaluation/e/{world.evaluation_id}/report/refusal", json={"dissent": ""}, headers=bearer(other_token)
    )
    assert refusal.status_code == 201, refusal.text
    assert refusal.json()["dissent"] is False
    del other


async def test_an_expert_outside_the_committee_cannot_read_the_report_before_the_result(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    outsider = await create_account(session_maker, settings, Role.EXPERT)
    await log_in(client, outsider)
    page = await client.get(f"/evaluation/e/{world.evaluation_id}/report")
    assert page.status_code == 403
    assert "committee-member" in page.text
    pdf = await client.get(f"/evaluation/e/{world.evaluation_id}/report.pdf")
    assert pdf.status_code == 403
    token = await api_token(client, outsider)
    api = await client.get(f"/api/v1/evaluation/e/{world.evaluation_id}/report.pdf", headers=bearer(token))
    assert api.status_code == 403
    assert api.json()["errors"][0]["rule"] == "committee-member"
    assert (await client.get(f"/api/v1/evaluation/e/{world.evaluation_id}/result")).status_code == 404
    listing = await client.get("/evaluation/reports")
    assert str(world.evaluation_id) not in listing.text


async def test_a_supervisor_sees_who_answered_but_not_the_report_before_the_result(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, world: World
) -> None:
    supervisor = await create_account(session_maker, settings, Role.SUPERVISOR)
    await log_in(client, supervisor)
    page = await client.get(f"/evaluation/e/{world.evaluation_id}/report")
    assert page.status_code == 200
    assert world.signers[3].name in page.text
    assert 'data-state="pending"' in page.text
    assert 'id="sign-form"' not in page.text
    assert (await client.get(f"/evaluation/e/{world.evaluation_id}/report.pdf")).status_code == 403
