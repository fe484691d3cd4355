"""The guarantee as a document: the canonical JSON data set (domain rules §6.4), its CAdES signature and the
signed Chinese PDF. Pure: no database, no web (the guarantor's client uses it).

Both sides use this module: the guarantor's own system (``python -m trading.guarantees.client``) builds a
`Guarantee`, signs its canonical JSON (`sign_guarantee`, detached CAdES) and renders and seals the Chinese
PDF (`render_pdf`, `sign_pdf`; `issue` does all three); the platform parses what it receives
(`parse_guarantee`, strict) and verifies it (`trading.guarantees.verify`).

The JSON is the legal record, the PDF its human-readable form. The PDF carries the exact JSON bytes as
an embedded file (``guarantee.json``) and prints their SHA-256, inside the PAdES-signed revision, so the
verifier can tell that the PDF and the JSON are the same guarantee without reading the printed text.

Format ``ggzy-guarantee/1`` (the ``format`` member): camelCase members, amounts as strings with exactly
two decimals, times as RFC 3339 with an offset, serialised by `certs.canonical.canonical_json` (sorted
keys, no spaces, UTF-8). Verifiers check the bytes received and never re-serialise before verifying.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

import cn2an

from certs import cms
from certs.canonical import canonical_json
from certs.identifiers import is_uscc
from certs.sign import cades, pades
from certs.sign.seal import render_seal_image
from certs.tsa.client import TsaTransport

FORMAT: Final = "ggzy-guarantee/1"
"""The format version, the ``format`` member of every guarantee document."""
ATTACHMENT_NAME: Final = "guarantee.json"
"""The name of the embedded file that carries the canonical JSON inside the PDF."""
SEAL_PURPOSE: Final = "保函专用章"
SEAL_BOX: Final = (400, 60, 540, 200)
"""Where the guarantor's seal goes on the last page (PDF points, origin bottom left): over the
signature block the template leaves at the bottom right."""
BEIJING: Final = ZoneInfo("Asia/Shanghai")
_TEXT_LIMITS: Final = {"short": 200, "long": 4000}
_NO_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_CODE_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")
_CURRENCY_RE: Final = re.compile(r"[A-Z]{3}")
_AMOUNT_RE: Final = re.compile(r"(0|[1-9][0-9]{0,13})\.[0-9]{2}")  # at most 14 integer digits, as money columns
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_ONE_LINE: Final = re.compile(r"[\x00-\x1f\x7f]")


_E = TypeVar("_E", bound=StrEnum)


class GuaranteeKind(StrEnum):
    """The guarantee type of §6.4 (投标 / 履约 / 预付款 / 质量)."""

    BID = "bid"
    PERFORMANCE = "performance"
    ADVANCE_PAYMENT = "advance_payment"
    QUALITY = "quality"


class IssuerType(StrEnum):
    """What kind of institution issues: a bank, an insurer or a guarantee company."""

    BANK = "bank"
    INSURER = "insurer"
    GUARANTOR = "guarantor"


KIND_TITLES: Final = {
    GuaranteeKind.BID: "投标保函",
    GuaranteeKind.PERFORMANCE: "履约保函",
    GuaranteeKind.ADVANCE_PAYMENT: "预付款保函",
    GuaranteeKind.QUALITY: "质量保函",
}
_OBLIGATIONS: Final = {
    GuaranteeKind.BID: "履行投标人义务",
    GuaranteeKind.PERFORMANCE: "履行合同义务",
    GuaranteeKind.ADVANCE_PAYMENT: "按合同约定使用和返还预付款",
    GuaranteeKind.QUALITY: "履行质量保修义务",
}
ISSUER_TYPE_NAMES: Final = {IssuerType.BANK: "银行", IssuerType.INSURER: "保险机构", IssuerType.GUARANTOR: "担保机构"}


class GuaranteeMalformed(ValueError):
    """The document is not a guarantee of this format; ``field`` names the member (dotted path)."""

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        self.detail = detail
        super().__init__(f"{field}: {detail}")


@dataclass(frozen=True)
class Issuer:
    """The institution that issues (开立机构): name, USCC, type and the branch that issued."""

    name: str
    uscc: str
    type: IssuerType
    branch: str = ""


@dataclass(frozen=True)
class Organisation:
    """The applicant (the bidder) or the beneficiary (the tenderee): name and USCC."""

    name: str
    uscc: str


@dataclass(frozen=True)
class Guarantee:
    """The guarantee's data set (domain rules §6.4). Build it, then `to_json`; `parse_guarantee` reads it back.

    ``amount`` has exactly two decimals; every time carries its offset. The constructor checks
    nothing: `to_json` refuses (`GuaranteeMalformed`) what `parse_guarantee` would refuse, so a
    document that is produced can always be read.
    """

    guarantee_no: str
    kind: GuaranteeKind
    issuer: Issuer
    applicant: Organisation
    beneficiary: Organisation
    project_code: str
    lot_code: str
    lot_name: str
    amount: Decimal
    currency: str
    valid_from: datetime
    valid_until: datetime
    claim_conditions: str
    issued_at: datetime
    verification_url: str
    verification_code: str

    def to_record(self) -> dict[str, Any]:
        """The JSON-ready record (before canonical serialisation)."""
        return {
            "format": FORMAT,
            "guaranteeNo": self.guarantee_no,
            "kind": self.kind.value,
            "issuer": {
                "name": self.issuer.name,
                "uscc": self.issuer.uscc,
                "type": self.issuer.type.value,
                "branch": self.issuer.branch,
            },
            "applicant": {"name": self.applicant.name, "uscc": self.applicant.uscc},
            "beneficiary": {"name": self.beneficiary.name, "uscc": self.beneficiary.uscc},
            "project": {"code": self.project_code, "lotCode": self.lot_code, "lotName": self.lot_name},
            "amount": _amount_text(self.amount),
            "currency": self.currency,
            "validFrom": _time_text(self.valid_from, "validFrom"),
            "validUntil": _time_text(self.valid_until, "validUntil"),
            "claimConditions": self.claim_conditions,
            "issuedAt": _time_text(self.issued_at, "issuedAt"),
            "verification": {"url": self.verification_url, "code": self.verification_code},
        }

    def to_json(self) -> bytes:
        """The canonical JSON bytes, which are what is signed; refuses a guarantee `parse_guarantee` would refuse."""
        data = canonical_json(self.to_record())
        parse_guarantee(data)
        return data


def json_sha256(data: bytes) -> str:
    """The SHA-256 (hex) of a guarantee's JSON bytes: printed on and embedded in the PDF, stored by the platform."""
    return hashlib.sha256(data).hexdigest()


