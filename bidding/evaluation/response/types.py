"""The field types both documents share, with the constraints their JSON Schemas publish."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec

_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"

Code = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=40,
        pattern=r"^[0-9A-Za-z][0-9A-Za-z._/-]*$",
        description="an identifier: letters, digits and . _ / - (a bill line code as 010101001001)",
    ),
]
Text = Annotated[str, msgspec.Meta(max_length=500, pattern=_NO_CONTROL, description="one line of text")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_NO_CONTROL)]
Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=_NO_CONTROL, description="计量单位, e.g. m³")]
Uscc = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$",
        description="统一社会信用代码 (GB 32100)",
    ),
]
Grade = Annotated[
    int,
    msgspec.Meta(
        ge=0,
        le=9,
        description="a qualification grade, numbered as Chinese grades are: 0 特级, 1 一级, 2 二级, 3 三级 …; "
        "a lower number is the higher grade",
    ),
]
Money = Annotated[
    Decimal,
    msgspec.Meta(
        extra_json_schema={"pattern": r"^(0|[1-9][0-9]{0,13})(\.[0-9]{1,2})?$"},
        description="an amount in yuan written as a string: up to 14 digits, at most 2 decimals",
    ),
]
Quantity = Annotated[
    Decimal,
    msgspec.Meta(
        extra_json_schema={"pattern": r"^(0|[1-9][0-9]{0,13})(\.[0-9]{1,4})?$"},
        description="a quantity written as a string: greater than 0, at most 4 decimals",
    ),
]
Points = Annotated[
    Decimal,
    msgspec.Meta(
        extra_json_schema={"pattern": r"^(0|[1-9][0-9]{0,3})(\.[0-9]{1,2})?$"},
        description="points written as a string, at most 2 decimals",
    ),
]
