"""The canonical encodings the ledger hashes and signs (pure, no database)."""

from __future__ import annotations

import hashlib
import struct
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, StrEnum

import pytest

from trading.ledger import encoding


class Colour(StrEnum):
    RED = "red"


class Size(Enum):
    BIG = 3


def test_canonical_json_sorts_keys_drops_whitespace_and_keeps_utf8() -> None:
    assert encoding.canonical_json({"b": 1, "a": [1, 2], "名称": "招标"}) == '{"a":[1,2],"b":1,"名称":"招标"}'.encode()


def test_canonical_json_reduces_rich_types_to_fixed_strings() -> None:
    beijing = timezone(timedelta(hours=8))
    value = {
        "at": datetime(2026, 11, 26, 18, 0, tzinfo=beijing),
        "day": date(2026, 11, 26),
        "id": uuid.UUID("01234567-89ab-7def-8123-456789abcdef"),
        "price": Decimal("1.10"),
        "blob": b"\x00\xff",
        "colour": Colour.RED,
        "size": Size.BIG,
        "pair": (1, "x"),
    }
    assert encoding.canonical_json(value) == (
        b'{"at":"2026-11-26T10:00:00.000000Z","blob":"AP8=","colour":"red","day":"2026-11-26",'
        b'"id":"01234567-89ab-7def-8123-456789abcdef","pair":[1,"x"],"price":"1.10","size":3}'
    )


def test_equal_instants_in_different_zones_encode_equally() -> None:
    utc = datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC)
    assert encoding.canonical_json(utc) == encoding.canonical_json(utc.astimezone(timezone(timedelta(hours=8))))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1),  # noqa: DTZ001 - the point: naive datetimes are refused
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        {1: "int key"},
        {"a", "b"},
        object(),
        "\ud800",  # a lone surrogate has no UTF-8 form
    ],
)
def test_values_without_one_encoding_are_refused(value: object) -> None:
    with pytest.raises(encoding.NotCanonical):
        encoding.canonical_json(value)


def test_data_digest_is_sha256_of_canonical_json() -> None:
    assert encoding.data_digest({"b": 2, "a": 1}) == hashlib.sha256(b'{"a":1,"b":2}').digest()
    assert encoding.data_digest(None) == hashlib.sha256(b"null").digest()


def test_preimage_layout() -> None:
    entry_id, organisation = uuid.uuid4(), uuid.uuid4()
    at = datetime(2000, 1, 1, 0, 0, 1, tzinfo=UTC)
    digest, prev = bytes(range(32)), bytes(range(32, 64))
    preimage = encoding.entry_preimage(
        chain="platform",
        seq=7,
        entry_id=entry_id,
        occurred_at=at,
        actor_kind="user",
        actor_user_id=None,
        actor_label="张三",
        organisation_id=organisation,
        client_ip=None,
        action="parties.user_registered",
        subject_type="user",
        subject_id="42",
        summary_json='{"k":"v"}',
        data_digest=digest,
        prev_hash=prev,
    )
    tag = encoding.ENTRY_TAG
    assert preimage.startswith(tag)
    head = struct.unpack(">q16sq16s16s", preimage[len(tag) : len(tag) + 64])
    assert head == (7, entry_id.bytes, 1_000_000, bytes(16), organisation.bytes)
    assert preimage[encoding.PREV_HASH_OFFSET - 32 : encoding.PREV_HASH_OFFSET] == digest
    assert preimage[encoding.PREV_HASH_OFFSET : encoding.PREV_HASH_OFFSET + 32] == prev
    text = preimage[encoding.PREV_HASH_OFFSET + 32 :].decode()
    assert text.split("\x1f") == ["platform", "user", "张三", "", "parties.user_registered", "user", "42", '{"k":"v"}']


def test_checkpoint_message_is_canonical_json() -> None:
    message = encoding.checkpoint_message(
        number=3,
        created_at=datetime(2026, 11, 26, tzinfo=UTC),
        previous=bytes(32),
        heads={"platform": {"seq": 2, "hash": "ab" * 32}},
    )
    assert message.startswith(b'{"created_at":"2026-11-26T00:00:00.000000Z","heads":{"platform":{"hash":"abab')
    assert b'"number":3' in message
    assert b'"type":"ggzy-ledger-checkpoint/1"' in message
