"""The body the hall's decrypt script posts (``…/bidder/decryption``, JSON ``{"lot", "part",
"contentKey"}``) is read by ``_decryption_fields``: anything else is a refusal naming the field (the
route answers it as a 422 for the script), never an unhandled error (a 500).
"""

from __future__ import annotations

import pytest

from bidding.errors import OpeningRefused
from bidding.opening.web import _decryption_fields


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"[" * 50_000, "body"),  # nested too deep for the JSON reader
        (b"\xff\xfe", "body"),
        (b"[]", "body"),
        (b'{"lot": "001", "part": "package"}', "contentKey"),
    ],
)
def test_a_bad_decryption_body_is_a_refusal_naming_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(OpeningRefused) as refused:
        _decryption_fields(raw)
    assert refused.value.field == field
    assert refused.value.status_code < 500


def test_a_good_body_gives_its_fields() -> None:
    assert _decryption_fields(b'{"lot": "001", "part": "package", "contentKey": "AAAA"}') == {
        "lot": "001",
        "part": "package",
        "contentKey": "AAAA",
    }
