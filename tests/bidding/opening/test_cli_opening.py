"""``ggzy bid object``, ``confirm`` and ``sign-record`` as bidders and the host run them, against a
real ``ggzy serve`` (`tests.bidding.harness`: development PKI, three bidders, a published tender).
Once the server is up the tender row's deadline (a day away from `harness.prepare`) is moved to a
minute away, the tiny bids are sealed for it and submitted, and the test moves the server's clock
past the deadline once (test mode's clock file, `harness.open_at_deadline`) instead of waiting.

The opening is driven as in the hall: the deadline sweep opens it, the host's transitions move the
stages (no further clock shift), the bidders decrypt with the client SDK. The commands run through click's
`CliRunner` (in a thread: they start their own event loops), each against the server over HTTP.

Checked: an objection filed with ``object`` is listed by the API with its text, and the stored
signature verifies over `format.objection_statement` with the bidder's certificate; another
bidder's certificate is refused by name (``signer-not-bidder``); ``confirm`` refuses a table other
than the reviewed one locally (nothing reaches the server: no confirmation, no audited refusal), then
records a confirmation naming the current price table's digest; ``sign-record`` appends the host's
signature to the platform-signed record so that both verify (pyHanko and pdfsig) and the platform
accepts it as the published record.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.cli import bid
from bidding.client.sdk import price_table_sha256, sign_statement_async
from bidding.client.transport import BidClient, decrypt_bid
from bidding.models import Tender
from bidding.opening.models import Confirmation, Objection
from bidding.opening.record import publish_record
from certs.devpki.pki import DevPki, Identity, Profile, organisation_code_extension
from certs.devpki.pki import organisation_name as subject_name
from certs.sign.cades import verify_detached
from certs.sign.pades import verify_pdf
from tests.bidding import harness
from tests.trading.kernel.test_pdf import warm_renderer
from tests.trading.parties.factories import csrf_token
from tests.trading.parties.test_records import pdfsig
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.storage import FileStore
from trading.ledger.models import LedgerEntry
from trading.parties.certificates.trust import trust_context
from trading.parties.models import Organisation, User

LOT = "001"
P12_PASSWORD = "secret"
SUBMISSION_SECONDS = 60  # sealing and submitting three 1 KiB bids fit well inside; nothing waits for it
OBJECTION = "对第二名投标人的工期有异议：\n开标一览表中的工期与投标函不一致，请主持人核实。"


async def _ggzy(*args: str) -> Result:
    """``ggzy bid ARGS`` in-process (a thread: the commands run their own event loops)."""
    return await asyncio.to_thread(CliRunner().invoke, bid, list(args), catch_exceptions=False)


def _host_identity(setup: harness.SubmissionSetup, name: str, uscc: str) -> Identity:
    """The host organisation's signing certificate (the harness issues certificates to bidders only)."""
    return setup.pki.jiangsu_ca.issue(
        subject_name(name, uscc, "江苏省", uscc_in_subject=False),
        profile=Profile.SIGN,
        not_before=setup.pki.now - timedelta(days=30),
        not_after=setup.pki.now + timedelta(days=365),
        extensions=[organisation_code_extension(uscc)],
    )


async def _ledger_actions(session_maker: async_sessionmaker[AsyncSession], code: str, prefix: str) -> list[str]:
    async with session_maker() as session:
        rows = await session.scalars(
            select(LedgerEntry.action)
            .where(LedgerEntry.chain == f"project:{code}", LedgerEntry.action.startswith(prefix))
            .order_by(LedgerEntry.seq)
        )
        return list(rows)


async def _count(session_maker: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with session_maker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _transition(http: httpx.AsyncClient, url: str, host: str, action: str) -> None:
    moved = await http.post(f"{url}/transitions", json={"action": action}, headers=_auth(host))
    assert moved.status_code == 200, moved.text
    assert moved.json()["stage"] == action


async def _log_in(browser: httpx.AsyncClient, username: str) -> None:
    form = await browser.get("/login")
    response = await browser.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": username, "password": harness.PASSWORD}
    )
    assert response.status_code == 303, response.text


def _pre(page: str, element_id: str) -> str:
    """The text of ``<pre id=…><code>…</code></pre>`` on a page, unescaped."""
    match = re.search(rf'<pre id="{element_id}"[^>]*><code>(.*?)</code></pre>', page, re.DOTALL)
    assert match, f"no #{element_id} on the page"
    return html.unescape(match.group(1))


