"""The kernel form path: typed bodies never fail to decode, the parser names every bad field, the
one translator speaks the reader's language through a domain's labels, and ``submit`` answers 303
on success and 422 on a refusal with nothing of the refused work left in the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar, MediaType, Response, post
from litestar.response import Redirect
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.bounds import RULE_CONTROL, RULE_DIGITS
from trading.kernel.errors import Conflict, NotFound, ValidationFailed
from trading.kernel.web import i18n
from trading.kernel.web.forms import (
    BAD_NUMBER,
    FieldError,
    FieldParser,
    FormBody,
    Labels,
    Many,
    field_errors,
    lines,
    many,
    submit,
)
from trading.kernel.web.i18n import N_

LABELS = Labels(
    fields={"estimate": N_("Estimate (yuan)"), "title": N_("Title")},
    rules={"required": N_("This field is required.")},
)


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass
class ProbeForm:
    title: str = ""
    estimate: str = ""
    colours: Many = field(default_factory=list)


@post("/probe", media_type=MediaType.JSON)
async def probe(data: FormBody[ProbeForm]) -> dict[str, Any]:
    return {"title": data.title, "estimate": data.estimate, "colours": many(data.colours)}


async def _post(form: dict[str, Any]) -> httpx.Response:
    async with AsyncTestClient(Litestar([probe])) as client:
        return await client.post("/probe", data=form)


async def test_a_form_body_decodes_whatever_the_browser_sends() -> None:
    one = await _post({"title": "x", "colours": "red", "_csrf_token": "t"})
    assert one.status_code == 201
    assert one.json() == {"title": "x", "estimate": "", "colours": ["red"]}
    two = await _post({"colours": ["red", "blue"]})
    assert two.json()["colours"] == ["red", "blue"]
    empty = await _post({})
    assert empty.json() == {"title": "", "estimate": "", "colours": []}


def test_the_parser_names_every_bad_field_at_once() -> None:
    parser = FieldParser()
    assert parser.required("title", "  ") == ""
    assert parser.decimal("estimate", "12x") is None
    assert parser.integer("days", "1e3") is None
    assert parser.time("deadline", "tomorrow") is None
    assert parser.choice("colour", "green", Colour) is None
    assert parser.uuid("owner", "not-a-uuid") is None
    with pytest.raises(ValidationFailed) as refused:
        parser.done()
    named = [(item["field"], item["rule"]) for item in refused.value.extra["errors"]]
    assert named == [
        ("title", "required"),
        ("estimate", "format"),
        ("days", "format"),
        ("deadline", "format"),
        ("colour", "known"),
        ("owner", "format"),
    ]


def test_the_parser_returns_typed_values_and_applies_the_bounds() -> None:
    parser = FieldParser()
    assert parser.decimal("estimate", " 1500.50 ", digits=14) == Decimal("1500.50")
    assert parser.integer("days", "", default=90) == 90
    deadline = parser.time("deadline", "2026-12-31T09:30")
    assert deadline is not None
    assert deadline.utcoffset() is not None
    assert deadline.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
    assert parser.choice("colour", "blue", Colour) is Colour.BLUE
    assert parser.choices("colours", "red", [c.value for c in Colour]) == ["red"]
    owner = uuid.uuid4()
    assert parser.uuid("owner", str(owner)) == owner
    parser.done()  # nothing bad so far
    assert parser.decimal("estimate", "1" * 20, digits=14) is None  # too many digits: the bound
    assert parser.text("note", "a\x00b") == ""  # a control character: the bound
    assert [p["rule"] for p in parser.problems] == [RULE_DIGITS, RULE_CONTROL]


def test_lines_split_cells_and_skip_blank_lines() -> None:
    assert lines("A1 | Lot one | 100\n\n  B2|Lot two|200  \n") == [["A1", "Lot one", "100"], ["B2", "Lot two", "200"]]


def test_one_translator_speaks_the_readers_language_through_the_labels() -> None:
    refusal = ValidationFailed(
        "malformed",
        field="estimate",
        extra={
            "errors": [
                {"field": "estimate", "rule": "format", "message": BAD_NUMBER},
                {"field": "title", "rule": "required", "message": "title missing"},
                {"field": "other", "rule": "unlisted_rule", "message": "Only a draft can be changed this way."},
                {"field": "other", "rule": "unlisted_rule", "message": "no catalogue has this: 42"},
            ]
        },
    )
    before = i18n.get_locale()
    i18n.set_locale("zh_CN")
    try:
        errors = field_errors(refusal, LABELS)
    finally:
        i18n.set_locale(before)
    assert errors[0] == FieldError("estimate", "请输入数字。", "估算价（元）", "format")
    # The rule's code is never shown; it rides along for a data-rule attribute.
    assert errors[1] == FieldError("title", "此项为必填项。", "标题", "required")
    # A rule no table words: the message, which the catalogue translates.
    assert errors[2].message == "只有草稿可以这样修改。"
    assert errors[2].label is None
    # ... and an English message no catalogue translates: no English and no code on a Chinese
    # page, but the error's words.
    assert errors[3].message == "校验未通过"
    # Without a label table (sign-in, registration): the message alone.
    with i18n.use_locale("en"):
        assert field_errors(Conflict("taken", field="username", rule="unique")) == [
            FieldError("username", "taken", None, "unique")
        ]
    with i18n.use_locale("zh_CN"):  # an untranslated message gives way to the error's words
        assert field_errors(Conflict("taken", field="username", rule="no_such_rule"))[0].message == "操作冲突"


async def _rows(session: AsyncSession) -> int:
    return int((await session.execute(sa.text("SELECT count(*) FROM form_probe"))).scalar_one())


async def _render(errors: list[FieldError]) -> Response[Any]:
    return Response({"errors": [e.field for e in errors]}, status_code=200)


async def test_submit_redirects_on_success_and_rolls_back_a_refusal(session: AsyncSession) -> None:
    await session.execute(sa.text("CREATE TEMPORARY TABLE form_probe (n integer)"))

    async def accepted() -> int:
        await session.execute(sa.text("INSERT INTO form_probe VALUES (1)"))
        return 7

    ok = await submit(session, accepted, redirect=lambda n: f"/done/{n}", refusal=_render, labels=LABELS)
    assert ok.status_code == 303
    assert isinstance(ok, Redirect)
    assert ok.url == "/done/7"
    assert await _rows(session) == 1

    async def refused() -> int:
        await session.execute(sa.text("INSERT INTO form_probe VALUES (2)"))
        parser = FieldParser()
        parser.decimal("estimate", "x")
        parser.done()
        return 0

    bad = await submit(session, refused, redirect="/never", refusal=_render, labels=LABELS)
    assert bad.status_code == 422
    assert bad.content == {"errors": ["estimate"]}
    assert await _rows(session) == 1  # the refused insert went with its savepoint

    async def missing() -> int:
        raise NotFound("no such tender")

    with pytest.raises(NotFound):  # not a form problem: the error pages answer it
        await submit(session, missing, redirect="/never", refusal=_render, labels=LABELS)