def _amount_text(amount: Decimal) -> str:
    """Two decimals when that is exact (``Decimal(200000)`` → ``200000.00``); otherwise as it is, which the
    reader refuses, so that no amount is ever rounded silently.
    """
    try:
        cents = amount.quantize(Decimal("0.01"))
    except InvalidOperation:  # infinite, NaN or too many digits: written as is, and refused on reading
        return str(amount)
    return f"{cents:f}" if cents == amount else f"{amount:f}"


def _time_text(value: datetime, field: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise GuaranteeMalformed(field, "a time needs its UTC offset")
    return value.isoformat()


# --- strict reading -------------------------------------------------------------------------------------

_TOP: Final = frozenset(
    {
        "format",
        "guaranteeNo",
        "kind",
        "issuer",
        "applicant",
        "beneficiary",
        "project",
        "amount",
        "currency",
        "validFrom",
        "validUntil",
        "claimConditions",
        "issuedAt",
        "verification",
    }
)


_ISSUER: Final = frozenset({"name", "uscc", "type", "branch"})
_ORGANISATION: Final = frozenset({"name", "uscc"})
_PROJECT: Final = frozenset({"code", "lotCode", "lotName"})
_VERIFICATION: Final = frozenset({"url", "code"})


def _members(value: object, field: str, names: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise GuaranteeMalformed(field or "document", "must be a JSON object")
    if value.keys() == names:  # the usual case, decided in one comparison
        return value
    prefix = f"{field}." if field else ""
    unknown = sorted(set(value) - names)
    if unknown:
        raise GuaranteeMalformed(prefix + unknown[0], "unknown member")
    missing = sorted(names - set(value))
    if missing:
        raise GuaranteeMalformed(prefix + missing[0], "missing")
    return value


def _text(value: object, field: str, *, limit: str = "short", empty: bool = False, lines: bool = False) -> str:
    if not isinstance(value, str):
        raise GuaranteeMalformed(field, "must be a string")
    stripped = value.strip()
    if not empty and not stripped:
        raise GuaranteeMalformed(field, "must not be empty")
    if value != stripped:
        raise GuaranteeMalformed(field, "must not start or end with spaces")
    if len(value) > _TEXT_LIMITS[limit]:
        raise GuaranteeMalformed(field, f"longer than {_TEXT_LIMITS[limit]} characters")
    if (_CONTROL if lines else _CONTROL_ONE_LINE).search(value):
        raise GuaranteeMalformed(field, "contains control characters")
    return value


def _pattern(value: object, field: str, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise GuaranteeMalformed(field, f"must be {what}")
    return value


def _uscc(value: object, field: str) -> str:
    if not isinstance(value, str) or not is_uscc(value):
        raise GuaranteeMalformed(field, "must be an 18-character unified social credit code with its check character")
    return value


def _time(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise GuaranteeMalformed(field, "must be an RFC 3339 time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise GuaranteeMalformed(field, "must be an RFC 3339 time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise GuaranteeMalformed(field, "a time needs its UTC offset")
    if not 2000 <= parsed.year <= 2100:  # noqa: PLR2004 - the platform's time bounds
        raise GuaranteeMalformed(field, "the year must be between 2000 and 2100")
    return parsed


def _amount(value: object, field: str) -> Decimal:
    if not isinstance(value, str) or not _AMOUNT_RE.fullmatch(value):
        raise GuaranteeMalformed(field, 'must be a string with exactly two decimals, e.g. "200000.00"')
    try:
        amount = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise GuaranteeMalformed(field, "is not a number") from None
    if amount <= 0:
        raise GuaranteeMalformed(field, "must be more than zero")
    return amount


@lru_cache(maxsize=16)
def _members_by_value(enum: type[StrEnum]) -> Mapping[str, StrEnum]:
    return MappingProxyType({member.value: member for member in enum})


def _enum(value: object, field: str, enum: type[_E]) -> _E:
    members = _members_by_value(enum)
    if not isinstance(value, str) or value not in members:
        choices = ", ".join(members)
        raise GuaranteeMalformed(field, f"must be one of {choices}")
    return members[value]  # type: ignore[return-value]  # the member itself, as enum(value) returns it


def _reject_float(value: str) -> Any:
    raise GuaranteeMalformed("document", f"numbers are not allowed ({value}); amounts are strings")


def _reject_constant(value: str) -> Any:
    raise GuaranteeMalformed("document", f"{value} is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):  # the usual case: no name twice
        return found
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise GuaranteeMalformed(key, "appears twice")
        seen[key] = value
    return seen


# One decoder for every call (`json.loads` with hooks builds a decoder and its scanner each time).
_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_float=_reject_float,
    parse_int=_reject_float,
    parse_constant=_reject_constant,
)


def _decode(text: str) -> Any:
    """`json.loads(text, <the hooks above>)` without building a decoder per call."""
    if text.startswith("\ufeff"):  # as `json.loads` refuses it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _DECODER.decode(text)


def parse_guarantee(data: bytes) -> Guarantee:
    """Read a guarantee's JSON bytes strictly; raises `GuaranteeMalformed` naming the first bad member.

    Refused: not UTF-8 JSON, duplicate members, numbers (amounts are strings), unknown or missing
    members, another format version, a USCC without its check character, an amount without exactly
    two decimals or not above zero, a time without its offset, a validity ending before it starts.
    """
    try:
        raw = _decode(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise GuaranteeMalformed("document", "not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise GuaranteeMalformed("document", f"not JSON: {exc.msg} at {exc.pos}") from None
    top = _members(raw, "", _TOP)
    if top["format"] != FORMAT:
        raise GuaranteeMalformed("format", f"must be {FORMAT}")
    issuer = _members(top["issuer"], "issuer", _ISSUER)
    applicant = _members(top["applicant"], "applicant", _ORGANISATION)
    beneficiary = _members(top["beneficiary"], "beneficiary", _ORGANISATION)
    project = _members(top["project"], "project", _PROJECT)
    verification = _members(top["verification"], "verification", _VERIFICATION)
    url = _text(verification["url"], "verification.url")
    if not url.startswith("https://") and not url.startswith("http://"):
        raise GuaranteeMalformed("verification.url", "must be an http(s) URL")
    guarantee = Guarantee(
        guarantee_no=_pattern(top["guaranteeNo"], "guaranteeNo", _NO_RE, "1-64 letters, digits, . _ / -"),
        kind=_enum(top["kind"], "kind", GuaranteeKind),
        issuer=Issuer(
            name=_text(issuer["name"], "issuer.name"),
            uscc=_uscc(issuer["uscc"], "issuer.uscc"),
            type=_enum(issuer["type"], "issuer.type", IssuerType),
            branch=_text(issuer["branch"], "issuer.branch", empty=True),
        ),
        applicant=Organisation(_text(applicant["name"], "applicant.name"), _uscc(applicant["uscc"], "applicant.uscc")),
        beneficiary=Organisation(
            _text(beneficiary["name"], "beneficiary.name"), _uscc(beneficiary["uscc"], "beneficiary.uscc")
        ),
        project_code=_pattern(project["code"], "project.code", _CODE_RE, "a project code"),
        lot_code=_pattern(project["lotCode"], "project.lotCode", _CODE_RE, "a lot code"),
        lot_name=_text(project["lotName"], "project.lotName"),
        amount=_amount(top["amount"], "amount"),
        currency=_pattern(top["currency"], "currency", _CURRENCY_RE, "an ISO 4217 code such as CNY"),
        valid_from=_time(top["validFrom"], "validFrom"),
        valid_until=_time(top["validUntil"], "validUntil"),
        claim_conditions=_text(top["claimConditions"], "claimConditions", limit="long", lines=True),
        issued_at=_time(top["issuedAt"], "issuedAt"),
        verification_url=url,
        verification_code=_pattern(verification["code"], "verification.code", _NO_RE, "1-64 letters or digits"),
    )
    if guarantee.valid_until <= guarantee.valid_from:
        raise GuaranteeMalformed("validUntil", "must be after validFrom")
    return guarantee


# --- signing -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedGuarantee:
    """The canonical JSON bytes and the guarantor's detached CAdES signature over exactly them."""

    json: bytes
    cades: bytes


@dataclass(frozen=True)
class IssuedGuarantee:
    """What a guarantor delivers: the signed JSON and the sealed, PAdES-signed Chinese PDF."""

    json: bytes
    cades: bytes
    pdf: bytes


async def sign_guarantee(
    guarantee: Guarantee,
    identity: cms.SigningIdentity,
    *,
    signing_time: datetime | None = None,
    tsa: TsaTransport | None = None,
) -> SignedGuarantee:
    """Sign the guarantee's canonical JSON: detached CAdES-B-B with ``signing-time`` (``issued_at`` unless
    ``signing_time`` is given), CAdES-B-T when a ``tsa`` is given.
    """
    data = guarantee.to_json()
    when = signing_time if signing_time is not None else guarantee.issued_at
    return SignedGuarantee(data, await cades.sign_detached(data, identity, signing_time=when, tsa=tsa))


def amount_in_words(amount: Decimal) -> str:
    """The amount in Chinese capitals (大写), as the platform's ``|amount_in_words`` filter writes it.

    The same ``cn2an`` rmb mode as `trading.kernel.web.money` (which this pure module cannot import).
    """
    return str(cn2an.an2cn(f"{abs(amount):f}", "rmb"))


def _figures(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _local(value: datetime) -> str:
    return value.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M")


_STYLE: Final = """
@page { size: A4; margin: 18mm 20mm 16mm 20mm;
  @bottom-center { content: "第 " counter(page) " 页 共 " counter(pages) " 页"; font-size: 8pt; color: #444; } }
html { font-family: "Noto Sans CJK SC", sans-serif; font-size: 10pt; line-height: 1.5; }
h1 { text-align: center; font-size: 18pt; margin: 0 0 1mm; letter-spacing: 0.3em; }
p { margin: 0 0 2mm; }
p.no { text-align: center; margin: 0 0 4mm; }
table { width: 100%; border-collapse: collapse; margin-bottom: 3mm; }
th, td { border: 0.6pt solid #000; padding: 1mm 2mm; vertical-align: top; text-align: left; }
th { width: 30%; font-weight: 700; background: #f2f2f2; }
.conditions { white-space: pre-wrap; }
.digest { font-size: 7.5pt; word-break: break-all; color: #333; }
.signature { margin: 4mm 0 0 52%; height: 46mm; padding-top: 8mm; break-inside: avoid; }
"""


def render_html(guarantee: Guarantee, data: bytes) -> str:
    """The guarantee as an HTML page (Chinese), every value escaped; ``data`` is its JSON, whose digest it prints."""
    e = html.escape
    g = guarantee
    currency = "人民币" if g.currency == "CNY" else g.currency
    words = f"{currency}{amount_in_words(g.amount)}" if g.currency == "CNY" else "—"
    rows = [
        ("保函类型", KIND_TITLES[g.kind]),
        ("开立机构", f"{g.issuer.name}（{ISSUER_TYPE_NAMES[g.issuer.type]}）"),
        ("开立机构统一社会信用代码", g.issuer.uscc),
        ("开立网点", g.issuer.branch or "—"),
        ("申请人（投标人）", g.applicant.name),
        ("申请人统一社会信用代码", g.applicant.uscc),
        ("受益人（招标人）", g.beneficiary.name),
        ("受益人统一社会信用代码", g.beneficiary.uscc),
        ("项目编号（统一交易标识码）", g.project_code),
        ("标段（包）", f"{g.lot_code} {g.lot_name}"),
        ("担保金额（小写）", f"{g.currency} {_figures(g.amount)}"),
        ("担保金额（大写）", words),
        ("有效期", f"自 {_local(g.valid_from)} 起至 {_local(g.valid_until)} 止（北京时间）"),
        ("开立时间", _local(g.issued_at)),
        ("核验网址", g.verification_url),
        ("核验码", g.verification_code),
    ]
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{e(KIND_TITLES[g.kind])} {e(g.guarantee_no)}</title>"
        f'<meta name="description" content="{e(FORMAT)} sha256:{json_sha256(data)}">'
        f'<meta name="keywords" content="{e(g.guarantee_no)}">'
        f"<style>{_STYLE}</style></head><body>"
        f'<h1>{e(KIND_TITLES[g.kind])}</h1><p class="no">保函编号：{e(g.guarantee_no)}</p>'
        f"<p>致：{e(g.beneficiary.name)}（受益人）</p>"
        f"<p>鉴于{e(g.applicant.name)}（以下称“申请人”）就贵方{e(g.project_code)}项目{e(g.lot_code)}标段（包）"
        f"（{e(g.lot_name)}）向我方申请开立{e(KIND_TITLES[g.kind])}，我方愿意就申请人{e(_OBLIGATIONS[g.kind])}"
        "向贵方提供不可撤销的担保，担保金额以下表所列为限。</p>"
        f"<table>{body}</table>"
        f'<p><strong>索赔条件：</strong></p><p class="conditions">{e(g.claim_conditions)}</p>'
        f'<p class="digest">电子保函数据（{e(FORMAT)}）SHA-256：{json_sha256(data)}。'
        f"本保函以开立机构对上述数据的电子签名为准，纸质打印件仅供参考。</p>"
        f'<div class="signature"><p>开立机构（盖章）：{e(g.issuer.name)}</p><p>{e(_local(g.issued_at))}</p></div>'
        "</body></html>"
    )


@dataclass(frozen=True)
class RenderedPdf:
    """The unsigned PDF and where its seal goes: over the signature block (page index, PDF points)."""

    pdf: bytes
    seal_page: int
    seal_box: tuple[int, int, int, int]


_PX_TO_PT: Final = 0.75  # WeasyPrint lays out in CSS pixels (96 per inch); PDF boxes are in points (72)
_SEAL_SIDE: Final = 120.0


def render(guarantee: Guarantee, data: bytes | None = None) -> RenderedPdf:
    """The unsigned Chinese PDF of the guarantee, with its JSON bytes embedded as ``guarantee.json``, and the
    place of the signature block, where `sign_pdf` puts the seal.

    WeasyPrint with the system's Noto Sans CJK SC (Debian ``fonts-noto-cjk``, which the platform
    installs), so the guarantor's client renders without the platform's font cache.
    """
    import weasyprint  # noqa: PLC0415 - heavy; only renderers need it

    data = data if data is not None else guarantee.to_json()
    attachment = weasyprint.Attachment(
        string=data.decode("utf-8"), name=ATTACHMENT_NAME, description=f"{FORMAT} {guarantee.guarantee_no}"
    )
    document = weasyprint.HTML(string=render_html(guarantee, data)).render()
    page, box = len(document.pages) - 1, SEAL_BOX
    for index, laid_out in enumerate(document.pages):
        block = _signature_block(laid_out._page_box)  # noqa: SLF001 - the laid-out boxes are only reachable here
        if block is not None:
            x, y = block.border_box_x(), block.border_box_y()
            centre_x = (x + block.border_width() / 2) * _PX_TO_PT
            centre_y = (laid_out.height - y - block.border_height() / 2) * _PX_TO_PT
            half = _SEAL_SIDE / 2
            page = index
            box = (round(centre_x - half), round(centre_y - half), round(centre_x + half), round(centre_y + half))
    pdf: bytes = document.write_pdf(attachments=[attachment])
    return RenderedPdf(pdf, page, box)


def _signature_block(box: Any) -> Any:
    """The laid-out box of the ``signature`` block under ``box``, or ``None``."""
    element = getattr(box, "element", None)
    if element is not None and element.get("class") == "signature" and box.element_tag == "div":
        return box
    for child in getattr(box, "children", None) or ():
        found = _signature_block(child)
        if found is not None:
            return found
    return None


def render_pdf(guarantee: Guarantee, data: bytes | None = None) -> bytes:
    """The unsigned Chinese PDF of the guarantee (see `render`)."""
    return render(guarantee, data).pdf


def _page_count(pdf: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415

    return int(PdfFileReader(io.BytesIO(pdf), strict=False).root["/Pages"]["/Count"])


async def sign_pdf(
    pdf: bytes,
    identity: cms.SigningIdentity,
    issuer_name: str,
    *,
    tsa: TsaTransport,
    seal_png: bytes | None = None,
    revocation: pades.RevocationMaterial | None = None,
    seal_page: int | None = None,
    seal_box: tuple[int, int, int, int] = SEAL_BOX,
) -> bytes:
    """PAdES-sign the guarantee's PDF with the guarantor's seal (B-T; B-LTA with ``revocation``).

    The seal goes on ``seal_page`` (default: the last page) at ``seal_box`` (`render` says where the
    signature block is). ``seal_png`` is the guarantor's registered seal image; without one a
    conventional round seal reading ``issuer_name`` is drawn.
    """
    image = seal_png if seal_png is not None else render_seal_image(issuer_name, SEAL_PURPOSE)
    page = seal_page if seal_page is not None else _page_count(pdf) - 1
    seal = pades.SealAppearance(image, page=page, box=seal_box)
    return await pades.sign_pdf(
        pdf,
        identity,
        tsa=tsa,
        field_name="GuaranteeSeal",
        reason="开立电子保函",
        seal=seal,
        revocation=revocation,
    )


async def issue(
    guarantee: Guarantee,
    identity: cms.SigningIdentity,
    *,
    tsa: TsaTransport,
    timestamp_json: bool = True,
    seal_png: bytes | None = None,
) -> IssuedGuarantee:
    """Everything a guarantor delivers: the signed JSON (CAdES-B-T unless ``timestamp_json`` is false) and
    the sealed PDF (PAdES B-T) that embeds it.
    """
    signed = await sign_guarantee(guarantee, identity, tsa=tsa if timestamp_json else None)
    rendered = render(guarantee, signed.json)
    pdf = await sign_pdf(
        rendered.pdf,
        identity,
        guarantee.issuer.name,
        tsa=tsa,
        seal_png=seal_png,
        seal_page=rendered.seal_page,
        seal_box=rendered.seal_box,
    )
    return IssuedGuarantee(signed.json, signed.cades, pdf)


def embedded_json(pdf: bytes) -> bytes | None:
    """The ``guarantee.json`` embedded in a guarantee PDF, or ``None`` when there is none (or it is unreadable)."""
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415

    try:
        root = PdfFileReader(io.BytesIO(pdf), strict=False).root
        names = root["/Names"]["/EmbeddedFiles"]
        for name, spec in _name_tree(names):
            if name == ATTACHMENT_NAME:
                return bytes(spec["/EF"]["/F"].data)
    except Exception:  # noqa: BLE001 - pyHanko raises its own kinds on damaged files; none means "no JSON"
        return None
    return None


def _name_tree(node: Any, depth: int = 0) -> list[tuple[str, Any]]:
    """The (name, value) pairs of a PDF name tree (leaves and kids, a few levels deep)."""
    if depth > 4:  # noqa: PLR2004 - a guarantee PDF has one attachment; deeper trees are not ours
        return []
    pairs: list[tuple[str, Any]] = []
    if "/Names" in node:
        flat = node["/Names"]  # indexing a pyHanko array dereferences its indirect objects
        pairs.extend((str(flat[i]), flat[i + 1]) for i in range(0, len(flat) - 1, 2))
    if "/Kids" in node:
        kids = node["/Kids"]
        for i in range(len(kids)):
            pairs.extend(_name_tree(kids[i], depth + 1))
    return pairs


__all__ = [
    "ATTACHMENT_NAME",
    "FORMAT",
    "Guarantee",
    "GuaranteeKind",
    "GuaranteeMalformed",
    "IssuedGuarantee",
    "Issuer",
    "IssuerType",
    "Organisation",
    "RenderedPdf",
    "SignedGuarantee",
    "amount_in_words",
    "embedded_json",
    "issue",
    "json_sha256",
    "parse_guarantee",
    "render",
    "render_html",
    "render_pdf",
    "sign_guarantee",
    "sign_pdf",
]
