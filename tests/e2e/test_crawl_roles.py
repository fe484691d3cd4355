"""Acceptance (issue 14): a crawl of every role's pages in Chromium, in the Chinese locale.

Issue 15: the demo's evaluation (an opened tender, its committee in scoring; see
`trading.server.demo_evaluation`) is reached by links: each role's `EVALUATION_PAGES` are visited.

The real server is the embedded demo (`tests.e2e.test_login_locale.demo_server`: SQLite, ``ggzy
demo``, uvicorn). The five-minute demo tender's deadline is reached by moving the server's clock
and running the sweep here, and the demo bidders sign in and decrypt with the bidder client, so its
hall has read the prices out (唱标) while the crawl runs; the first demo tender's
deadline is still weeks away (its hall is a countdown page).

For each role (a demo account logging in through the login page) and for a visitor, the crawl
starts at the dashboard (or the home page), follows every same-origin link breadth-first, one page
per route pattern (ids, codes and cursors folded), and checks every response:

* the status is below 400 and a signed-in user is never sent to the login page;
* no page says 即将上线 (a card for a feature that exists, or a dead card);
* no untranslated catalogue string is visible: no visible text contains a msgid the zh_CN
  catalogue leaves untranslated, and no visible text node, title, placeholder or accessible label
  equals an English msgid the catalogue translates (English UI text shown in the Chinese locale).

Skipped links: the language switch (it sets a preference and would make the next pages English),
``/api/`` (the API and its documentation are English by design) and static assets. Downloads
(PDF, signatures, PEM, documents) are fetched with the context's cookies and their status checked;
they are not rendered. Following links changes nothing in the database (rows per table and ledger
entries per action are compared around each role's crawl), except that a tender document download is
recorded (a legal record, kept secret until the deadline) and the login page issues an ephemeral
login challenge (`GET_RECORDS`).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest

from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS, demo_server, server_clock, server_url
from trading.kernel import clock
from trading.kernel.clock import OffsetFileClock
from trading.kernel.web import catalogue
from trading.server.demo import DEMO_PASSWORD, DEMO_TENDER_CODE
from trading.server.demo_opening import DEMO_OPENING_CODE

__all__ = ["demo_server", "server_clock", "server_url"]
pytestmark = pytest.mark.e2e

ROLES = {
    "admin": "admin",
    "bidder": "bidder-js",  # holds certificates and a sealed bid in the five-minute demo tender
    "tenderee": "tenderee",  # published both demo tenders: hosts their halls
    "agency": "agency",
    "expert": "expert",
    "intermediary": "intermediary",
    "guarantor": "guarantor",
    "supervisor": "supervisor",
}
PAGES_PER_ROLE = 150
"""Enough for every route pattern a role reaches (the crawl reports when it stops at the limit)."""

_ID = "[0-9a-f-]{36}"
EVALUATION_PAGES = {
    "expert": (  # 我的评标 → the session, the workspace, a bid (its PDF framed), progress (the chair), 澄清
        "/evaluation/my",
        "/evaluation/reports",
        rf"/evaluation/e/{_ID}/session",
        rf"/evaluation/e/{_ID}/workspace",
        rf"/evaluation/e/{_ID}/bids/{_ID}",
        rf"/evaluation/e/{_ID}/progress",
        rf"/evaluation/e/{_ID}/clarifications",
    ),
    "tenderee": (  # the tender's manage page → 评标准备 → the host's view, 澄清
        rf"/evaluation/e/{_ID}/setup",
        rf"/evaluation/e/{_ID}/host",
        rf"/evaluation/e/{_ID}/clarifications",
        "/evaluation/sessions",
    ),
    "admin": (  # 专家库, 评标场地, 专家抽取
        "/evaluation/experts",
        "/evaluation/venues",
        rf"/evaluation/venues/{_ID}",
        "/evaluation/draws",
        rf"/evaluation/e/{_ID}/draw",
    ),
    "supervisor": ("/evaluation/sessions", rf"/evaluation/e/{_ID}/live", "/evaluation/draws"),
}
"""Evaluation pages each role reaches by following links (route patterns of paths)."""

SKIPPED_PREFIXES = ("/locale/", "/api/", "/static/", "/bidding/static/", "/logout", "/metrics")
DOWNLOAD = re.compile(
    r"\.(pdf|p7s|json|pem|zip|txt|csv|xlsx|docx|crt|cer|der|p12)$|/documents/[0-9a-f-]{36}(/signature)?$|/export/(pdf|docx)$"
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PROJECT_CODE = re.compile(r"^E\d{19}$")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")

GET_RECORDS = {
    # A tender document download is recorded (实施条例: who downloaded stays secret until the
    # deadline, but the record is kept), with its ledger entry.
    "bidding_document_downloads",
    "ledger_entries",
    "ledger:bidding.document_downloaded",
    "ledger_chain_heads",  # the first download of a tender starts its downloads' chain
    # The login page issues a certificate / QR login challenge: a nonce, ephemeral (purged by
    # parties.purge_login_challenges), not ledgered, like a CSRF token.
    "parties_login_challenges",
    # An evaluation expert's reading of a bid document is recorded (DocumentRead), matched against
    # the signed manifest or not, with its ledger entry (issue 15: every read is on the record).
    "evaluation_document_reads",
    "ledger:evaluation.document_read",
}
"""What following links may add to the database."""

# Visible text that equals an English msgid on purpose, with the reason.
ALLOWED_ENGLISH = {
    "English",  # the language switch names the other language in that language
    "SHA-256",  # the name of the digest algorithm
    "JSON",  # a file format (the signed receipt's exact bytes)
    "PDF",  # a file format
    "USCC",  # an identifier's standard abbreviation
}


@dataclass
class Finding:
    role: str
    url: str
    problem: str

    def __str__(self) -> str:
        return f"[{self.role}] {self.url}: {self.problem}"


@dataclass
class Crawl:
    role: str
    visited: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    english: dict[str, set[str]] = field(default_factory=dict)
    """Runs of three or more English words seen on a page (reported, not asserted: names of
    standards and commands are English too)."""
    truncated: bool = False

    def fail(self, url: str, problem: str) -> None:
        self.findings.append(Finding(self.role, url, problem))


# --- the catalogue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    untranslated: tuple[str, ...]
    """msgids the zh_CN catalogue has no text for."""
    english: frozenset[str]
    """msgids (without placeholders) whose Chinese text differs: shown as-is, they are leaks."""
    patterns: tuple[re.Pattern[str], ...]
    """msgids with ``%(name)s`` placeholders as whole-text patterns."""

    def leaked(self, text: str) -> bool:
        if text in ALLOWED_ENGLISH:
            return False
        return text in self.english or any(p.fullmatch(text) for p in self.patterns)


def _squash(text: str) -> str:
    return " ".join(text.split())


def load_catalogue() -> Catalogue:
    untranslated: list[str] = []
    english: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for message in catalogue.load_catalogue("zh_CN"):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
        translated = any(s and s.strip() for s in strings) and not message.fuzzy
        for msgid in ids:
            text = _squash(msgid)
            if not re.search(r"[A-Za-z]{2}", text):
                continue
            if not translated:
                untranslated.append(text)
            elif _squash(str(strings[0])) != text:
                if PLACEHOLDER.search(text):
                    body = PLACEHOLDER.sub("\0", text)
                    if len(body.replace("\0", "").strip()) >= 4:
                        patterns.append(re.compile(".+?".join(re.escape(part) for part in body.split("\0"))))
                else:
                    english.add(text)
    return Catalogue(tuple(untranslated), frozenset(english), tuple(patterns))


# --- the crawl -------------------------------------------------------------------------------------

_VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (!text) continue;
    const el = node.parentElement;
    if (!el || el.closest("script, style, template, noscript")) continue;
    if (!el.checkVisibility()) continue;
    out.push(text);
  }
  for (const el of document.querySelectorAll("[placeholder], [title], [aria-label]")) {
    if (!el.checkVisibility() && el.tagName !== "NAV" && el.tagName !== "PROGRESS") continue;
    for (const name of ["placeholder", "title", "aria-label"]) {
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push(value.replace(/\\s+/g, " ").trim());
    }
  }
  out.push(document.title.replace(/\\s+/g, " ").trim());
  return out;
}"""

