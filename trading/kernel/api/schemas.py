"""What API read schemas share."""

from __future__ import annotations

from typing import Any, Self

import msgspec


class RowRead(msgspec.Struct):
    """A read schema whose fields are the source's attributes of the same names, except those
    ``given`` (derived values: hex of a digest, rendered text).
    """

    @classmethod
    def of(cls, row: Any, **given: Any) -> Self:
        return cls(**{name: given[name] if name in given else getattr(row, name) for name in cls.__struct_fields__})
