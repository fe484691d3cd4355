"""``ggzy bid sign-report``: a member signs the downloaded report with their PKCS#12 file; the
platform accepts the output as that member's signature (the TSA is the in-process one here, in
place of the HTTP TSA the command names)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import cli_hall
from bidding.client.cli import bid
from bidding.evaluation.report.service import sign_report
from certs.tsa.client import LocalTsa
from tests.bidding.evaluation.report.test_report_signing import current_pdf
from tests.bidding.evaluation.report.world import World
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

P12_PASSWORD = "member-p12"


async def test_sign_report_signs_the_current_revision_as_the_member(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    member = world.signers[0]
    monkeypatch.setattr(cli_hall, "HttpTsa", lambda _url: dev_tsa)
    (tmp_path / "me.p12").write_bytes(member.identity.pkcs12(P12_PASSWORD.encode()))
    (tmp_path / "report.pdf").write_bytes(await current_pdf(session_maker, store, world))
    args = [
        "sign-report", "--p12", str(tmp_path / "me.p12"), "--password", P12_PASSWORD,
        "--in", str(tmp_path / "report.pdf"), "--out", str(tmp_path / "signed.pdf"),
        "--tsa", "https://ggzy.invalid/api/v1/tsa",
    ]  # fmt: skip
    result = await asyncio.to_thread(CliRunner().invoke, bid, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "signed.pdf" in result.output
    signed = (tmp_path / "signed.pdf").read_bytes()
    async with transaction(session_maker, lock=True) as session:
        answer = await sign_report(
            session, settings, store=store, actor=member.actor, evaluation_id=world.evaluation_id, pdf=signed
        )
    assert answer["signatures"] == 1
