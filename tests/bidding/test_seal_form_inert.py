"""The upload page's in-browser sealing form (``#seal-form``, ``static/js/seal.js``) holds the bid's
plaintext: the prices and the package files. The script seals them in the page; if the form is ever
submitted natively (Enter in a field before the module script has run, or the script failed) the
browser sends its named controls to the form's action (here a GET of the page itself, so the prices
would land in the URL, the server's access log and the history). None of its controls may
therefore carry a ``name``: a native submission then sends nothing of the bid.
"""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.models import Tender
from tests.bidding.factories import Party, published_tender
from tests.bidding.test_web import log_in
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")

CONTROLS = frozenset({"input", "textarea", "select", "button"})


class _SealForm(HTMLParser):
    """The controls inside ``<form id="seal-form">``: (tag, id, name)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.controls: list[tuple[str, str | None, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.inside = values.get("id") == "seal-form"
        elif self.inside and tag in CONTROLS:
            self.controls.append((tag, values.get("id"), values.get("name")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


@pytest.fixture
async def tender(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore, owner: Party
) -> Tender:
    return await published_tender(session_maker, settings, store, owner, title="密封表单不提交明文")


async def test_a_native_submission_of_the_seal_form_sends_no_price_or_file(
    client: httpx.AsyncClient, tender: Tender, bidder: Party
) -> None:
    await log_in(client, bidder)
    page = await client.get(f"/bidding/tenders/{tender.project_code}/lots/L1/bid")
    assert page.status_code == 200
    form = _SealForm()
    form.feed(page.text)
    ids = {control_id for _, control_id, _ in form.controls}
    # The plaintext fields are there (the parse is not blind) ...
    assert {"seal-total-price", "seal-duration-days", "seal-items", "seal-files"} <= ids
    # ... and none of the form's controls would be sent by the browser.
    assert [control for control in form.controls if control[2]] == []