_LINKS = """() => Array.from(document.querySelectorAll("a[href]"), a => a.href)"""

# GET forms (search, filters) are links the reader builds: the form as it stands, and each of the
# first options of its lists on its own.
_GET_FORMS = """max => {
  const urls = [];
  for (const form of document.querySelectorAll("form")) {
    if ((form.getAttribute("method") || "get").toLowerCase() !== "get") continue;
    const action = new URL(form.getAttribute("action") || location.pathname, location.href);
    action.search = "";
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (typeof value === "string") params.append(name, value);
    urls.push(action + "?" + params);
    for (const select of form.querySelectorAll("select[name]")) {
      for (const option of Array.from(select.options).slice(0, max)) {
        urls.push(action + "?" + new URLSearchParams([[select.name, option.value]]));
      }
    }
  }
  return urls;
}"""
OPTIONS_PER_LIST = 6
DOWNLOAD_TIMEOUT_MS = 120_000
"""A receipt PDF is rendered on request; the first one after a start takes the longest."""

_ENGLISH_RUN = re.compile(
    r"[A-Za-z][A-Za-z'’-]+(?:[ ,]+[A-Za-z][A-Za-z'’-]+){2,}"  # three English words or more
    r"|\b[a-z]+(?:_[a-z]+)*\.[a-z]+_[a-z_]+\b"  # a code such as parties.login_succeeded
    r"|\bCNY\b"
)


