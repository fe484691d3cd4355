"""The structured response in the browser's sealing (issue 15 item 5), against the bidder tool's
Python, in Chromium with no server (the modules served on an https origin through Playwright's
routing, as `tests.e2e.test_envelope_js` does):

* ``bidding/static/js/response_check.js`` checks by the same rules as the SDK: `requirement_problems`
  (what ``ggzy bid seal --requirements`` refuses) gives the same rule, path and code on every case
  of a table, and `readResponse` refuses exactly what `sdk._check_response` refuses;
* a container built in the page with a response (`envelope.js` ``buildContainer({response})``) opens
  like one ``ggzy bid seal --response`` built from the same files: the same package files in the same
  order, the response under `fmt.RESPONSE_FILE` with its digest in the bound inner manifest, read by
  the platform's reader (`response_in_package`); the page refuses a package file with that name.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bidding.client import format as fmt
from bidding.client import parties
from bidding.client.price_summary import PriceSummary
from bidding.client.problems import BidBuildError
from bidding.client.reading import OpenedPackage, check_package, read_sealed
from bidding.client.sdk import _check_response, build_container, open_package, requirement_problems
from bidding.evaluation.response.package import response_in_package
from certs.devpki.pki import DevPki, build_dev_pki
from certs.envelope import sealed_bid
from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS, ROOT

pytestmark = pytest.mark.e2e

ORIGIN = "https://ggzy.test"
SERVED = {
    "/static/": ROOT / "trading" / "kernel" / "web" / "static",
    "/bidding/static/": ROOT / "bidding" / "static",
}
TENDER = "E3201000001000000042"
DEADLINE = "2026-12-30T01:30:00+00:00"


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return build_dev_pki()


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.async_api import Route, async_playwright

    async def serve(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        for prefix, directory in SERVED.items():
            if path.startswith(prefix):
                body = (directory / path.removeprefix(prefix)).read_bytes()
                await route.fulfill(status=200, content_type="text/javascript", body=body)
                return
        await route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>t</title>")

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await chromium.new_context()
            await context.route(f"{ORIGIN}/**", serve)
            tab = await context.new_page()
            await tab.goto(f"{ORIGIN}/")
            yield tab
        finally:
            await chromium.close()


def _response(bidder: str, **changes: Any) -> dict[str, Any]:
    return {
        "format": "ggzy-response/1",
        "tender": TENDER,
        "lot": "001",
        "bidder": bidder,
        "qualifications": [
            {"ref": "Q1", "certificateNo": "D132000001", "issuer": "江苏省住房和城乡建设厅", "validFrom": "2024-01-01"}
        ],
        "starResponses": [{"item": "S1", "response": "complies"}, {"item": "S2", "response": "complies"}],
        "bill": [{"code": "010101001001", "quantity": "120.5", "unitPrice": "356.80", "lineTotal": "42994.40"}],
        "total": "42994.40",
        "totalInWords": "肆万贰仟玖佰玖拾肆元肆角整",
    } | changes


REQUIREMENTS: dict[str, Any] = {
    "format": "ggzy-requirements/1",
    "tender": TENDER,
    "lot": "001",
    "sector": "engineering",
    "deadline": DEADLINE,
    "qualifications": [{"code": "Q1", "kind": "enterprise-qualification", "name": "建筑工程施工总承包"}],
    "starItems": [{"code": "S1", "text": "工期"}, {"code": "S2", "text": "质量"}],
    "bill": [{"code": "010101001001", "description": "挖一般土方", "unit": "m³", "quantity": "120.5"}],
}

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("complete", {}, {}),
    ("a ★ item missing", {"starResponses": [{"item": "S1", "response": "complies"}]}, {}),
    ("no qualification claim", {"qualifications": []}, {}),
    ("another lot", {"lot": "002"}, {}),
    ("another tender, nothing answered", {"tender": "X", "starResponses": None, "bill": "x"}, {}),
    ("an unpriced and an unlisted line", {"bill": [{"code": "999"}, {"code": 12}, "x"]}, {}),
    ("a bill without codes", {"bill": [{}]}, {}),
    ("a set without a bill (government procurement)", {"bill": []}, {"bill": [], "sector": "government_procurement"}),
    (
        "a set with nothing to answer",
        {"qualifications": [], "starResponses": []},
        {"qualifications": [], "starItems": []},
    ),
]

PROBLEMS = """async ({answer, wanted}) => {
  const check = await import("/bidding/static/js/response_check.js");
  return check.requirementProblems(answer, wanted).map((p) => [p.rule, p.path, p.code]);
}"""


@pytest.mark.parametrize(("case", "answer_changes", "set_changes"), CASES, ids=[c[0] for c in CASES])
async def test_the_page_checks_a_response_by_the_sdks_rules(
    page: Any, case: str, answer_changes: dict[str, Any], set_changes: dict[str, Any]
) -> None:
    answer = _response("91320100MA1XXXXX0X", **answer_changes)
    wanted = REQUIREMENTS | set_changes
    python = [[p.rule, p.path, p.code] for p in requirement_problems(answer, wanted)]
    assert await page.evaluate(PROBLEMS, {"answer": answer, "wanted": wanted}) == python
    assert (case == "complete") or python or "nothing to answer" in case or "without a bill" in case


async def test_the_rules_find_what_they_name(page: Any) -> None:
    """The table above is not vacuous: the rules the page names, on their own."""
    missing = _response("B", starResponses=[{"item": "S1"}], qualifications=[], bill=[{"code": "999"}], lot="2")
    found = await page.evaluate(PROBLEMS, {"answer": missing, "wanted": REQUIREMENTS})
    assert found == [
        ["tender-match", "$.tender", f"{TENDER}/2"],
        ["qualification-claimed", "$.qualifications", "Q1"],
        ["star-answered", "$.starResponses", "S2"],
        ["bill-priced", "$.bill", "010101001001"],
        ["bill-listed", "$.bill", "999"],
    ]


READ = """async ({data, bid}) => {
  const check = await import("/bidding/static/js/response_check.js");
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const [document, problems] = check.readResponse(bytes, bid);
  return { read: document !== null, rules: problems.map((p) => p.rule) };
}"""


async def test_the_page_refuses_what_the_sdk_refuses_of_any_response(page: Any, tmp_path: Path) -> None:
    bidder = "91320100MA1XXXXX0X"
    bid = {"tender": TENDER, "lot": "001", "bidder": bidder}
    cases = {
        "ok": (json.dumps(_response(bidder), ensure_ascii=False).encode(), None),
        "not JSON": (b"{not json", "json"),
        "not UTF-8": (b'{"format": "\xff"}', "json"),
        "an array": (b"[]", "format"),
        "another version": (json.dumps(_response(bidder, format="ggzy-response/7")).encode(), "format"),
        "another bidder": (json.dumps(_response("91320100MA1YYYYY0Y")).encode(), "names-bid"),
        "another lot": (json.dumps(_response(bidder, lot="002")).encode(), "names-bid"),
    }
    for name, (data, rule) in cases.items():
        path = tmp_path / "response.json"
        path.write_bytes(data)
        try:
            _check_response(path, **bid)
            sdk_refuses = False
        except BidBuildError:
            sdk_refuses = True
        answer = await page.evaluate(READ, {"data": base64.b64encode(data).decode(), "bid": bid})
        assert answer == {"read": rule is None, "rules": [rule] if rule else []}, name
        assert sdk_refuses is (rule is not None), name


BUILD = """async ({files, response, encryption, binding}) => {
  const env = await import("/static/js/pki/envelope.js");
  const options = {
    ...binding,
    files: files.map((f) => ({ name: f.name, data: env.fromBase64(f.data) })),
    price: { totalPrice: "42994.40", durationDays: 180 }, guarantee: { form: "cash", reference: "" },
    signer: null, encryption: env.fromBase64(encryption),
    sign: async (data) => env.utf8("not a signature"),
  };
  if (response) options.response = env.fromBase64(response);
  try {
    const built = await env.buildContainer(options);
    return { container: env.base64(built.container) };
  } catch (error) {
    return { error: error.code || error.name, message: error.message };
  }
}"""


def _open(pki: DevPki, container: Path) -> OpenedPackage:
    part = read_sealed(container, fmt.PACKAGE)
    plain = sealed_bid.open_as_bidder(part, pki.org_enc.key, part.binding)  # type: ignore[arg-type]
    return check_package(plain, part.binding)


async def test_a_response_sealed_in_the_page_opens_like_the_clis(page: Any, pki: DevPki, tmp_path: Path) -> None:
    files = [("技术标.pdf", b"%PDF-1.7 technical" * 50), ("商务标.txt", "商务标\n".encode() * 30)]
    response = json.dumps(_response(pki.org_uscc), ensure_ascii=False, indent=1).encode()
    binding = {"tender": TENDER, "lot": "001", "bidder": pki.org_uscc, "deadline": DEADLINE}
    encryption = base64.b64encode(pki.org_enc.cert_der).decode()
    answer = await page.evaluate(
        BUILD,
        {
            "files": [{"name": n, "data": base64.b64encode(d).decode()} for n, d in files],
            "response": base64.b64encode(response).decode(),
            "encryption": encryption,
            "binding": binding,
        },
    )
    page_container = tmp_path / "page.zip"
    page_container.write_bytes(base64.b64decode(answer["container"]))

    sources = tmp_path / "files"
    sources.mkdir()
    for name, data in files:
        (sources / name).write_bytes(data)
    response_path = tmp_path / "response.json"
    response_path.write_bytes(response)
    built = asyncio.to_thread(  # the SDK signs on its own event loop
        build_container,
        tmp_path / "cli.zip",
        tender=TENDER,
        lot="001",
        bidder_uscc=pki.org_uscc,
        deadline=datetime.fromisoformat(DEADLINE).astimezone(UTC),
        files=[sources / name for name, _ in files],
        price_summary=PriceSummary(
            tender=TENDER, lot="001", bidder=pki.org_uscc, total_price=Decimal("42994.40"), duration_days=180
        ),
        guarantee={"form": "cash", "reference": ""},
        signer=pki.org_sign.signing(),
        bidder_encryption=pki.org_enc.certificate,
        response=response_path,
    )
    cli_container = (await built).path

    opened = {kind: _open(pki, path) for kind, path in (("page", page_container), ("cli", cli_container))}
    # The same package files, in the same order, with the same sizes and digests: the response last,
    # under its reserved name, listed in the inner manifest the envelopes are bound to.
    assert opened["page"].manifest["files"] == opened["cli"].manifest["files"]
    assert [f["name"] for f in opened["page"].manifest["files"]] == ["技术标.pdf", "商务标.txt", fmt.RESPONSE_FILE]
    for package in opened.values():
        assert package.read(fmt.RESPONSE_FILE) == response
        read = response_in_package(package.names(), package.read)
        assert read is not None
        assert (read.bidder, read.total, read.star_responses[1].item) == (pki.org_uscc, Decimal("42994.40"), "S2")

    listed = next(f for f in opened["page"].manifest["files"] if f["name"] == fmt.RESPONSE_FILE)
    assert (listed["size"], listed["sha256"]) == (len(response), hashlib.sha256(response).hexdigest())

    # The bidder's key opens the page's container through the SDK's own path too (contentSha256 of
    # the signed outer manifest checked).
    bound = read_sealed(page_container, fmt.PACKAGE).binding
    reopened = open_package(page_container, pki.org_enc.key, bound)  # type: ignore[arg-type]
    assert reopened.read(fmt.RESPONSE_FILE) == response

    # A package file may not take the response's name (the CLI refuses it the same way).
    refused = await page.evaluate(
        BUILD,
        {
            "files": [{"name": fmt.RESPONSE_FILE, "data": base64.b64encode(response).decode()}],
            "response": None,
            "encryption": encryption,
            "binding": binding,
        },
    )
    assert refused["error"] == "reserved-file", refused


PARTIES = """async ({document}) => {
  const check = await import("/bidding/static/js/response_check.js");
  return check.partyProblems(document).map((p) => [p.rule, p.path]);
}"""

PARTY_CASES: dict[str, dict[str, Any]] = {
    "none": {},
    "all valid": {
        "projectManager": {"name": "张建国", "idNumber": "11010519491231002x", "registrationNo": "京111060800123"},
        "contacts": [{"name": "李四", "phone": "+86 138-0013-8000", "email": "li@a.example.com"}],
        "bidSecurityPayer": {"accountNo": "6222 0210 0112 3456 789", "bank": "中国工商银行北京海淀支行"},
    },
    "landline": {"contacts": [{"name": "钱七", "phone": "021-64281234"}]},
    "checksum": {"projectManager": {"name": "张三", "idNumber": "110105194912310021"}},
    "no birth date": {"projectManager": {"name": "张三", "idNumber": "110105194913310021"}},
    "unidentified": {"projectManager": {"name": " "}},
    "registration": {"projectManager": {"name": "张三", "registrationNo": "a b"}},
    "unreachable": {"contacts": [{"name": "李四"}, {"name": "", "phone": "12345", "email": "not-mail"}]},
    "too many": {"contacts": [{"name": "李四", "email": "li@a.example.com"}] * 6},
    "account": {"bidSecurityPayer": {"accountNo": "6222-12AB", "bank": ""}},
}


@pytest.mark.parametrize("case", list(PARTY_CASES))
async def test_the_page_checks_declared_parties_by_the_sdks_rules(page: Any, case: str) -> None:
    """Issue 19: `bidding.client.parties.problems` and `response_check.js` `partyProblems` give
    the same rules at the same paths on every case."""
    document = PARTY_CASES[case]
    expected = [[p.rule, p.path] for p in parties.problems(document)]
    assert await page.evaluate(PARTIES, {"document": document}) == expected
    assert bool(expected) is (case not in {"none", "all valid", "landline"})
