"""The hall's forms on the kernel's form path (`trading.kernel.web.forms.submit`): a refused host
action re-renders the desk with status 422, naming the field and the rule through the hall's label
table; an accepted one answers 303 back to the desk (its named route)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.sdk import content_keys, sign_statement_async
from certs.devpki.pki import DevPki
from tests.bidding.factories import Party
from tests.bidding.opening.hall_support import host_transition, sign_in_hall, three_bids_at_sign_in
from tests.trading.parties.factories import PASSWORD, csrf_token
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A browser with its own cookie jar over the same app."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def _log_in(browser: httpx.AsyncClient, party: Party) -> str:
    form = await browser.get("/login")
    response = await browser.post(
        "/login",
        data={"_csrf_token": csrf_token(form.text), "username": party.account.username, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text
    return str(browser.cookies["ggzy_csrf"])


async def test_the_host_desk_refuses_with_422_and_the_rule_and_redirects_when_accepted(
    *,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    setup = await three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    transitions = f"/bidding/opening/{setup.code}/host/transitions"
    with clock.use_clock(setup.shifted):  # logged in on the hall's clock, or the session has expired
        csrf = await _log_in(browser, setup.tenderee)
        desk = await browser.get(f"/bidding/opening/{setup.code}/host")
        assert desk.status_code == 200, desk.text
        assert f'action="{transitions}"' in desk.text  # url_for gives the same path

        unknown = await browser.post(
            transitions, data={"action": "fly", "reason": "原因甲"}, headers={"x-csrftoken": csrf}
        )
        assert unknown.status_code == 422, unknown.text
        assert 'data-rule="enum"' in unknown.text
        assert 'href="#field-action"' in unknown.text
        assert "原因甲" in unknown.text  # the form comes back as it was sent

        paused = await browser.post(
            transitions, data={"action": "pause", "reason": "网络故障"}, headers={"x-csrftoken": csrf}
        )
        assert paused.status_code == 303, paused.text
        assert paused.headers["location"] == f"/bidding/opening/{setup.code}/host"

        again = await browser.post(
            transitions, data={"action": "pause", "reason": "再次"}, headers={"x-csrftoken": csrf}
        )
        assert again.status_code == 422, again.text
        assert 'data-rule="pausable"' in again.text


async def test_the_bidder_seat_gives_the_exact_statements_the_page_signs(
    *,
    app: Litestar,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    """What ``static/js/pki/sign-form.js`` signs: the sign-in statement and an objection's statement for the
    text as the objection form reads it (trimmed, CRLF kept), each for the bidder's own USCC; a
    signature made over it is accepted by the form. Others get 404, without the CSRF token 403.
    """
    setup = await three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    bidder = setup.bidders["A"]
    seat = f"/bidding/opening/{setup.code}/bidder"
    with clock.use_clock(setup.shifted):
        csrf = await _log_in(browser, bidder)
        page = await browser.get(seat)
        assert page.status_code == 200, page.text
        assert f'data-statement-url="{seat}/sign-in-statement"' in page.text
        assert f'data-statement-url="{seat}/objection-statement"' in page.text
        assert 'data-pki-picker="sign"' in page.text

        sign_in = await browser.get(f"{seat}/sign-in-statement")
        assert sign_in.status_code == 200, sign_in.text
        assert sign_in.content == fmt.sign_in_statement(setup.code, bidder.uscc)

        text = '  报价"有误"\r\n第二行  '
        statement = await browser.post(
            f"{seat}/objection-statement", data={"text": text}, headers={"x-csrftoken": csrf}
        )
        assert statement.status_code == 200, statement.text
        assert statement.content == fmt.objection_statement(setup.code, bidder.uscc, text.strip())
        assert (await browser.post(f"{seat}/objection-statement", data={"text": text})).status_code == 403

        signature = await sign_statement_async(sign_in.content, bidder.sign.signing())
        signed_in = await browser.post(
            f"{seat}/sign-in",
            data={"signature": base64.b64encode(signature).decode()},
            headers={"x-csrftoken": csrf},
        )
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == seat

        # The tenderee has no seat here: no statement to sign.
        host = httpx.AsyncClient(transport=browser._transport, base_url=str(browser.base_url))
        async with host:
            await _log_in(host, setup.tenderee)
            refused = await host.get(f"{seat}/sign-in-statement")
            assert refused.status_code == 403, refused.text  # a tenderee does not attend as a bidder


async def test_the_bidder_seat_serves_its_envelopes_and_takes_a_content_key_unwrapped_in_the_browser(
    *,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    """The JSON routes `hall_decrypt.js` drives (cookie session and CSRF): the bidder's own envelope
    headers, as the API serves them, and the content key of one part, as ``ggzy bid decrypt`` sends
    it; refusals name field and rule with a sentence in the reader's language."""
    setup = await three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    bidder = setup.bidders["A"]
    assert bidder.encrypt is not None
    seat = f"/bidding/opening/{setup.code}/bidder"
    key = base64.b64encode(bytes(32)).decode()
    with clock.use_clock(setup.shifted):
        csrf = await _log_in(browser, bidder)
        page = await browser.get(seat)
        assert f'data-envelopes-url="{seat}/envelopes"' in page.text
        assert f'data-decrypt-url="{seat}/decryption"' in page.text

        listed = await browser.get(f"{seat}/envelopes")
        assert listed.status_code == 200, listed.text
        envelopes = listed.json()
        api = await setup.clients["A"].envelopes(setup.code)
        assert envelopes == api
        assert [e["lot"] for e in envelopes] == ["L1"]
        assert envelopes[0]["parts"][fmt.PRICE_SUMMARY]["header"]["version"] == 2

        async def post(body: object, headers: dict[str, str] | None = None) -> httpx.Response:
            return await browser.post(
                f"{seat}/decryption",
                content=json.dumps(body).encode(),
                headers={"content-type": "application/json", **({"x-csrftoken": csrf} if headers is None else headers)},
            )

        assert (await post({"lot": "L1", "part": fmt.PRICE_SUMMARY, "contentKey": key}, headers={})).status_code == 403
        not_json = await browser.post(f"{seat}/decryption", content=b"[1]", headers={"x-csrftoken": csrf})
        assert not_json.status_code == 422
        assert (not_json.json()["field"], not_json.json()["rule"]) == ("body", "format")
        missing = await post({"lot": "L1", "part": fmt.PRICE_SUMMARY})
        assert (missing.status_code, missing.json()["field"], missing.json()["rule"]) == (422, "contentKey", "required")
        early = await post({"lot": "L1", "part": fmt.PRICE_SUMMARY, "contentKey": key})
        assert early.status_code in {409, 422}, early.text
        assert early.json()["rule"] == "decryption-window"
        assert early.json()["text"] == "只能在解密时段内解密。"  # the reader's language (zh_CN by default)

        await sign_in_hall(setup.clients["A"], setup.code, bidder)
        assert (await host_transition(client, setup, "decryption")).status_code == 200
        wrong = await post({"lot": "L1", "part": fmt.PRICE_SUMMARY, "contentKey": key})
        assert wrong.status_code == 422, wrong.text
        assert wrong.json()["rule"] == "wrong-key"
        keys = content_keys(envelopes[0], bidder.encrypt.key, tender=setup.code, lot="L1", bidder=bidder.uscc)  # type: ignore[arg-type]
        opened = await post(
            {"lot": "L1", "part": fmt.PRICE_SUMMARY, "contentKey": base64.b64encode(keys[fmt.PRICE_SUMMARY]).decode()}
        )
        assert opened.status_code == 200, opened.text
        assert opened.json() == {
            "lot": "L1",
            "priceSummary": "opened",
            "package": "sealed",
            "outcome": "pending",
            "cause": None,
        }

        # Another organisation's user has no seat: refused, and learns nothing.
        await browser.post("/logout", headers={"x-csrftoken": csrf})
        csrf = await _log_in(browser, setup.tenderee)
        assert (await browser.get(f"{seat}/envelopes")).status_code == 403
