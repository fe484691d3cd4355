"""Input bounds (issue 11, finding 5): every class of bad input is a clear 4xx naming the field and
the rule, as problem+json on the API and as an error on pages; never a 500, never half-written.

The request-level rules (encoding, depth, size, control characters anywhere) are exercised on
self-registration, a public route that would store an organisation, a user and a membership; the
field rules of :mod:`trading.kernel.bounds` on the schema types themselves; the display filter on
the extreme values a database can hold.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any

import httpx
import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import PASSWORD, api_token, bearer, create_account, new_uscc, new_username
from trading.kernel.api.bounds import MAX_JSON_DEPTH, MAX_TEXT_BODY_BYTES
from trading.kernel.auth.roles import Role
from trading.kernel.bounds import BigInt, Digits, Input, InputRefused, MaxLength, ShortText
from trading.kernel.settings import Settings
from trading.kernel.web.templating import local_time
from trading.parties.models import Organisation, User

PROBLEM = "application/problem+json"
REGISTRATIONS = "/api/v1/parties/registrations"


def registration(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "uscc": new_uscc(),
        "organisation_name": "淮安边界测试有限公司",
        "organisation_kind": "enterprise",
        "role": "bidder",
        "username": new_username("bounds"),
        "display_name": "边界测试",
        "password": PASSWORD,
    }
    body.update(overrides)
    return body


def assert_problem(response: httpx.Response, status: int, field: str, rule: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    errors = response.json()["errors"]
    assert {"field": field, "rule": rule} in [{"field": e["field"], "rule": e["rule"]} for e in errors]


async def assert_nothing_registered(session_maker: async_sessionmaker[AsyncSession], username: str, uscc: str) -> None:
    async with session_maker() as session:
        assert await session.scalar(sa.select(sa.func.count()).where(User.username == username)) == 0
        assert await session.scalar(sa.select(sa.func.count()).where(Organisation.uscc == uscc)) == 0


# --- the request: encoding, syntax, depth, size ------------------------------------------------------


async def test_non_utf8_json_is_400_naming_the_body(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    body = registration()
    raw = msgspec.json.encode(body).replace("淮安".encode(), b"\xff\xfe")
    response = await client.post(REGISTRATIONS, content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 400, "body", "utf-8")
    await assert_nothing_registered(session_maker, str(body["username"]), str(body["uscc"]))


async def test_deeply_nested_json_is_400_max_depth(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    body = registration()
    nested = b"[" * 100_000 + b"]" * 100_000
    raw = msgspec.json.encode(body)[:-1] + b', "display_name": ' + nested + b"}"
    response = await client.post(REGISTRATIONS, content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 400, "body", "max-depth")
    await assert_nothing_registered(session_maker, str(body["username"]), str(body["uscc"]))
    # Depth that a real body may have is untouched (brackets inside strings do not count).
    shallow = registration(display_name="[" * (MAX_JSON_DEPTH + 1))
    assert (await client.post(REGISTRATIONS, json=shallow)).status_code == 201


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
async def test_non_finite_json_numbers_are_400_not_json(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], number: bytes
) -> None:
    body = registration()
    raw = msgspec.json.encode(body)[:-1] + b', "extra": ' + number + b"}"
    response = await client.post(REGISTRATIONS, content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 400, "body", "json")
    await assert_nothing_registered(session_maker, str(body["username"]), str(body["uscc"]))


async def test_oversized_json_body_is_413(client: httpx.AsyncClient) -> None:
    raw = b'{"padding": "' + b"x" * (MAX_TEXT_BODY_BYTES + 1) + b'"}'
    response = await client.post(REGISTRATIONS, content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 413, "body", "max-size")


# --- control characters, named by field ----------------------------------------------------------------


@pytest.mark.parametrize("field", ["organisation_name", "username", "display_name", "password"])
async def test_nul_in_a_json_field_is_422_naming_it(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], field: str
) -> None:
    body = registration()
    body[field] = f"{body[field]}\x00tail"
    response = await client.post(REGISTRATIONS, json=body)
    assert_problem(response, 422, field, "no-control-characters")
    await assert_nothing_registered(session_maker, str(body["username"]).replace("\x00tail", ""), str(body["uscc"]))


async def test_lone_surrogate_is_refused(client: httpx.AsyncClient) -> None:
    """PostgreSQL cannot store one: not JSON in a body, not UTF-8 in a form, a control character in code."""
    raw = msgspec.json.encode(registration())[:-1] + b', "display_name": "a\\ud800b"}'
    response = await client.post(REGISTRATIONS, content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 400, "body", "json")
    form = await client.post(
        "/login", content=b"username=a%ED%A0%80b", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert form.status_code == 400
    assert refused(good(note="a\ud800b")) == ("note", "no-control-characters")


async def test_line_break_in_a_single_line_field_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTRATIONS, json=registration(username="two\nlines"))
    assert_problem(response, 422, "username", "single-line")


async def test_nul_in_the_api_login_username_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/tokens", json={"username": "admin\x00", "password": PASSWORD})
    assert_problem(response, 422, "username", "no-control-characters")


async def test_nul_in_the_page_login_username_is_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/login",
        content=b"username=admin%00&password=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"]
    assert 'data-field="username" data-rule="no-control-characters"' in response.text
    assert "不允许包含控制字符" in response.text


async def test_nul_in_a_query_or_path_parameter_is_422_naming_it(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    supervisor = await create_account(session_maker, settings, Role.SUPERVISOR)
    headers = bearer(await api_token(client, supervisor))
    listed = await client.get("/api/v1/ledger/entries", params={"subject_id": "x\x00y"}, headers=headers)
    assert_problem(listed, 422, "subject_id", "no-control-characters")
    path = await client.get("/api/v1/parties/organisations/a%00b", headers=headers)
    assert 400 <= path.status_code < 500
    bad_utf8 = await client.get("/api/v1/ledger/entries?subject_id=%ff", headers=headers)
    assert_problem(bad_utf8, 400, "query", "utf-8")


# --- paging -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [str(2**63), str(2**64 + 1), "99999999999999999999999999"])
async def test_offset_beyond_int64_is_4xx_naming_offset(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, offset: str
) -> None:
    admin = await create_account(session_maker, settings, Role.ADMIN)
    headers = bearer(await api_token(client, admin))
    for path in ("/api/v1/parties/organisations", "/api/v1/parties/memberships"):
        response = await client.get(path, params={"offset": offset}, headers=headers)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert [e["field"] for e in response.json()["errors"]] == ["offset"]
    assert (await client.get("/api/v1/parties/organisations?offset=5", headers=headers)).status_code == 200


# --- the schema types ---------------------------------------------------------------------------------


class Line(msgspec.Struct, rename="camel"):
    line_name: ShortText
    line_amount: Annotated[Decimal, Digits(14)]


class Body(Input, rename="camel"):
    title: ShortText
    lines: list[Line]
    deadline: datetime | None = None
    size: BigInt = 0
    count: int = 0
    note: str = ""


def refused(body: dict[str, Any]) -> tuple[str | None, str | None]:
    with pytest.raises(InputRefused) as caught:
        msgspec.convert(body, Body, strict=False)
    assert caught.value.status_code == 422
    return caught.value.field, caught.value.rule


def good(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"title": "标题", "lines": [{"lineName": "一", "lineAmount": "1.00"}]}
    body.update(overrides)
    return body


def test_timezone_is_required() -> None:
    assert refused(good(deadline="2030-01-01T00:00:00")) == ("deadline", "timezone-required")


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59Z", "1999-12-31T23:59:59+08:00", "2101-01-01T00:00:00Z"])
def test_years_outside_2000_2100_are_refused(when: str) -> None:
    assert refused(good(deadline=when)) == ("deadline", "year-range")


@pytest.mark.parametrize(
    ("amount", "rule"),
    [
        ("NaN", "finite-number"),
        ("Infinity", "finite-number"),
        ("-Infinity", "finite-number"),
        ("1e30", "max-digits"),
        (1e30, "max-digits"),
        ("100000000000000", "max-digits"),
    ],
)
def test_amounts_are_finite_and_fit_their_column(amount: object, rule: str) -> None:
    assert refused(good(lines=[{"lineName": "一", "lineAmount": amount}])) == ("lines[0].lineAmount", rule)


def test_integers_fit_their_column() -> None:
    assert refused(good(count=2**31)) == ("count", "integer-range")
    assert refused(good(size=2**63)) == ("size", "integer-range")
    assert msgspec.convert(good(size=2**40), Body, strict=False).size == 2**40


def test_text_rules_name_the_nested_field() -> None:
    assert refused(good(lines=[{"lineName": "a\x00", "lineAmount": "1"}])) == (
        "lines[0].lineName",
        "no-control-characters",
    )
    assert refused(good(note="a\x07b")) == ("note", "no-control-characters")
    assert refused(good(title="a\tb")) == ("title", "single-line")


def test_legitimate_values_pass() -> None:
    body = msgspec.convert(
        good(
            deadline="2100-12-31T23:59:59+08:00",
            note="第一行\r\n第二行\t缩进",
            lines=[{"lineName": "一", "lineAmount": "99999999999999.99"}, {"lineName": "二", "lineAmount": "-0.01"}],
        ),
        Body,
        strict=False,
    )
    assert body.lines[0].line_amount == Decimal("99999999999999.99")
    assert body.note.startswith("第一行\r\n")


def test_bodies_built_in_code_obey_the_same_rules() -> None:
    """Forms build the same structs in Python: ``__post_init__`` checks them there too."""
    with pytest.raises(InputRefused) as caught:
        Body(title="t", lines=[], deadline=datetime(9999, 12, 31, tzinfo=UTC))
    assert (caught.value.field, caught.value.rule) == ("deadline", "year-range")


# --- templates show whatever is stored ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=8))),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
    ],
)
def test_local_time_never_raises_on_extreme_stored_times(value: datetime) -> None:
    shown = local_time(value, "%Y-%m-%d %H:%M")
    assert str(value.year) in shown


def test_local_time_shows_china_standard_time() -> None:
    assert local_time(datetime(2026, 1, 1, tzinfo=UTC), "%Y-%m-%d %H:%M") == "2026-01-01 08:00"
    assert local_time(None) == ""


# --- the request check stays cheap on hostile bodies (timings in bench/input_bounds.py) -------------


def _two_megabytes_of(unit: bytes, head: bytes = b"") -> bytes:
    count = (MAX_TEXT_BODY_BYTES - len(head) - 20) // (len(unit) + 1)
    return b"[" + head + b",".join([unit] * count) + b"]"


async def test_a_2mb_body_of_small_arrays_is_a_4xx_not_a_stall_or_500(client: httpx.AsyncClient) -> None:
    """It used to cost seconds of pure-Python scanning before any guard; now one C-speed parse."""
    response = await client.post(
        REGISTRATIONS, content=_two_megabytes_of(b"[1]"), headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_a_control_character_beyond_the_walk_budget_is_still_refused(client: httpx.AsyncClient) -> None:
    raw = _two_megabytes_of(b"[1]", head=b"[1],")[:-1] + b',"\\u0000"]'  # last, where the walk never gets
    response = await client.post(REGISTRATIONS, content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 422, "body", "no-control-characters")


@pytest.mark.parametrize(
    ("escaped", "refused"),
    [
        (b"\\\\u0000", False),  # an escaped backslash, then the text "u0000"
        (b"\\\\\\u0000", True),  # an escaped backslash, then NUL
        (b"\\u00e9", False),  # an escaped letter (é)
        (b"\\u007F", True),
        (b"\\u0085", True),
        ("\x85".encode(), True),  # a C1 control written raw is valid JSON
        (b"\\ud83d\\ude00", False),  # a surrogate pair is one character
    ],
)
async def test_control_characters_are_found_in_the_raw_json(
    client: httpx.AsyncClient, escaped: bytes, *, refused: bool
) -> None:
    raw = msgspec.json.encode(registration())[:-1] + b', "organisation_name": "x' + escaped + b'y"}'
    response = await client.post(REGISTRATIONS, content=raw, headers={"content-type": "application/json"})
    if refused:
        assert_problem(response, 422, "organisation_name", "no-control-characters")
    else:
        assert response.status_code == 201, response.text


def test_text_longer_than_its_column_is_refused_as_max_length() -> None:
    class Named(Input):
        title: Annotated[ShortText, MaxLength(4)]
        notes: list[Annotated[str, MaxLength(2)]] = msgspec.field(default_factory=list)

    assert msgspec.convert({"title": "四个汉字", "notes": ["ok"]}, Named).title == "四个汉字"
    with pytest.raises(InputRefused) as raised:
        msgspec.convert({"title": "五个汉字呀"}, Named)
    assert (raised.value.field, raised.value.rule) == ("title", "max-length")
    with pytest.raises(InputRefused) as raised:
        msgspec.convert({"title": "a", "notes": ["ok", "too long"]}, Named)
    assert (raised.value.field, raised.value.rule) == ("notes[1]", "max-length")
