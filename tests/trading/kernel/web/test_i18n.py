"""Locales: negotiation, the catalogues, the language switch, and catalogue coverage."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from babel.messages.pofile import PoFileError
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trading.kernel.web import catalogue, i18n


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh_CN", "zh_CN"),
        ("zh-CN", "zh_CN"),
        ("zh", "zh_CN"),
        ("zh-Hans-CN", "zh_CN"),
        ("zh-TW", None),
        ("zh-Hant", None),
        ("en", "en"),
        ("en-GB", "en"),
        ("EN_us", "en"),
        ("fr", None),
        ("", None),
        (None, None),
        ("<script>", None),
    ],
)
def test_normalize_locale(code: str | None, expected: str | None) -> None:
    assert i18n.normalize_locale(code) == expected


def test_negotiation_order() -> None:
    # Cookie, then ?lang=, then the configured default.
    assert i18n.negotiate_locale(cookie="en", query="zh") == "en"
    assert i18n.negotiate_locale(cookie="bogus", query="en") == "en"
    assert i18n.negotiate_locale(cookie="zh-TW", query="fr") == "zh_CN"
    assert i18n.negotiate_locale(default="en") == "en"
    assert i18n.negotiate_locale(default="nonsense") == "zh_CN"


def test_catalogues_compile_in_memory() -> None:
    compiled = i18n.translations()
    assert set(compiled) == set(i18n.LOCALES)
    with i18n.use_locale("zh_CN"):
        assert i18n.gettext("Dashboard") == "工作台"
        assert i18n.gettext("not in any catalogue") == "not in any catalogue"
    with i18n.use_locale("en"):
        assert i18n.gettext("Dashboard") == "Dashboard"
    assert i18n.get_locale() == i18n.DEFAULT_LOCALE


def test_every_template_string_has_a_chinese_translation() -> None:
    """Every ``_()`` string in any template under trading/ (and every ``N_()`` in modules that use
    the i18n helpers) needs a zh_CN entry. To add entries for new strings:
    ``.venv/bin/python -m trading.kernel.web.catalogue update``, then translate them.
    """
    messages = catalogue.extract_messages()
    assert len(messages) > 100, "the extractor found almost nothing: is the scan broken?"
    assert any(m.location.startswith("trading/kernel/web/templates/layouts/base.html") for m in messages)
    missing = catalogue.missing_translations("zh_CN")
    report = "\n".join(f"  {msgid}  ({', '.join(where)})" for msgid, where in sorted(missing.items()))
    assert not missing, f"{len(missing)} strings have no zh_CN translation:\n{report}"


def test_catalogue_placeholders_survive_translation() -> None:
    """A translation that drops or renames ``%(name)s`` would raise at render time."""
    import re

    placeholder = re.compile(r"%\([a-z_]+\)s")
    broken = [
        message.id
        for message in catalogue.load_catalogue("zh_CN")
        if message.id
        and message.string
        and isinstance(message.id, str)
        and sorted(placeholder.findall(message.id)) != sorted(placeholder.findall(str(message.string)))
    ]
    assert not broken


async def test_default_locale_is_chinese(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    assert "公共资源交易平台" in response.text
    assert "全流程网上办理" in response.text


async def test_switching_to_english_and_back(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/locale/en", params={"next": "/?tab=roles"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/?tab=roles"
    set_cookie = response.headers["set-cookie"]
    assert "ggzy_locale=en" in set_cookie
    assert "HttpOnly" in set_cookie
    assert "Path=/" in set_cookie

    english = await client.get("/")
    assert '<html lang="en">' in english.text
    assert "Public resource trading, fully online" in english.text
    assert 'href="/locale/zh_CN?next=/"' in english.text  # the way back

    await client.get("/locale/zh_CN", params={"next": "/"})
    chinese = await client.get("/")
    assert '<html lang="zh-CN">' in chinese.text


async def test_switch_follows_the_referer_when_there_is_no_next(client: AsyncTestClient[Litestar]) -> None:
    host = "testserver.local"
    response = await client.get(
        "/locale/en", headers={"referer": f"http://{host}/dashboard?x=1", "host": host}, follow_redirects=False
    )
    assert response.headers["location"] == "/dashboard?x=1"


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil", "javascript:alert(1)"],
)
async def test_switch_never_redirects_off_site(client: AsyncTestClient[Litestar], target: str) -> None:
    response = await client.get(f"/locale/en?next={quote(target, safe='')}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_switch_ignores_a_foreign_referer(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/locale/en", headers={"referer": "https://evil.example/phish"}, follow_redirects=False)
    assert response.headers["location"] == "/"


async def test_unknown_locale_is_a_404_page(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/locale/fr", follow_redirects=False)
    assert response.status_code == 404
    assert "页面不存在" in response.text
    assert "set-cookie" not in response.headers or "ggzy_locale" not in response.headers["set-cookie"]


async def test_query_chooses_when_there_is_no_cookie(client: AsyncTestClient[Litestar]) -> None:
    by_query = await client.get("/?lang=en")
    assert '<html lang="en">' in by_query.text
    # An English browser still gets Chinese: the platform's default, not the browser's.
    by_header = await client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="zh-CN">' in by_header.text
    client.cookies.set("ggzy_locale", "zh_CN")
    cookie_wins = await client.get("/?lang=en", headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in cookie_wins.text


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_catalogue_parses_strictly(locale: str) -> None:
    """A catalogue with an entry missing its msgstr (what a careless merge of two appended blocks
    leaves) fails here and at start-up, instead of Babel skipping the entry with a warning."""
    path = i18n.catalogue_path(locale)
    assert path.exists()
    assert len(catalogue.load_catalogue(locale)) > 1000
    # Babel keeps the last of two entries with one msgid without a word; msgfmt refuses the file.
    entries = re.findall(r'^msgid ((?:".*"\n)+)msgstr', path.read_text(encoding="utf-8"), re.MULTILINE)
    repeated = sorted(msgid for msgid, count in Counter(entries).items() if count > 1)
    assert repeated == []


def test_a_broken_catalogue_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = i18n.catalogue_path("en").read_text(encoding="utf-8") + '\nmsgid "Only an id"\n\nmsgid "Next"\nmsgstr ""\n'
    (tmp_path / "en" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "en" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").write_text(broken, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    with pytest.raises(PoFileError, match="missing msgstr"):
        catalogue.load_catalogue("en")
