"""Password hashing, session tokens, TOTP secrets at rest and TOTP codes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from cryptography.exceptions import InvalidTag

from trading.parties import credentials


async def test_password_hash_is_argon2id_and_verifies() -> None:
    stored = await credentials.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert (await credentials.verify_password(stored, "correct horse battery")).ok
    assert not (await credentials.verify_password(stored, "wrong horse battery")).ok
    assert not (await credentials.verify_password(None, "anything at all")).ok


async def test_outdated_parameters_are_rehashed() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("correct horse battery")
    check = await credentials.verify_password(weak, "correct horse battery")
    assert check.ok
    assert check.new_hash is not None
    assert check.new_hash != weak
    assert (await credentials.verify_password(check.new_hash, "correct horse battery")).new_hash is None


def test_session_tokens_are_random_and_stored_hashed() -> None:
    token, hashed = credentials.new_session_token()
    other, _ = credentials.new_session_token()
    assert token != other
    assert hashed == credentials.token_hash(token)
    assert token not in hashed


def test_totp_secret_is_sealed_to_its_user() -> None:
    box = credentials.TotpBox(b"platform secret key")
    alice, bob = uuid.uuid4(), uuid.uuid4()
    secret = credentials.new_totp_secret()
    sealed = box.seal(alice, secret)
    assert secret.encode() not in sealed
    assert box.open(alice, sealed) == secret
    with pytest.raises(InvalidTag):
        box.open(bob, sealed)  # copied onto another user's row it does not decrypt
    with pytest.raises(InvalidTag):
        credentials.TotpBox(b"another key").open(alice, sealed)


def test_totp_codes_are_accepted_once_and_within_one_step() -> None:
    secret = credentials.new_totp_secret()
    totp = pyotp.TOTP(secret)
    now = datetime(2026, 11, 26, 10, 0, 15, tzinfo=UTC)
    code = totp.at(now)
    step = credentials.totp_accepted_step(secret, code, now, last_step=None)
    assert step == totp.timecode(now)
    # The same code again is a replay.
    assert credentials.totp_accepted_step(secret, code, now, last_step=step) is None
    # One step of clock drift either way is tolerated; two are not.
    assert credentials.totp_accepted_step(secret, totp.at(now - timedelta(seconds=30)), now, last_step=None)
    assert credentials.totp_accepted_step(secret, totp.at(now + timedelta(seconds=30)), now, last_step=None)
    assert credentials.totp_accepted_step(secret, totp.at(now - timedelta(seconds=90)), now, last_step=None) is None
    assert credentials.totp_accepted_step(secret, "12345", now, last_step=None) is None
    assert credentials.totp_accepted_step(secret, "abcdef", now, last_step=None) is None


def test_provisioning_uri_names_the_issuer_and_user() -> None:
    uri = credentials.totp_provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "bidder1")
    assert uri.startswith("otpauth://totp/ggzy:bidder1?")
    assert "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri
    assert "issuer=ggzy" in uri
