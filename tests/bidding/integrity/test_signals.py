"""Signals captured at the source, end to end on PostgreSQL (issue 19 §1, §3): intake records the
submission address, the opening records the decryption address and each opened file's digest and
authoring metadata, `lot_signals` assembles them, and two bids sealed on one machine raise
EVID-DEVICE through `screen_evidence`."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
import httpx
import pytest
import weasyprint
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.fingerprint import DeviceFingerprint, fingerprint_of
from bidding.client.sdk import PriceSummary, build_container_async
from bidding.client.transport import BidClient, decrypt_bid
from bidding.integrity.screens.evidence import screen_evidence
from bidding.integrity.screens.model import BidSignals, Severity
from bidding.integrity.screens.rules import load_catalogue
from bidding.integrity.signals import LotNotFound, lot_signals
from bidding.models import Bid, BidVersion
from bidding.opening.authoring import authoring_metadata, package_files, stated_pages
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.models import OpeningBid
from bidding.opening.services.decrypting import parties_of
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client
from tests.bidding.factories import Party, bidder_party, published_tender, tenderee_party
from tests.bidding.opening.hall_support import sign_in_hall
from tests.bidding.test_web import log_in
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep

pytestmark = pytest.mark.usefixtures("dev_lists")

SHARED_MACHINE = fingerprint_of({"machine-id": "0123456789abcdef", "mac": "3c:52:82:11:22:33"})
OTHER_MACHINE = fingerprint_of({"machine-id": "fedcba9876543210", "mac": "3c:52:82:44:55:66"})
TEST_CLIENT_ADDRESS = "127.0.0.1"  # what httpx's ASGI transport reports as the peer


def pdf_with_info(author: str, document_id: bytes, created: str = "20261101093000") -> bytes:
    """A one-page PDF with a document information dictionary and a trailer /ID, offsets computed."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        # a text string beyond PDFDocEncoding is UTF-16BE with its byte order mark (PDF 1.7 §7.9.2.2)
        b"<< /Author <" + (b"\xfe\xff" + author.encode("utf-16-be")).hex().encode() + b"> /Creator (Microsoft Word)"
        b" /Producer (Acrobat)"
        b" /CreationDate (D:" + created.encode() + b"+08'00') >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, document_id.hex().encode(), document_id.hex().encode(), xref)
    )
    return out.getvalue()


def docx_with_core(author: str, company: str) -> bytes:
    document = docx.Document()
    document.add_paragraph("商务标")
    document.core_properties.author = author
    document.core_properties.last_modified_by = author
    buffer = io.BytesIO()
    document.save(buffer)
    # python-docx writes no app.xml company: add it the way Word does
    return _with_app_xml(buffer.getvalue(), b"</Properties>", f"<Company>{company}</Company></Properties>")


