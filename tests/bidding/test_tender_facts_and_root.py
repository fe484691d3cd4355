"""Issue 14 items 4 and 9: the tender page names the tenderee and agency, how to reach them, the
opening's time and place (the online hall) and the evaluation criteria; the platform's root
certificate has a public page with its fingerprint and serves the PEM that receipts verify against.
"""

from __future__ import annotations

import re

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from tests.bidding.factories import Party, published_tender
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


def _text(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(dd|code|ul)>', html, re.DOTALL)
    assert found is not None, element_id
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


async def test_the_tender_page_names_the_parties_the_opening_and_the_criteria(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
) -> None:
    tender = await published_tender(session_maker, settings, store, owner, title="某小学教学楼施工招标")
    code = tender.project_code
    page = await client.get(f"/bidding/tenders/{code}")  # anyone: a visitor
    assert page.status_code == 200, page.text
    html = page.text
    assert _text(html, "tenderee") == owner.name
    assert _text(html, "agency") == "无（招标人自行招标）"
    assert 'href="#questions"' in html.split('id="contact"', 1)[1].split("</dd>", 1)[0]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", _text(html, "opening-time"))
    place = html.split('id="opening-place"', 1)[1].split("</dd>", 1)[0]
    assert f'href="/bidding/opening/{code}"' in place
    assert "不见面开标" in place
    assert _text(html, "criteria").split() == ["price：60", "分technical：30", "分credit：10", "分"]


async def test_the_root_certificate_is_public_with_its_fingerprint(client: httpx.AsyncClient, dev_pki: DevPki) -> None:
    root = dev_pki.platform_root.certificate
    fingerprint = root.fingerprint(hashes.SHA256()).hex(":").upper()

    page = await client.get("/bidding/platform-root")
    assert page.status_code == 200, page.text
    assert _text(page.text, "root-sha256") == fingerprint
    assert 'href="/bidding/platform-root/platform_root.pem"' in page.text

    pem = await client.get("/bidding/platform-root/platform_root.pem")
    assert pem.status_code == 200, pem.text
    assert pem.headers["content-type"].startswith("application/x-pem-file")
    assert "platform_root.pem" in pem.headers["content-disposition"]
    assert pem.content == root.public_bytes(serialization.Encoding.PEM)
    served = x509.load_pem_x509_certificate(pem.content)
    assert served.subject == served.issuer  # self-signed: the trust anchor, not the signer

    home = await client.get("/")
    assert 'href="/bidding/platform-root"' in home.text  # the footer links it on every page


async def test_without_a_receipt_key_the_root_page_says_so(
    client: httpx.AsyncClient, settings: Settings, tmp_path: object
) -> None:
    settings.certs.receipt_p12 = settings.var_dir / "no-such.p12"
    page = await client.get("/bidding/platform-root")
    assert page.status_code == 200
    assert 'id="root-missing"' in page.text
    assert (await client.get("/bidding/platform-root/platform_root.pem")).status_code == 404