NEGATIVE_LIST_RULE = re.compile(r"NL(?:-[A-Z0-9]+)+")
INTEGRITY_RULE = re.compile(r"(?:PRICE|EVID|DOC|EXPERT|MARKET)(?:-[A-Z0-9]+)+")
# Cursors and search text, and the procurement libraries' and rule catalogue's filter facets: one
# value of a facet renders the same template and query as another.
_FOLDED_QUERY_KEYS = frozenset(
    {"next", "cursor", "q", "size_class", "industry", "category", "severity", "code", "region", "parent_code"}
    | {"rule", "status", "scope", "tender"}  # the integrity alert list's filters
)


def route_pattern(url: str) -> str:
    """The URL with its ids folded: one page per pattern is enough to find a broken route."""
    parts = urlsplit(url)
    segments = []
    for segment in parts.path.split("/"):
        if PROJECT_CODE.match(segment):
            segments.append(segment)  # few, and each tender is at another stage: one page each
        elif UUID.match(segment):
            segments.append("{id}")
        elif NEGATIVE_LIST_RULE.fullmatch(segment) or INTEGRITY_RULE.fullmatch(segment):
            segments.append("{rule}")  # a rule catalogue's rules (negative list, integrity): one page for all
        elif re.search(r"\d", segment) and len(segment) >= 6:
            segments.append("{code}")
        elif segment.isdigit():
            segments.append("{n}")
        else:
            segments.append(segment)
    query = sorted(
        (key, "{x}" if re.search(r"\d", value) or len(value) > 24 or key in _FOLDED_QUERY_KEYS else value)
        for key, value in parse_qsl(parts.query)  # an empty field is the same page as no field
    )
    return "/".join(segments) + ("?" + "&".join(f"{key}={value}" for key, value in query) if query else "")


def _same_origin_links(base: str, hrefs: Iterable[str]) -> list[str]:
    origin = urlsplit(base)
    out = []
    for href in hrefs:
        absolute = urljoin(base, href)
        parts = urlsplit(absolute)
        if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
            continue
        if parts.path.startswith(SKIPPED_PREFIXES):
            continue
        out.append(parts._replace(fragment="").geturl())
    return out


async def _download(context: Any, url: str, source: str, result: Crawl) -> None:
    """A file a link offers: fetched with the page's cookies, its status checked, not rendered."""
    response = await context.request.get(url, max_redirects=0, timeout=DOWNLOAD_TIMEOUT_MS)
    if response.status >= 400:
        result.fail(url, f"download answered {response.status} (linked from {source})")


async def _visit(page: Any, url: str, source: str, result: Crawl, words: Catalogue, *, signed_in: bool) -> list[str]:
    """Open ``url`` in the page and check it; the same-origin links it offers (none after a failure)."""
    response = await page.goto(url, wait_until="load")
    assert response is not None
    if response.status >= 400:
        result.fail(url, f"answered {response.status} (linked from {source})")
        return []
    if signed_in and urlsplit(page.url).path == "/login":
        result.fail(url, f"sends a signed-in user to the login page (linked from {source})")
        return []
    if "text/html" not in (await response.header_value("content-type") or ""):
        return []
    body = await page.inner_text("body")
    if "即将上线" in body or "Coming soon" in body:
        result.fail(url, "says 即将上线")
    for msgid in words.untranslated:
        if re.search(rf"(?<![A-Za-z]){re.escape(msgid)}(?![A-Za-z])", body):
            result.fail(url, f"shows the untranslated catalogue string {msgid!r}")
    texts: list[str] = await page.evaluate(_VISIBLE_TEXT)
    for text in texts:
        if words.leaked(text):
            result.fail(url, f"shows English catalogue text {text!r}")
        for run in _ENGLISH_RUN.findall(text):
            result.english.setdefault(run, set()).add(route_pattern(url))
    hrefs = [*await page.evaluate(_LINKS), *await page.evaluate(_GET_FORMS, OPTIONS_PER_LIST)]
    return _same_origin_links(page.url, hrefs)


