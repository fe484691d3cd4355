"""The shell's pages (home, dashboard per role), the layout, static assets and the API docs."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.trading.kernel.web.conftest import PROFILE_READ, make_actor
from trading.kernel.auth.roles import Role
from trading.kernel.web import i18n
from trading.kernel.web.navigation import ROLE_LABELS
from trading.server.shell import NAVIGATION

ROLE_TITLES_ZH = {
    Role.BIDDER: "投标人工作台",
    Role.TENDEREE: "招标人工作台",
    Role.AGENCY: "招标代理机构工作台",
    Role.EXPERT: "评标专家工作台",
    Role.INTERMEDIARY: "中介服务机构工作台",
    Role.GUARANTOR: "担保机构工作台",
    Role.SUPERVISOR: "行政监督工作台",
    Role.ADMIN: "交易中心管理员工作台",
}


async def test_home_for_an_anonymous_visitor(app: Litestar, client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    body = response.text
    assert "<title>首页 · ggzy 公共资源交易平台</title>" in body
    assert "退出登录" not in body
    assert 'action="/logout"' not in body
    # Anonymous visitors are offered log in / register (when those pages are registered).
    if "/login" in {route.path for route in app.routes}:
        assert 'href="/login"' in body
    assert 'href="/dashboard"' not in body


async def test_layout_loads_local_assets_and_sends_csrf_through_htmx(client: AsyncTestClient[Litestar]) -> None:
    body = (await client.get("/")).text
    htmx = re.search(r'<script src="(/static/vendor/htmx/htmx\.min\.js\?v=[0-9a-f]+)" defer>', body)
    css = re.search(r'href="(/static/css/ggzy\.css\?v=[0-9a-f]+)"', body)
    assert htmx
    assert css
    for url in (htmx.group(1), css.group(1)):
        asset = await client.get(url)
        assert asset.status_code == 200, url
    hx_headers = re.search(r"<body hx-headers='([^']*)'( data-agent-url=\"[^\"]*\")?>", body)
    assert hx_headers
    assert '"x-csrftoken": "' in hx_headers.group(1)
    # where pki/agent.js finds the local certificate agent (GGZY_WEB_AGENT_URL)
    assert hx_headers.group(2) == ' data-agent-url="http://127.0.0.1:17321"'
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", body)
    assert config
    assert '"code": "422", "swap": true' in config.group(1)
    assert '"historyCacheSize": 0' in config.group(1)
    assert "cdn" not in body.lower()
    assert not re.search(r'(?:src|href)="(?:https?:)?//', body)  # nothing loaded from elsewhere


async def test_dashboard_for_a_bidder(client: AsyncTestClient[Litestar], act_as) -> None:
    act_as(make_actor(Role.BIDDER))
    response = await client.get("/dashboard")
    assert response.status_code == 200
    body = response.text
    assert 'data-role="bidder"' in body
    assert "投标人工作台" in body
    assert "欢迎您，张三。" in body
    assert "淮安示例建设工程有限公司" in body
    assert "投标人 / 供应商" in body  # the role tag
    assert 'action="/logout"' in body
    assert 'name="_csrf_token"' in body
    assert "行政监督工作台" not in body  # only the bidder's own dashboard


async def test_dashboard_in_english(client: AsyncTestClient[Litestar], act_as) -> None:
    act_as(make_actor(Role.BIDDER))
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    body = (await client.get("/dashboard")).text
    assert "Bidder dashboard" in body
    assert "Welcome, 张三." in body
    assert "Log out" in body


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_has_its_dashboard(client: AsyncTestClient[Litestar], act_as, role: Role) -> None:
    act_as(make_actor(role, username=f"{role}1"))
    body = (await client.get("/dashboard")).text
    assert f'data-role="{role}"' in body
    assert ROLE_TITLES_ZH[role] in body
    with i18n.use_locale("zh_CN"):
        assert i18n.gettext(ROLE_LABELS[role]) in body


def test_every_role_is_covered_by_the_navigation() -> None:
    assert {board.role for board in NAVIGATION.dashboards} == set(Role)


async def test_a_user_with_several_roles_sees_each_dashboard(client: AsyncTestClient[Litestar], act_as) -> None:
    act_as(make_actor(Role.TENDEREE, Role.BIDDER))
    body = (await client.get("/dashboard")).text
    # In the order roles are declared, whatever order the memberships came in.
    assert body.index('data-role="bidder"') < body.index('data-role="tenderee"')


async def test_a_user_without_a_role_is_told_so(client: AsyncTestClient[Litestar], act_as) -> None:
    act_as(make_actor(permissions=frozenset({PROFILE_READ})))
    body = (await client.get("/dashboard")).text
    assert 'data-role="none"' in body
    assert "尚未分配角色" in body


async def test_user_names_are_escaped(client: AsyncTestClient[Litestar], act_as) -> None:
    act_as(make_actor(Role.BIDDER, display_name="<script>alert(1)</script>", organisation_name="A & B <i>"))
    body = (await client.get("/dashboard")).text
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "A &amp; B &lt;i&gt;" in body


async def test_dashboard_needs_a_login(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/dashboard", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_planned_work_is_described_not_linked(client: AsyncTestClient[Litestar], act_as) -> None:
    act_as(make_actor(Role.GUARANTOR))
    body = (await client.get("/dashboard")).text
    assert "即将上线" not in body
    assert "电子保函" in body
    assert 'href="/inbox"' in body  # when the guarantor is needed, the inbox says so


async def test_api_docs_use_local_swagger_assets(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/docs")
    assert response.status_code == 200
    body = response.text
    assert "cdn" not in body.lower()
    assert "jsdelivr" not in body.lower()
    urls = re.findall(r'(?:src|href)="(/static/vendor/swagger-ui/[^"]+)"', body)
    assert {url.split("?")[0].rsplit("/", 1)[1] for url in urls} == {
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
    }
    for url in urls:
        assert (await client.get(url)).status_code == 200, url
    openapi = await client.get("/api/v1/docs/openapi.json")
    assert openapi.status_code == 200
    assert openapi.json()["info"]["title"] == "ggzy API"
