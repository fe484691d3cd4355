"""Error pages and HTMX error fragments on the web surface (the API keeps problem+json)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.trading.kernel.web.conftest import make_actor
from trading.kernel.auth.roles import Role

HX = {"HX-Request": "true"}


async def test_404_is_a_chinese_page_by_default(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    body = response.text
    assert '<html lang="zh-CN">' in body
    assert "页面不存在" in body
    assert "返回首页" in body
    assert "公共资源交易平台" in body  # rendered inside the layout


async def test_404_in_english_with_the_locale_cookie(client: AsyncTestClient[Litestar]) -> None:
    client.cookies.set("ggzy_locale", "en")
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert '<html lang="en">' in response.text
    assert "Page not found" in response.text


async def test_404_page_shows_the_logged_in_user(client: AsyncTestClient[Litestar], act_as) -> None:
    # No route means no guard ran: the after_exception hook must still resolve the actor.
    act_as(make_actor(Role.BIDDER))
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "张三" in response.text
    assert "退出登录" in response.text


async def test_403_page_when_the_permission_is_missing(shell_app: Litestar, act_as) -> None:
    act_as(make_actor(Role.BIDDER, permissions=frozenset()))
    async with AsyncTestClient(app=shell_app) as client:
        response = await client.get("/_shelltest/conflict")
    assert response.status_code == 403
    assert "无权访问" in response.text
    assert "您的账户无权执行此操作" in response.text
    assert "shelltest:probe:read" not in response.text  # no internals, even harmless ones


async def test_domain_error_shows_its_message(shell_app: Litestar, act_as) -> None:
    act_as(make_actor(Role.TENDEREE))
    async with AsyncTestClient(app=shell_app) as client:
        conflict = await client.get("/_shelltest/conflict")
        invalid = await client.get("/_shelltest/invalid")
    assert conflict.status_code == 409
    assert "该项目已开标，不能再修改。" in conflict.text
    assert "操作冲突" in conflict.text
    assert invalid.status_code == 422
    assert "统一社会信用代码校验位错误" in invalid.text


async def test_500_never_shows_internals(shell_app: Litestar, act_as) -> None:
    act_as(make_actor(Role.BIDDER))
    async with AsyncTestClient(app=shell_app) as client:
        response = await client.get("/_shelltest/boom")
    assert response.status_code == 500
    assert "出错了" in response.text
    assert "secret internals" not in response.text
    assert "postgresql" not in response.text
    assert "Traceback" not in response.text


async def test_429_keeps_retry_after(shell_app: Litestar, act_as) -> None:
    act_as(make_actor(Role.BIDDER))
    async with AsyncTestClient(app=shell_app) as client:
        response = await client.get("/_shelltest/slow-down")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert "请求过于频繁" in response.text


async def test_htmx_error_is_a_toast_fragment(shell_app: Litestar, act_as) -> None:
    act_as(make_actor(Role.TENDEREE))
    async with AsyncTestClient(app=shell_app) as client:
        conflict = await client.get("/_shelltest/conflict", headers=HX)
        missing = await client.get("/no/such/fragment", headers=HX)
    for response in (conflict, missing):
        assert response.headers["hx-retarget"] == "#toasts"
        assert response.headers["hx-reswap"] == "beforeend"
        assert "<html" not in response.text
        assert 'class="toast toast-error"' in response.text
        assert 'role="alert"' in response.text
    assert conflict.status_code == 409
    assert "该项目已开标，不能再修改。" in conflict.text
    assert missing.status_code == 404
    assert "页面不存在" in missing.text


async def test_htmx_history_restore_gets_the_full_page(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/no/such/page", headers={**HX, "HX-History-Restore-Request": "true"})
    assert response.status_code == 404
    assert "<html" in response.text
    assert "hx-retarget" not in response.headers


async def test_401_redirects_to_login_with_next(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/dashboard?tab=bids", follow_redirects=False)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/dashboard?tab=bids"]}


async def test_401_for_htmx_uses_hx_redirect_to_the_page_it_came_from(shell_app: Litestar, act_as) -> None:
    act_as(make_actor(Role.BIDDER))
    async with AsyncTestClient(app=shell_app) as client:
        response = await client.get(
            "/_shelltest/login-required",
            headers={**HX, "HX-Current-URL": "http://testserver.local/tenders/42?lot=1"},
        )
    assert response.status_code == 401
    location = urlsplit(response.headers["hx-redirect"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/tenders/42?lot=1"]}


async def test_401_for_htmx_ignores_a_foreign_current_url(shell_app: Litestar, act_as) -> None:
    act_as(make_actor(Role.BIDDER))
    async with AsyncTestClient(app=shell_app) as client:
        response = await client.get(
            "/_shelltest/login-required", headers={**HX, "HX-Current-URL": "https://evil.example/phish"}
        )
    assert parse_qs(urlsplit(response.headers["hx-redirect"]).query) == {"next": ["/"]}


async def test_csrf_failure_explains_the_expired_form(shell_app: Litestar, act_as) -> None:
    act_as(make_actor(Role.BIDDER))
    async with AsyncTestClient(app=shell_app) as client:
        response = await client.post("/_shelltest/form", data={"x": "1"})
    assert response.status_code == 403
    assert "表单已过期" in response.text


async def test_error_page_renders_when_the_actor_cannot_be_resolved(client: AsyncTestClient[Litestar], act_as) -> None:
    act_as(RuntimeError("database is down"))
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404
    assert "页面不存在" in missing.text
    # The home page needs the actor itself: it fails, and the 500 page still renders.
    home = await client.get("/")
    assert home.status_code == 500
    assert "出错了" in home.text
    assert "database is down" not in home.text


async def test_error_page_ignores_a_garbage_locale(client: AsyncTestClient[Litestar]) -> None:
    client.cookies.set("ggzy_locale", "xx")
    response = await client.get("/no/such/page?lang=%3Cscript%3E", headers={"Accept-Language": ";;q=x,,"})
    assert response.status_code == 404
    assert '<html lang="zh-CN">' in response.text
    assert "<script>" not in response.text


async def test_api_errors_stay_problem_json(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/no-such-endpoint", headers=HX)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404
    assert "hx-retarget" not in response.headers