async def crawl(context: Any, base: str, role: str, start: list[str], words: Catalogue, *, signed_in: bool) -> Crawl:
    """Breadth-first from ``start``: one page per route pattern, at most `PAGES_PER_ROLE`."""
    from playwright.async_api import Error as PlaywrightError

    result = Crawl(role)
    page = await context.new_page()
    # Files are fetched alongside the pages (a PDF is rendered on request: seconds, in the server's
    # threads), and awaited at the end.
    downloads: list[asyncio.Task[None]] = []
    queue: deque[tuple[str, str]] = deque((urljoin(base, path), "(start)") for path in start)
    seen: set[str] = set()
    while queue:
        url, source = queue.popleft()
        if route_pattern(url) in seen:
            continue
        seen.add(route_pattern(url))
        if len(result.visited) >= PAGES_PER_ROLE:
            result.truncated = True
            break
        result.visited.append(url)
        if DOWNLOAD.search(urlsplit(url).path):
            downloads.append(asyncio.create_task(_download(context, url, source, result)))
            continue
        try:
            links = await _visit(page, url, source, result, words, signed_in=signed_in)
        except PlaywrightError as exc:
            if "Download is starting" not in str(exc):
                raise
            downloads.append(asyncio.create_task(_download(context, url, source, result)))
            continue
        queue.extend((link, url) for link in links if route_pattern(link) not in seen)
    await asyncio.gather(*downloads)
    await page.close()
    return result


# --- fixtures --------------------------------------------------------------------------------------


async def _sweep(var_dir: Path, server_clock: OffsetFileClock, *, deadline: bool) -> dict[str, int]:
    """The sweep ``make run``'s worker runs, here, on the server's (moved) clock."""
    from bidding.opening.jobs import OpeningClock, TenderDeadline
    from trading.kernel.db.engine import create_engine, create_session_maker
    from trading.kernel.storage import FileStore
    from trading.kernel.sweep import DueHandler, run_sweep
    from trading.kernel.tasks import RecordingPublisher, set_publisher

    engine = create_engine(f"sqlite+aiosqlite:///{var_dir / 'ggzy.sqlite3'}")
    # A deadline asks for a ledger checkpoint after commit: recorded here, as the worker would take it.
    previous = set_publisher(RecordingPublisher())
    try:
        handlers: list[DueHandler] = [OpeningClock()]
        if deadline:
            handlers.insert(0, TenderDeadline(FileStore(var_dir / "files")))
        with clock.use_clock(server_clock):
            report = await run_sweep(create_session_maker(engine), handlers)
    finally:
        set_publisher(previous)
        await engine.dispose()
    assert not report.failed, report
    return dict(report.changed)


def _demo_keys(var_dir: Path, leaf: str) -> Any:
    """A demo bidder's PKCS#12 from the development PKI the demo wrote (``var/dev-ca``)."""
    import json

    from cryptography.hazmat.primitives.serialization import pkcs12

    manifest = json.loads((var_dir / "dev-ca" / "manifest.json").read_text())
    data = (var_dir / "dev-ca" / manifest["leaves"][leaf]["p12"]).read_bytes()
    return manifest, pkcs12.load_key_and_certificates(data, str(manifest["password"]).encode())