def _lines_shown(stderr: str, bidders: Sequence[harness.BidderAccount], digest: str) -> None:
    for account in bidders:
        [line] = [line for line in stderr.splitlines() if account.uscc in line]
        assert f"{980000 + account.index}.00 CNY" in line, line
        assert "decrypted" in line, line
        assert account.name in line, line
    assert f"priceTableSha256: {digest}" in stderr


async def test_object_confirm_and_sign_record_with_the_cli(  # noqa: PLR0915 - one opening, start to record
    fresh_db: str, dev_pki: DevPki, tmp_path: Path
) -> None:
    # The server runs in its own process and its clock moves only to the deadline: the minimum
    # objection and confirmation windows are configured to zero here; test_opening_rules.py checks the
    # minimum itself.
    setup = await harness.prepare(
        fresh_db,
        tmp_path / "var",
        bidders=3,
        pki=dev_pki,
        rules={"opening_objection_minutes": 0, "opening_confirmation_minutes": 0},
    )
    code = setup.tender.code
    first, second = setup.bidders[0], setup.bidders[1]
    work = tmp_path / "work"
    work.mkdir()
    for account in setup.bidders:
        (work / f"sign-{account.index}.p12").write_bytes(account.sign.pkcs12(P12_PASSWORD.encode(), "sign"))
    objection_file = work / "异议.txt"
    objection_file.write_text(f"\n{OBJECTION}\n", encoding="utf-8")  # filed stripped, as the form does

    engine = create_engine(setup.db_url)
    session_maker = create_session_maker(engine)
    try:
        async with session_maker() as session:
            tender = await session.get_one(Tender, setup.tender.id)
            host_org = await session.get_one(Organisation, tender.tenderee_organisation_id)
            first_username = (await session.get_one(User, first.user_id)).username
            second_username = (await session.get_one(User, second.user_id)).username
        host_sign = _host_identity(setup, host_org.name, host_org.uscc)
        (work / "host.p12").write_bytes(host_sign.pkcs12(P12_PASSWORD.encode(), "host"))

        with harness.running_server(setup, tmp_path / "server.log") as server:
            base = server.base_url
            url = f"{base}/api/v1/bidding/opening/{code}"
            async with httpx.AsyncClient(timeout=60) as http:
                setup = await harness.deadline_soon(setup, SUBMISSION_SECONDS)
                bids = [
                    await asyncio.to_thread(harness.build_bid, setup, account, LOT, tmp_path / "bids", size_bytes=1024)
                    for account in setup.bidders
                ]
                for account, built in zip(setup.bidders, bids, strict=True):
                    attempt = await harness.submit_bid(http, base, harness.Attempt(account, LOT, built))
                    assert attempt.receipt is not None, f"submitted too late for the deadline? {attempt.error}"
                await harness.open_at_deadline(setup)
                host = await harness.host_token(setup)

                # --- ggzy bid sign-in: takes our USCC from our receipts, signs the statement, signs in ---
                signed_in = await _ggzy(
                    "sign-in", "--server", base, "--user", first_username, "--password", harness.PASSWORD,
                    "--tender", code, "--p12", str(work / "sign-0.p12"), "--p12-password", P12_PASSWORD,
                )  # fmt: skip
                assert signed_in.exit_code == 0, signed_in.output + signed_in.stderr
                assert json.loads(signed_in.stdout)["bidder"] == first.uscc
                for account in setup.bidders[1:]:
                    await harness.sign_in_over_http(http, base, account, code)
                assert (await http.get(url)).json()["bids"]["signedIn"] == len(setup.bidders)

                # The host opens the decryption window; every bidder decrypts (keys unwrapped here).
                await _transition(http, url, host, "decryption")
                for account in setup.bidders:
                    async with BidClient(base, account.token) as client:
                        await decrypt_bid(client, code, LOT, account.uscc, account.enc.key)
                assert (await http.get(url)).json()["stage"] == "price-reading"
                await _transition(http, url, host, "confirmation")

                # --- ggzy bid object: logs in, takes our USCC from our receipts, signs, files ---
                filed = await _ggzy(
                    "object", "--server", base, "--user", first_username, "--password", harness.PASSWORD,
                    "--tender", code, "--text-file", str(objection_file),
                    "--p12", str(work / "sign-0.p12"), "--p12-password", P12_PASSWORD,
                )  # fmt: skip
                assert filed.exit_code == 0, filed.output + filed.stderr
                answer = json.loads(filed.stdout)
                statement = fmt.objection_statement(code, first.uscc, OBJECTION)
                assert answer["bidder"] == first.uscc
                assert answer["text"] == OBJECTION
                assert answer["statementSha256"] == hashlib.sha256(statement).hexdigest()
                listed = (await http.get(url, headers=_auth(host))).json()["objections"]
                assert [(o["id"], o["text"], o["bidder"]) for o in listed] == [(answer["id"], OBJECTION, first.name)]
                async with session_maker() as session:
                    stored = await session.scalar(select(Objection))
                assert stored is not None
                assert str(stored.id) == answer["id"]
                signed = verify_detached(statement, stored.signature)  # the stored signature, over the statement
                assert signed.signer_certificate == first.sign.certificate
                # The hall names the signing certificate (its SHA-256) next to the objection.
                fingerprint = hashlib.sha256(first.sign.certificate.public_bytes(Encoding.DER)).hexdigest()
                assert listed[0]["signerSha256"] == fingerprint

                # Another bidder's certificate for the first bidder: refused by the platform, by name.
                forged = await _ggzy(
                    "object", "--server", base, "--token", first.token, "--tender", code, "--bidder", first.uscc,
                    "--text", "以他人证书签署的异议", "--p12", str(work / "sign-1.p12"), "--p12-password", P12_PASSWORD,
                )  # fmt: skip
                assert forged.exit_code == 1
                assert "(signature: signer-not-bidder)" in forged.stderr, forged.stderr
                assert second.name in forged.stderr  # who actually signed
                assert await _count(session_maker, Objection) == 1
                assert await _ledger_actions(session_maker, code, "bidding.opening_objection_refused") == [
                    "bidding.opening_objection_refused"
                ]

                # --- ggzy bid confirm ---
                view = (await http.get(url, headers=_auth(first.token))).json()
                digest = view["priceTableSha256"]
                assert price_table_sha256(view["priceTable"]) == digest
                changed = await _ggzy(
                    "confirm", "--server", base, "--token", first.token, "--tender", code,
                    "--p12", str(work / "sign-0.p12"), "--p12-password", P12_PASSWORD, "--expect-sha256", "0" * 64,
                )  # fmt: skip
                assert changed.exit_code == 1
                assert "nothing sent" in changed.stderr
                assert "(priceTableSha256: expect-sha256)" in changed.stderr, changed.stderr
                _lines_shown(changed.stderr, setup.bidders, digest)  # shown, so the change can be seen
                assert await _count(session_maker, Confirmation) == 0
                assert await _ledger_actions(session_maker, code, "bidding.opening_confirm") == []  # never posted

                confirmed = await _ggzy(
                    "confirm", "--server", base, "--token", first.token, "--tender", code,
                    "--p12", str(work / "sign-0.p12"), "--p12-password", P12_PASSWORD,
                    "--expect-sha256", digest.upper(),
                )  # fmt: skip
                assert confirmed.exit_code == 0, confirmed.output + confirmed.stderr
                _lines_shown(confirmed.stderr, setup.bidders, digest)
                assert "<- us" in next(line for line in confirmed.stderr.splitlines() if first.uscc in line)
                receipt = json.loads(confirmed.stdout)
                assert receipt["priceTableSha256"] == digest
                assert receipt["bidder"] == first.uscc
                assert receipt["signerSha256"] == hashlib.sha256(first.sign.cert_der).hexdigest()
                async with session_maker() as session:
                    [confirmation] = list(await session.scalars(select(Confirmation)))
                assert json.loads(confirmation.statement)["priceTableSha256"] == digest
                assert confirmation.statement == fmt.confirmation_statement(code, first.uscc, digest)
                assert hashlib.sha256(confirmation.statement).hexdigest() == receipt["statementSha256"]
                assert verify_detached(confirmation.statement, confirmation.signature).signer_certificate == (
                    first.sign.certificate
                )
                again = await _ggzy(
                    "confirm", "--server", base, "--token", first.token, "--tender", code,
                    "--p12", str(work / "sign-0.p12"), "--p12-password", P12_PASSWORD,
                )  # fmt: skip
                assert again.exit_code == 1
                assert "(actor: confirmed-once)" in again.stderr, again.stderr

                # The bidder's page names the commands and shows the exact statements; a signature
                # pasted there (made over the statement as shown) is still accepted.
                async with httpx.AsyncClient(base_url=base, timeout=60) as browser:
                    await _log_in(browser, second_username)
                    seat = await browser.get(f"/bidding/opening/{code}/bidder")
                    assert seat.status_code == 200, seat.text
                    page = seat.text
                    assert "由投标工具一步完成签名和提交" in page  # zh_CN by default
                    objection_command = _pre(page, "objection-command")
                    assert objection_command.startswith("ggzy bid object")
                    assert f"--tender {code}" in objection_command
                    assert f"--bidder {second.uscc}" in objection_command
                    template = _pre(page, "objection-statement")
                    text = '他人的"报价"\n有误'
                    assert template.replace('"<objection text>"', json.dumps(text, ensure_ascii=False)).encode() == (
                        fmt.objection_statement(code, second.uscc, text)
                    )
                    assert f"--expect-sha256 {digest}" in _pre(page, "confirm-command")
                    shown = _pre(page, "confirmation-statement").encode()
                    assert shown == fmt.confirmation_statement(code, second.uscc, digest)
                    pasted = await browser.post(
                        f"/bidding/opening/{code}/bidder/confirmation",
                        data={
                            "_csrf_token": csrf_token(page),
                            "signature": base64.b64encode(
                                await sign_statement_async(shown, second.sign.signing())
                            ).decode(),
                        },
                    )
                    assert pasted.status_code == 303, pasted.text
                assert await _count(session_maker, Confirmation) == 2

                # The host answers and closes; the record is rendered and platform-signed (the job, here).
                answered = await http.post(
                    f"{url}/objections/{answer['id']}/answer", json={"answer": "以投标函为准。"}, headers=_auth(host)
                )
                assert answered.status_code == 200, answered.text
                await _transition(http, url, host, "closed")
                warm_renderer()
                settings = harness.harness_settings(setup.db_url, setup.var)
                record_sha256 = await publish_record(session_maker, settings, FileStore(setup.storage_dir), code)
                assert record_sha256 is not None
                platform_pdf = (await http.get(f"{url}/record.pdf", headers=_auth(host))).content
                assert hashlib.sha256(platform_pdf).hexdigest() == record_sha256
                (work / "record.pdf").write_bytes(platform_pdf)

                # --- ggzy bid sign-record: the host's incremental, timestamped signature ---
                signed_record = await _ggzy(
                    "sign-record", "--p12", str(work / "host.p12"), "--password", P12_PASSWORD,
                    "--in", str(work / "record.pdf"), "--out", str(work / "signed.pdf"), "--tsa", f"{base}/api/v1/tsa",
                )  # fmt: skip
                assert signed_record.exit_code == 0, signed_record.output + signed_record.stderr
                both = (work / "signed.pdf").read_bytes()
                assert both.startswith(platform_pdf)
                async with session_maker() as session:
                    context = await trust_context(session, settings, await setup.clock.now(session))
                    reports = await verify_pdf(both, context.validator)
                assert [r.passed for r in reports] == [True, True], [r.message for r in reports]
                assert reports[1].timestamp_time is not None
                assert reports[1].signer == host_sign.certificate.subject.rfc4514_string()
                (tmp_path / "pdfsig").mkdir()
                checked = pdfsig(both, tmp_path / "pdfsig", (setup.dev_ca_dir, {}))
                assert checked.count("Signature Validation: Signature is Valid.") == 2, checked
                assert "Signature #3" not in checked

                # The platform takes it as the host's signature: the record becomes public.
                uploaded = await http.post(
                    f"{url}/record/host-signature",
                    content=both,
                    headers={**_auth(host), "Content-Type": "application/pdf"},
                )
                assert uploaded.status_code == 201, uploaded.text
                assert uploaded.json()["previousSha256"] == record_sha256
                public = await http.get(f"{url}/record.pdf")
                assert public.status_code == 200
                assert public.content == both
    finally:
        await engine.dispose()