def _with_app_xml(docx_bytes: bytes, old: bytes, new: str) -> bytes:
    """The DOCX with ``old`` replaced by ``new`` in its ``docProps/app.xml`` (what Word keeps there)."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/app.xml":
                data = data.replace(old, new.encode())
            archive.writestr(info.filename, data)
    return target.getvalue()


def test_authoring_metadata_of_a_pdf_and_a_docx() -> None:
    pdf = authoring_metadata(pdf_with_info("王五", b"\x01\x02\x03\x04"))
    assert pdf == {
        "author": "王五",
        "creator": "Microsoft Word",
        "producer": "Acrobat",
        "created": "D:20261101093000+08'00'",
        "document_id": "01020304",
    }
    office = authoring_metadata(docx_with_core("赵六", "丁咨询公司"))
    assert office["author"] == "赵六"
    assert office["last_modified_by"] == "赵六"
    assert office["company"] == "丁咨询公司"
    assert "created" in office
    assert authoring_metadata(b"plain text") == {}


def _docx_stating_pages(pages: str) -> bytes:
    return _with_app_xml(docx_with_core("赵六", "丁咨询公司"), b"<Pages>1</Pages>", f"<Pages>{pages}</Pages>")


def _listing(files: dict[str, bytes]) -> dict[str, Any]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"files": [{"name": name} for name in files]}))
        for name, data in files.items():
            archive.writestr(name, data)
    return package_files(buffer.getvalue())


def test_the_listing_records_the_pages_each_file_states_and_ignores_implausible_counts() -> None:
    pdf = pdf_with_info("王五", b"\x01\x02\x03\x04")
    three = weasyprint.HTML(string="".join(f'<p style="break-after: page">第{n}页</p>' for n in "一二三")).write_pdf()
    listing = _listing({"a.pdf": pdf, "b.docx": _docx_stating_pages("37"), "c.txt": "技术标".encode(), "d.pdf": three})
    pages = {entry["name"]: entry.get("pages") for entry in listing["files"]}
    assert pages == {"a.pdf": 1, "b.docx": 37, "c.txt": None, "d.pdf": 3}
    assert stated_pages(listing) == 41
    # Pages are not authoring metadata: the hard-evidence screens never see them.
    assert "pages" not in authoring_metadata(pdf)
    for stated in ("0", "-4", "abc", "2000000", " "):
        (entry,) = _listing({"d.docx": _docx_stating_pages(stated)})["files"]
        assert "pages" not in entry, stated
    assert stated_pages(None) == 0
    assert stated_pages({"files": [{"pages": True}, {"pages": "3"}, "x"]}) == 0


def test_a_broken_file_keeps_its_digest_and_never_fails_the_listing() -> None:
    broken = b"%PDF-1.4 not really a pdf"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"files": [{"name": "x.pdf"}]}))
        archive.writestr("x.pdf", broken)
    (entry,) = package_files(buffer.getvalue())["files"]
    assert entry["sha256"] == hashlib.sha256(broken).hexdigest()
    assert entry["size"] == len(broken)
    assert entry["error"].startswith("metadata unreadable")


@dataclass
class Sealed:
    code: str
    tender_id: uuid.UUID
    bidders: dict[str, Party]
    clients: dict[str, BidClient]
    files: dict[str, dict[str, bytes]]
    shifted: clock.ShiftedClock
    host: dict[str, str]


async def three_bids(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
    devices: dict[str, DeviceFingerprint | None],
    parties: dict[str, dict[str, object]] | None = None,
) -> Sealed:
    """Bids of A, B and C sealed with the given device fingerprints (A's and B's technical proposal
    is the same PDF), submitted, the deadline passed: the opening is in sign-in."""
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee, lots=1)
    assert tender.deadline is not None
    code = tender.project_code
    bidders = {name: await bidder_party(session_maker, settings, dev_pki) for name in "ABC"}
    clients = {name: await bid_client(client, party) for name, party in bidders.items()}
    copied = pdf_with_info("王五", b"\xaa" * 16)
    files = {
        "A": {"技术标.pdf": copied, "商务标.docx": docx_with_core("甲经办", "甲公司")},
        "B": {"技术标.pdf": copied, "商务标.docx": docx_with_core("乙经办", "乙公司")},
        "C": {"技术标.pdf": pdf_with_info("丙工程师", b"\xcc" * 16, created="20261102140000")},
    }
    for name, bidder in bidders.items():
        folder = tmp_path / name
        folder.mkdir()
        paths = []
        for file_name, data in files[name].items():
            (folder / file_name).write_bytes(data)
            paths.append(folder / file_name)
        response = None
        if parties is not None and name in parties:  # issue 19: the declared parties, sealed in the response
            response = folder / "response.json"
            response.write_text(
                json.dumps(
                    {
                        "format": "ggzy-response/1",
                        "tender": code,
                        "lot": "L1",
                        "bidder": bidder.uscc,
                        "total": "1000000.00",
                        "totalInWords": "壹佰万元整",
                        **parties[name],
                    }
                ),
                encoding="utf-8",
            )
        assert bidder.encrypt is not None
        built = await build_container_async(
            folder / "bid.zip",
            tender=code,
            lot="L1",
            bidder_uscc=bidder.uscc,
            deadline=tender.deadline,
            files=paths,
            price_summary=PriceSummary(
                tender=code, lot="L1", bidder=bidder.uscc, total_price=Decimal("1000000.00"), duration_days=180
            ),
            guarantee={"form": "cash", "reference": ""},
            signer=bidder.sign.signing(),
            bidder_encryption=bidder.encrypt.certificate,
            device=devices[name],
            response=response,
        )
        await clients[name].upload(code, "L1", built.path)
    async with session_maker() as session:
        shifted = clock.ShiftedClock(tender.deadline - await clock.now(session) + timedelta(seconds=1))
    with clock.use_clock(shifted):
        await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
    return Sealed(code, tender.id, bidders, clients, files, shifted, await tenderee.headers(client))


async def test_capture_at_intake_and_opening_then_lot_signals_and_the_device_evidence(  # noqa: PLR0915 - one story
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    sealed = await three_bids(
        client=client,
        session_maker=session_maker,
        settings=settings,
        store=store,
        dev_pki=dev_pki,
        tmp_path=tmp_path,
        devices={"A": SHARED_MACHINE, "B": SHARED_MACHINE, "C": None},  # C: sealed in the browser
    )
    assert SHARED_MACHINE is not None
    ids = {name: str(party.organisation_id) for name, party in sealed.bidders.items()}

    # Intake recorded the submission address on each version.
    async with session_maker() as session:
        addresses = (
            await session.scalars(
                select(BidVersion.submit_ip)
                .join(Bid, Bid.id == BidVersion.bid_id)
                .where(Bid.tender_id == sealed.tender_id)
            )
        ).all()
    assert addresses == [TEST_CLIENT_ADDRESS] * 3

    # Before any decryption: device hashes and submission addresses only.
    async with session_maker() as session:
        before = {s.bidder: s for s in await lot_signals(session, sealed.tender_id, "L1")}
    assert set(before) == set(ids.values())
    assert before[ids["A"]].device_hash == SHARED_MACHINE.device_hash
    assert before[ids["C"]].device_hash is None
    assert before[ids["A"]].file_digests == ()
    assert before[ids["A"]].decrypt_ip is None

    with clock.use_clock(sealed.shifted):
        for name in "ABC":
            await sign_in_hall(sealed.clients[name], sealed.code, sealed.bidders[name])
        moved = await client.post(
            f"/api/v1/bidding/opening/{sealed.code}/transitions", json={"action": "decryption"}, headers=sealed.host
        )
        assert moved.status_code == 200, moved.text
        for name, bidder in sealed.bidders.items():
            assert bidder.encrypt is not None
            answer = await decrypt_bid(sealed.clients[name], sealed.code, "L1", bidder.uscc, bidder.encrypt.key)  # type: ignore[arg-type]
            assert answer["outcome"] == "decrypted"

    # The opening recorded the decryption address and each file's digest and metadata, and its
    # result is what it was: every bid decrypted.
    async with session_maker() as session:
        rows = {r.organisation_id: r for r in await session.scalars(select(OpeningBid))}
    row_a = rows[sealed.bidders["A"].organisation_id]
    assert row_a.decrypt_ip == TEST_CLIENT_ADDRESS
    assert row_a.package_files is not None
    recorded = {f["name"]: f for f in row_a.package_files["files"]}
    assert recorded["技术标.pdf"]["sha256"] == hashlib.sha256(sealed.files["A"]["技术标.pdf"]).hexdigest()
    assert recorded["技术标.pdf"]["author"] == "王五"
    assert recorded["技术标.pdf"]["document_id"] == "aa" * 16
    assert recorded["商务标.docx"]["company"] == "甲公司"

    async with session_maker() as session:
        signals = {s.bidder: s for s in await lot_signals(session, sealed.tender_id, None)}
    a, b, c = signals[ids["A"]], signals[ids["B"]], signals[ids["C"]]
    assert a.bidder_name == sealed.bidders["A"].name
    assert a.device_hash == b.device_hash == SHARED_MACHINE.device_hash
    assert c.device_hash is None
    copied = hashlib.sha256(sealed.files["A"]["技术标.pdf"]).hexdigest()
    assert a.file_digests[0] == b.file_digests[0] == copied
    assert set(c.file_digests) == {hashlib.sha256(sealed.files["C"]["技术标.pdf"]).hexdigest()}
    assert a.authoring[0]["author"] == "王五"
    assert a.authoring[0]["name"] == "技术标.pdf"
    assert (a.submit_ip, a.decrypt_ip) == (TEST_CLIENT_ADDRESS, TEST_CLIENT_ADDRESS)
    assert (a.guarantee_issuer, a.guarantee_payer_account, a.contacts, a.project_manager) == (None, None, (), None)

    findings = screen_evidence(sealed.code, None, list(signals.values()), load_catalogue())
    by_rule = {f.rule: f for f in findings}
    assert sorted(f.rule for f in findings) == sorted(by_rule)  # one finding per rule here
    device = by_rule["EVID-DEVICE"]
    assert device.subjects == tuple(sorted((ids["A"], ids["B"])))
    assert device.severity is Severity.RED
    assert device.hard is True
    assert device.evidence["value"] == SHARED_MACHINE.device_hash[:12] + "…"
    assert by_rule["EVID-FILE-DIGEST"].subjects == device.subjects
    assert by_rule["EVID-AUTHORING"].subjects == device.subjects  # author and document id: RED
    assert by_rule["EVID-AUTHORING"].severity is Severity.RED
    # Every test request comes from one address: the same-IP rules name all three bidders.
    assert by_rule["EVID-SUBMIT-IP"].subjects == tuple(sorted(ids.values()))
    assert by_rule["EVID-DECRYPT-IP"].evidence["value"] == "127.0.0.*"


async def test_honest_devices_raise_no_device_evidence_and_a_missing_lot_is_named(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    sealed = await three_bids(
        client=client,
        session_maker=session_maker,
        settings=settings,
        store=store,
        dev_pki=dev_pki,
        tmp_path=tmp_path,
        devices={"A": SHARED_MACHINE, "B": OTHER_MACHINE, "C": None},
    )
    async with session_maker() as session:
        signals = await lot_signals(session, sealed.tender_id, "L1")
        with pytest.raises(LotNotFound) as missing:
            await lot_signals(session, sealed.tender_id, "L9")
    assert (missing.value.field, missing.value.rule) == ("lot", "lot-not-found")
    assert len(signals) == 3
    rules = {f.rule for f in screen_evidence(sealed.code, "L1", signals, load_catalogue())}
    assert "EVID-DEVICE" not in rules
    assert rules == {"EVID-SUBMIT-IP"}  # the test client's one address; nothing opened yet


async def test_the_bidder_sees_its_fingerprint_and_address_beside_the_receipt(
    *,
    app: Litestar,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    sealed = await three_bids(
        client=client,
        session_maker=session_maker,
        settings=settings,
        store=store,
        dev_pki=dev_pki,
        tmp_path=tmp_path,
        devices={"A": SHARED_MACHINE, "B": OTHER_MACHINE, "C": None},
    )
    assert SHARED_MACHINE is not None
    assert OTHER_MACHINE is not None
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as browser:
        await log_in(browser, sealed.bidders["A"])
        page = (await browser.get("/bidding/bids")).text
    assert "设备指纹" in page
    assert SHARED_MACHINE.device_hash in page
    assert OTHER_MACHINE.device_hash not in page  # another bidder's is not shown
    assert f"递交地址 <code>{TEST_CLIENT_ADDRESS}</code>" in page


# Issue 19 §1: the parties a bid declares in its structured response. A and B name one project
# manager, share a contact's phone and paid their cash bonds from one account; C is honest.
SHARED_MANAGER = {"name": "张建国", "idNumber": "11010519491231002x", "registrationNo": "京111060800123"}
SHARED_PAYER = {"accountNo": "6222 0210 0112 3456 789", "bank": "中国工商银行北京海淀支行"}
DECLARED: dict[str, dict[str, object]] = {
    "A": {
        "projectManager": SHARED_MANAGER,
        "contacts": [{"name": "李四", "phone": "+86 138-0013-8000", "email": "li@a.example.com"}],
        "bidSecurityPayer": SHARED_PAYER,
    },
    "B": {
        "projectManager": {**SHARED_MANAGER, "idNumber": "11010519491231002X"},
        "contacts": [{"name": "王五", "phone": "13800138000"}],
        "bidSecurityPayer": {**SHARED_PAYER, "accountNo": "6222021001123456789"},
    },
    "C": {
        "projectManager": {"name": "赵六", "registrationNo": "沪231070900456"},
        "contacts": [{"name": "钱七", "phone": "021-64281234", "email": "qian@c.example.com"}],
        "bidSecurityPayer": {"accountNo": "110060149018800012345", "bank": "交通银行上海分行"},
    },
}


async def opened_with_parties(
    sealed: Sealed, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> dict[str, BidSignals]:
    with clock.use_clock(sealed.shifted):
        for name in "ABC":
            await sign_in_hall(sealed.clients[name], sealed.code, sealed.bidders[name])
        moved = await client.post(
            f"/api/v1/bidding/opening/{sealed.code}/transitions", json={"action": "decryption"}, headers=sealed.host
        )
        assert moved.status_code == 200, moved.text
        for name, bidder in sealed.bidders.items():
            assert bidder.encrypt is not None
            answer = await decrypt_bid(sealed.clients[name], sealed.code, "L1", bidder.uscc, bidder.encrypt.key)  # type: ignore[arg-type]
            assert answer["outcome"] == "decrypted"
    async with session_maker() as session:
        return {s.bidder: s for s in await lot_signals(session, sealed.tender_id, "L1")}


async def test_the_same_project_manager_contact_and_payer_account_are_hard_evidence_masked(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    sealed = await three_bids(
        client=client,
        session_maker=session_maker,
        settings=settings,
        store=store,
        dev_pki=dev_pki,
        tmp_path=tmp_path,
        devices={"A": SHARED_MACHINE, "B": OTHER_MACHINE, "C": None},
        parties=DECLARED,
    )
    ids = {name: str(party.organisation_id) for name, party in sealed.bidders.items()}
    # Sealed until the opening: before it the platform has none of them.
    async with session_maker() as session:
        before = {s.bidder: s for s in await lot_signals(session, sealed.tender_id, "L1")}
    assert (before[ids["A"]].project_manager, before[ids["A"]].contacts) == (None, ())
    assert before[ids["A"]].guarantee_payer_account is None

    signals = await opened_with_parties(sealed, client, session_maker)
    a, b, c = signals[ids["A"]], signals[ids["B"]], signals[ids["C"]]
    assert a.project_manager == b.project_manager == "11010519491231002X"  # the ID number, X upper-cased
    assert c.project_manager == "沪231070900456"  # no ID number: the registration number
    assert a.contacts == ("13800138000", "li@a.example.com")  # +86 and separators dropped
    assert a.guarantee_payer_account == b.guarantee_payer_account == "6222021001123456789"
    async with session_maker() as session:
        row = await session.scalar(
            select(OpeningBid).where(OpeningBid.organisation_id == sealed.bidders["C"].organisation_id)
        )
    assert row is not None
    assert row.declared_parties is not None
    assert row.declared_parties["contacts"] == [{"name": "钱七", "phone": "02164281234", "email": "qian@c.example.com"}]

    findings = {f.rule: f for f in screen_evidence(sealed.code, "L1", list(signals.values()), load_catalogue())}
    pair = tuple(sorted((ids["A"], ids["B"])))
    manager, contact, payer = (
        findings["EVID-PROJECT-MANAGER"],
        findings["EVID-CONTACT"],
        findings["EVID-GUARANTEE-PAYER"],
    )
    for finding in (manager, contact, payer):
        assert finding.subjects == pair
        assert finding.hard is True
        assert finding.severity is Severity.RED
        assert "第四十条" in str(finding.evidence["basis"]) or "第三十七条" in str(finding.evidence["basis"])
    assert "第四十条第（三）项" in str(manager.evidence["basis"])
    assert "第四十条第（六）项" in str(payer.evidence["basis"])
    assert manager.evidence["value"] == "110105********002X"
    assert contact.evidence["value"] == "138****8000"
    assert payer.evidence["value"] == "****6789"
    shown = json.dumps([f.evidence for f in findings.values()], ensure_ascii=False) + "".join(
        f.summary for f in findings.values()
    )
    for secret in ("11010519491231002X", "13800138000", "6222021001123456789", "张建国"):
        assert secret not in shown


async def test_honest_parties_raise_no_party_evidence_and_a_bad_declaration_is_not_recorded(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    honest: dict[str, dict[str, object]] = {
        "A": {
            "projectManager": {"name": "张建国", "idNumber": "11010519491231002X"},
            "contacts": [{"name": "李四", "phone": "13800138000"}],
            "bidSecurityPayer": SHARED_PAYER,
        },
        "B": {
            "projectManager": {"name": "张建国", "registrationNo": "京111060800999"},  # a namesake, another person
            "contacts": [{"name": "王五", "phone": "13900139000", "email": "wang@b.example.com"}],
            "bidSecurityPayer": {"accountNo": "6217000010012345678", "bank": "中国建设银行北京分行"},
        },
        "C": {"contacts": [{"name": "钱七", "email": "qian@c.example.com"}]},
    }
    sealed = await three_bids(
        client=client,
        session_maker=session_maker,
        settings=settings,
        store=store,
        dev_pki=dev_pki,
        tmp_path=tmp_path,
        devices={"A": SHARED_MACHINE, "B": OTHER_MACHINE, "C": None},
        parties=honest,
    )
    signals = await opened_with_parties(sealed, client, session_maker)
    rules = {f.rule for f in screen_evidence(sealed.code, "L1", list(signals.values()), load_catalogue())}
    assert not rules & {"EVID-PROJECT-MANAGER", "EVID-CONTACT", "EVID-GUARANTEE-PAYER"}
    ids = {name: str(party.organisation_id) for name, party in sealed.bidders.items()}
    assert signals[ids["C"]].project_manager is None  # declared no project manager: None, not an error
    assert signals[ids["C"]].contacts == ("qian@c.example.com",)


def test_a_declaration_that_breaks_a_rule_is_recorded_as_its_problems_not_its_values() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "ggzy-response.json",
            json.dumps(
                {"format": "ggzy-response/1", "projectManager": {"name": "张三", "idNumber": "110105194912310021"}}
            ),
        )
    assert parties_of(buffer.getvalue()) == {"problems": ["id-number-checksum"]}
    assert parties_of(package_without_response()) is None


def package_without_response() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"files": []}))
    return buffer.getvalue()