@pytest.fixture(scope="module")
async def hall_open(demo_server: tuple[str, Path], server_clock: OffsetFileClock) -> str:
    """The five-minute demo tender's hall, past 唱标: its deadline reached on the server's moved clock
    (as ``make run``'s worker does a few minutes after the start), both demo bidders signed in and
    their bids decrypted on their side (the bidder client, with the demo PKI's keys), so the price
    table is read out while the crawl runs.
    """
    from bidding.client.hall import decrypt_bid, sign_in_signed
    from bidding.client.transport import BidClient, login
    from certs.cms import SigningIdentity
    from trading.server.demo_opening import DEMO_BIDDERS, DEMO_LOT

    server_url, var_dir = demo_server
    server_clock.advance(timedelta(minutes=6))
    assert (await _sweep(var_dir, server_clock, deadline=True)).get("bidding.tender_deadline") == 1
    bidders = []
    for bidder in DEMO_BIDDERS:
        manifest, (key, certificate, chain) = _demo_keys(var_dir, bidder.sign_leaf)
        _, (enc_key, _, _) = _demo_keys(var_dir, bidder.enc_leaf)
        uscc = manifest["identifiers"][bidder.identifier]
        token = await login(server_url, bidder.username, DEMO_PASSWORD)
        bidders.append((BidClient(server_url, token), uscc, enc_key))
        async with BidClient(server_url, token) as client:
            await sign_in_signed(client, DEMO_OPENING_CODE, uscc, SigningIdentity.from_key(key, certificate, chain))
    server_clock.advance(timedelta(minutes=2))  # the demo's one-minute sign-in is over
    await _sweep(var_dir, server_clock, deadline=False)
    for client, uscc, enc_key in bidders:
        async with client:
            await decrypt_bid(client, DEMO_OPENING_CODE, DEMO_LOT, uscc, enc_key)
    return DEMO_OPENING_CODE


