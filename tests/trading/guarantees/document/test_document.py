"""The guarantee document: canonical JSON in format ggzy-guarantee/1, strict reading, the signed Chinese PDF."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from certs.sign import cades
from certs.tsa.client import LocalTsa
from tests.trading.guarantees.document.conftest import World, guarantee_for
from trading.guarantees.document import (
    ATTACHMENT_NAME,
    FORMAT,
    GuaranteeMalformed,
    amount_in_words,
    embedded_json,
    issue,
    json_sha256,
    parse_guarantee,
    render,
    render_pdf,
    sign_guarantee,
)
from trading.kernel.web.money import amount_in_words as filter_amount_in_words


def test_canonical_json_reads_back_to_the_same_guarantee(world: World) -> None:
    guarantee = guarantee_for(world)
    data = guarantee.to_json()
    assert parse_guarantee(data) == guarantee
    record = json.loads(data)
    assert record["format"] == FORMAT
    assert record["amount"] == "200000.00"  # a string with two decimals, never a number
    assert record["kind"] == "bid"
    assert "南京示例建设工程有限公司" in data.decode()  # UTF-8, not \\u escapes
    assert data == json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    # A whole amount is written with its two decimals, not refused
    assert json.loads(guarantee_for(world, amount=Decimal(200000)).to_json())["amount"] == "200000.00"


def _mutated(world: World, change) -> bytes:  # type: ignore[no-untyped-def]
    record = json.loads(guarantee_for(world).to_json())
    change(record)
    return json.dumps(record, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.update(extra="x"), "extra"),
        (lambda r: r.pop("currency"), "currency"),
        (lambda r: r["issuer"].update(seal="x"), "issuer.seal"),
        (lambda r: r["project"].pop("lotCode"), "project.lotCode"),
        (lambda r: r.update(amount="200000"), "amount"),
        (lambda r: r.update(amount="200000.001"), "amount"),
        (lambda r: r.update(amount="-5.00"), "amount"),
        (lambda r: r.update(amount="0.00"), "amount"),
        (lambda r: r.update(amount="2e5"), "amount"),
        (lambda r: r.update(amount=200000), "document"),
        (lambda r: r.update(amount=200000.5), "document"),
        (lambda r: r.update(format="ggzy-guarantee/2"), "format"),
        (lambda r: r.update(kind="cash"), "kind"),
        (lambda r: r["applicant"].update(uscc="91320100000000000X"), "applicant.uscc"),
        (lambda r: r.update(validFrom="2026-12-10T00:00:00"), "validFrom"),
        (lambda r: r.update(validUntil="2026-12-01T00:00:00+08:00"), "validUntil"),
        (lambda r: r.update(currency="rmb"), "currency"),
        (lambda r: r["beneficiary"].update(name="某\u0007单位"), "beneficiary.name"),
        (lambda r: r["verification"].update(url="javascript:alert(1)"), "verification.url"),
    ],
)
def test_bad_documents_are_refused_naming_the_member(world: World, change, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GuaranteeMalformed) as info:
        parse_guarantee(_mutated(world, change))
    assert info.value.field == field


def test_not_json_duplicates_and_not_utf8_are_malformed(world: World) -> None:
    data = guarantee_for(world).to_json()
    for bad in (b"\xff\xfe", b"{", data[:-1], b"[]", data.replace(b'"kind":"bid"', b'"kind":"bid","kind":"bid"')):
        with pytest.raises(GuaranteeMalformed):
            parse_guarantee(bad)


def test_a_guarantee_that_cannot_be_read_back_is_not_produced(world: World) -> None:
    with pytest.raises(GuaranteeMalformed) as info:
        guarantee_for(world, amount=Decimal("1.005")).to_json()
    assert info.value.field == "amount"
    with pytest.raises(GuaranteeMalformed) as info:
        guarantee_for(world, issued_at=datetime(2026, 12, 6, 10)).to_json()  # noqa: DTZ001 - the point
    assert info.value.field == "issuedAt"


def test_amount_in_words_is_the_platforms_filter() -> None:
    for value in ("200000.00", "1234567.89", "10.05", "0.50", "100000000.00"):
        assert amount_in_words(Decimal(value)) == filter_amount_in_words(value)
    assert amount_in_words(Decimal("200000.00")) == "贰拾万元整"


async def test_cades_signature_covers_exactly_the_json_with_signing_time(world: World, tsa: LocalTsa) -> None:
    guarantee = guarantee_for(world)
    signed = await sign_guarantee(guarantee, world.pki.guarantor.signing(), tsa=tsa)
    assert signed.json == guarantee.to_json()
    checked = cades.verify_detached(signed.json, signed.cades, require_timestamp=True)
    assert checked.signer_certificate == world.pki.guarantor.certificate
    assert checked.signing_time == guarantee.issued_at


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "g.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return "".join(out.split())


async def test_the_pdf_shows_every_field_and_embeds_the_json(world: World, tsa: LocalTsa, tmp_path: Path) -> None:
    guarantee = guarantee_for(world)
    issued = await issue(guarantee, world.pki.guarantor.signing(), tsa=tsa)
    text = _pdftotext(issued.pdf, tmp_path)
    for shown in (
        "投标保函",
        "JSBK-2026-000123",
        "江苏银行股份有限公司(开发)",
        "南京分行营业部",
        world.guarantor_uscc,
        "南京示例建设工程有限公司",
        world.pki.org_uscc,
        "淮安市示范实验中学",
        "3201002026120001001",
        "教学楼改造工程施工",
        "CNY200,000.00",
        "人民币贰拾万元整",
        "2026年12月10日08:00",  # valid from, in Beijing time
        "2027年04月19日09:30",  # valid until
        "K7Q2-9XPM",
        "https://ggzy.js.invalid/guarantees/verify",
        "拒签合同",
        json_sha256(issued.json),
    ):
        assert shown in text, shown
    assert embedded_json(issued.pdf) == issued.json
    assert embedded_json(render_pdf(guarantee)) == guarantee.to_json()
    assert embedded_json(b"%PDF-1.4 not really") is None
    assert ATTACHMENT_NAME == "guarantee.json"


def test_the_seal_goes_on_the_signature_block_wherever_it_falls(world: World) -> None:
    short = render(guarantee_for(world))
    assert short.seal_page == 0  # a usual guarantee fits on one A4 page
    left, bottom, right, top = short.seal_box
    assert 297 < left < right <= 595  # the right half of an A4 page, in points
    assert 0 < bottom < top < 421  # its lower half
    conditions = "\n".join(["投标人在投标有效期内撤销投标文件的；中标人无正当理由拒签合同的。"] * 60)
    long = render(guarantee_for(world, claim_conditions=conditions))
    pages = int(PdfFileReader(io.BytesIO(long.pdf)).root["/Pages"]["/Count"])
    assert long.seal_page == pages - 1 > 0  # the block is at the end, so is the seal
    assert long.seal_box != short.seal_box