@pytest.fixture(scope="module")
async def browser(server_url: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _context(browser: Any, server_url: str, username: str | None) -> Any:
    from playwright.async_api import expect

    context = await browser.new_context(locale="zh-CN", base_url=server_url, accept_downloads=False)
    if username is not None:
        page = await context.new_page()
        await page.goto("/login")
        await page.locator("input[name=username]").fill(username)
        await page.locator("input[name=password]").fill(DEMO_PASSWORD)
        await page.locator("form#login-form button[type=submit]").click()
        await expect(page).to_have_url(re.compile(r"/dashboard$"))
        await page.close()
    return context


@pytest.fixture(scope="module")
def words() -> Catalogue:
    loaded = load_catalogue()
    assert len(loaded.english) > 500, "the catalogue was not read"
    return loaded


async def _font_ratio(page: Any, selector: str) -> float:
    """The font size of ``selector`` over the body's."""
    sizes: list[float] = await page.evaluate(
        "s => [parseFloat(getComputedStyle(document.querySelector(s)).fontSize),"
        " parseFloat(getComputedStyle(document.body).fontSize)]",
        selector,
    )
    return sizes[0] / sizes[1]


# --- tests -----------------------------------------------------------------------------------------


def _rows(var_dir: Path) -> Counter[str]:
    """Rows per table, and ledger entries per action: what a GET must not change."""
    with closing(sqlite3.connect(var_dir / "ggzy.sqlite3")) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts: Counter[str] = Counter()
        for table in tables:
            counts[table] = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 - names from the schema
        for action, count in db.execute("SELECT action, count(*) FROM ledger_entries GROUP BY action"):
            counts[f"ledger:{action}"] = count
    return counts


@pytest.mark.parametrize("role", [*ROLES, "visitor"])
async def test_every_page_of_a_role_answers_in_chinese_and_leads_somewhere(
    *, browser: Any, demo_server: tuple[str, Path], server_url: str, hall_open: str, words: Catalogue, role: str
) -> None:
    started = time.monotonic()
    username = ROLES.get(role)
    context = await _context(browser, server_url, username)
    try:
        before = _rows(demo_server[1])
        start = ["/dashboard"] if username else ["/"]
        result = await crawl(context, server_url, role, start, words, signed_in=username is not None)
        after = _rows(demo_server[1])
    finally:
        await context.close()
    changed = {key: after[key] - before[key] for key in after.keys() | before.keys() if after[key] != before[key]}
    seconds = time.monotonic() - started
    english = "\n".join(f"  {run!r}  on {sorted(where)}" for run, where in sorted(result.english.items()))
    visited = "\n".join(f"  {u}" for u in result.visited)
    print(f"\n[{role}] {len(result.visited)} pages in {seconds:.1f} s:\n{visited}\nEnglish runs seen:\n{english}")  # noqa: T201
    assert len(result.visited) >= 3, result.visited
    assert not result.truncated, f"more than {PAGES_PER_ROLE} route patterns for {role}: raise the limit"
    assert not result.findings, "\n".join(str(f) for f in result.findings)
    # Following links changes nothing, except that a tender document download is recorded.
    assert set(changed) <= GET_RECORDS, changed
    # Everyone finds the open hall by following links; the roles with a place in it find their page.
    paths = {urlsplit(u).path for u in result.visited}
    assert f"/bidding/opening/{hall_open}" in paths, result.visited
    assert f"/bidding/opening/{DEMO_TENDER_CODE}" in paths, result.visited  # the countdown page
    own_page = {"bidder": "bidder", "tenderee": "host", "supervisor": "supervise", "admin": "supervise"}
    if role in own_page:
        assert f"/bidding/opening/{hall_open}/{own_page[role]}" in paths, result.visited
    # Issue 15: the demo's evaluation (in scoring) is reached by links in each role's pages.
    for pattern in EVALUATION_PAGES.get(role, ()):
        assert any(re.fullmatch(pattern, path) for path in paths), (pattern, result.visited)


async def test_the_hall_is_reached_by_links_from_the_tender_page(browser: Any, server_url: str, hall_open: str) -> None:
    """From the tender page: the public hall for anyone, the bidder's seat for a bidder with a bid,
    the host's desk for the tenderee; the tender list shows the tender with its stage."""
    from playwright.async_api import expect

    for username, link, heading_path in (
        (None, "visitor", f"/bidding/opening/{hall_open}"),
        ("bidder-js", "bidder", f"/bidding/opening/{hall_open}/bidder"),
        ("tenderee", "host", f"/bidding/opening/{hall_open}/host"),
    ):
        context = await _context(browser, server_url, username)
        try:
            page = await context.new_page()
            await page.goto("/bidding/tenders")
            await page.locator(f"a[href='/bidding/tenders/{hall_open}']").first.click()
            await expect(page).to_have_url(re.compile(rf"/bidding/tenders/{hall_open}$"))
            await page.locator(f"#hall a[data-hall='{link}']").click()
            await expect(page).to_have_url(re.compile(rf"{re.escape(heading_path)}$"))
            await expect(page.locator("h1")).to_contain_text("开标大厅")
            await expect(page.locator("#hall-stage")).to_have_text("唱标")
            await expect(page.locator("#hall-bids-total")).to_have_text("2")  # the two demo bids are in
            await expect(page.locator("#hall-prices tbody tr")).to_have_count(2)  # and read out
            if link == "bidder":  # the seat opens with the hall's clock, large
                await expect(page.locator("#hall-clock-stage")).to_have_text("唱标")
                await expect(page.locator("#hall-clock-time")).to_have_text(
                    await page.locator("#hall-countdown").inner_text()
                )
                assert await page.evaluate("document.querySelector('main').firstElementChild.id") == "hall-clock"
                assert await _font_ratio(page, "#hall-clock-time") >= 2
        finally:
            await context.close()


async def test_before_the_deadline_the_bidders_hall_page_opens_with_a_large_countdown(
    browser: Any, server_url: str
) -> None:
    """The first demo tender's deadline is weeks away: the bidder's hall page is a countdown, the
    first thing on the page and in large type."""
    from playwright.async_api import expect

    context = await _context(browser, server_url, "bidder1")
    try:
        page = await context.new_page()
        await page.goto(f"/bidding/tenders/{DEMO_TENDER_CODE}")
        await page.locator("#hall a[data-hall='visitor']").click()
        await page.goto(f"/bidding/opening/{DEMO_TENDER_CODE}/bidder")
        countdown = page.locator("#hall-countdown [data-countdown-value]")
        await expect(countdown).to_have_text(re.compile(r"^\d+ 天 \d\d:\d\d:\d\d$"))
        first = await page.evaluate("document.querySelector('main').firstElementChild.id")
        assert first == "hall-countdown"
        assert await _font_ratio(page, "#hall-countdown [data-countdown-value]") >= 2
    finally:
        await context.close()


async def test_the_check_sees_english_when_a_page_is_english(browser: Any, server_url: str, words: Catalogue) -> None:
    """The crawl's translation check can fail: the same pages in English are caught."""
    context = await _context(browser, server_url, "bidder1")
    try:
        page = await context.new_page()
        await page.goto("/locale/en?next=/dashboard")
        result = Crawl("bidder (English)")
        await _visit(page, f"{server_url}/dashboard", "(start)", result, words, signed_in=True)
    finally:
        await context.close()
    leaks = [f.problem for f in result.findings if "English catalogue text" in f.problem]
    assert any("'Log out'" in leak for leak in leaks), result.findings
    assert len(leaks) >= 10, leaks
