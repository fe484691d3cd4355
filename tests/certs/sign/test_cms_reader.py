"""The DER reader (`certs.der`) behind `certs.cms`'s fast path: it reads the common CMS shape and the
timestamp's TSTInfo exactly as asn1crypto does, and never accepts what the asn1crypto path refuses.

Real signatures by the development PKI and the platform TSA; every byte of a signature and of its
timestamp token is altered in turn, and the fast path either hands the bytes on (None) or agrees
with the full parser's acceptance field by field.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from asn1crypto import core  # type: ignore[import-untyped]

from certs import cms, der
from certs.devpki.pki import DevPki
from certs.errors import Reason, Refused
from certs.sign import cades
from certs.tsa import client as tsa_client

DATA = b'{"amount":"200000.00","guaranteeNo":"JSBK-2026-000123"}'


def _fields(signed: cms.VerifiedSignedData) -> tuple[object, ...]:
    return (
        signed.signer_certificate,
        signed.certificates,
        signed.algorithm,
        signed.content_type,
        signed.content,
        signed.signing_time,
        signed.signature,
    )


def _outcome(der_bytes: bytes, content: bytes | None) -> tuple[object, ...]:
    """What the full (asn1crypto) path says: the fields, or the refusal's reason."""
    try:
        return _fields(cms.verify_signed_data(der_bytes, detached_content=content))
    except Refused as refusal:
        return ("refused", refusal.reason)


def _full(der_bytes: bytes, content: bytes | None) -> tuple[object, ...]:
    """What the asn1crypto path alone says (the fast path bypassed)."""
    try:
        return _fields(cms._verify_parsed(der_bytes, content))
    except Exception as exc:  # noqa: BLE001 - any refusal or error counts as not accepted
        return ("refused", type(exc).__name__)


@pytest.fixture(scope="module")
async def signature(pki: DevPki, tsa: tsa_client.LocalTsa) -> bytes:
    return await cades.sign_detached(DATA, pki.org_sign.signing(), tsa=tsa)


def _token(signature: bytes) -> bytes:
    signed = cms.verify_signed_data(signature, detached_content=DATA)
    [token] = cms.unsigned_attribute_der(signed, cades.SIGNATURE_TIMESTAMP)
    return token


def test_the_common_shape_reads_as_the_full_parser_reads_it(signature: bytes) -> None:
    fast = cms._verify_common_shape(signature, DATA)
    assert fast is not None
    full = cms._verify_parsed(signature, DATA)
    assert _fields(fast) == _fields(full)
    assert fast.signing_time is not None
    assert cms.unsigned_attribute_der(fast, cades.SIGNATURE_TIMESTAMP) == [
        bytes(t.dump()) for t in cms.unsigned_attribute(full.signer_info, cades.SIGNATURE_TIMESTAMP)
    ]
    # what callers still read from the asn1crypto objects is there
    assert bytes(fast.signer_info.dump()) == bytes(full.signer_info.dump())

    token = _token(signature)
    fast_token = cms._verify_common_shape(token, None)
    assert fast_token is not None
    full_token = cms._verify_parsed(token, None)
    assert _fields(fast_token) == _fields(full_token)
    assert tsa_client._read_tst_info_der(fast_token.content) == tsa_client._read_tst_info_parsed(
        full_token.encap_content_info
    )


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")  # altered serials
@pytest.mark.parametrize("which", ["signature", "token"])
def test_no_altered_byte_is_accepted_unless_the_full_parser_accepts_it_too(signature: bytes, which: str) -> None:
    original, content = (signature, DATA) if which == "signature" else (_token(signature), None)
    accepted = refused = 0
    for position in range(len(original)):
        altered = bytearray(original)
        altered[position] ^= 0x01
        altered_bytes = bytes(altered)
        fast = cms._verify_common_shape(altered_bytes, content)
        outcome = _outcome(altered_bytes, content)  # never raises anything but a named refusal
        if fast is None:
            refused += 1
            continue
        accepted += 1
        assert _fields(fast) == _full(altered_bytes, content) == outcome, position
    # the signed octets refuse; the unsigned timestamp's bytes (its own signature is checked when it is
    # read as a token) and those of the certificates the signer does not need are not covered
    assert refused > 0
    assert accepted > 0 if which == "signature" else True


def test_the_fast_path_is_the_only_path_for_what_it_accepts(signature: bytes) -> None:
    # through the public function: the same refusal reason as the full parser for a broken signature
    broken = bytearray(signature)
    broken[-200] ^= 0x01  # inside the timestamp token: still a valid guarantor signature
    assert _outcome(bytes(broken), DATA) == _full(bytes(broken), DATA)
    with pytest.raises(Refused) as refused:
        cms.verify_signed_data(signature, detached_content=DATA + b" ")
    with pytest.raises(Refused) as refused_in_full:
        cms._verify_parsed(signature, DATA + b" ")
    assert refused.value.reason is refused_in_full.value.reason


def test_forms_outside_der_are_left_to_the_full_parser(signature: bytes) -> None:
    assert cms._verify_common_shape(signature + b"\x00", DATA) is None
    # the outer length in a longer form than needed (BER, not DER)
    size = int.from_bytes(signature[2:4], "big")
    ber = b"\x30\x83" + size.to_bytes(3, "big") + signature[4:]
    assert signature[1] == 0x82
    assert cms._verify_common_shape(ber, DATA) is None
    with pytest.raises(der.DerError):
        der.integer(b"\x02\x02\x00\x05", (der.INTEGER, 0, 2, 4))  # a padded INTEGER
    with pytest.raises(der.DerError):
        der.dotted(b"\x06\x03\x2a\x80\x01")  # a padded arc


@pytest.mark.parametrize(
    "value",
    [
        core.UTCTime(datetime(2026, 12, 6, 10, 0, tzinfo=UTC)),
        core.UTCTime(datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        core.GeneralizedTime(datetime(2050, 1, 1, tzinfo=UTC)),
    ],
)
def test_times_read_as_asn1crypto_reads_them(value: core.Asn1Value) -> None:
    encoded = value.dump()
    assert der.time(encoded, der.only(encoded, encoded[0])) == type(value).load(encoded).native


def test_fractions_and_offsets_are_left_to_the_full_parser() -> None:
    for text in (b"20261206100000.5Z", b"20261206100000+0800", b"2026120610000Z"):
        encoded = bytes((der.GENERALIZED_TIME, len(text))) + text
        with pytest.raises(der.DerError):
            der.time(encoded, der.only(encoded, der.GENERALIZED_TIME))


@pytest.mark.parametrize("dotted", ["1.2.840.113549.1.7.2", "1.3.6.1.4.1.59999.1.3161.1", "2.999.3", "0.9.2342"])
def test_object_identifiers_encode_and_read_back(dotted: str) -> None:
    assert der.oid(dotted) == core.ObjectIdentifier(dotted).dump()
    assert der.dotted(der.oid(dotted)) == dotted


def _mutations(original: bytes) -> list[tuple[str, int, bytes]]:
    """Truncations, inserted and deleted octets, and long-form length octets, every few positions."""
    found = []
    for position in range(0, len(original), 5):
        found.append(("truncated", position, original[:position]))
        found.append(("inserted", position, original[:position] + b"\x00" + original[position:]))
        found.append(("deleted", position, original[:position] + original[position + 1 :]))
        found.append(("0x81", position, original[:position] + b"\x81" + original[position + 1 :]))
        found.append(("0xff", position, original[:position] + b"\xff" + original[position + 1 :]))
    found.append(("trailing", len(original), original + b"\x00\x00"))
    return found


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")  # altered serials
@pytest.mark.parametrize("which", ["signature", "token"])
def test_truncated_stretched_and_relengthed_inputs_are_refused_by_name(signature: bytes, which: str) -> None:
    """Wrong lengths, trailing or missing octets: the reader hands them on, and the public function
    refuses each with a named reason (never another exception); nothing but the original is accepted.
    """
    original, content = (signature, DATA) if which == "signature" else (_token(signature), None)
    for kind, position, altered in _mutations(original):
        fast = cms._verify_common_shape(altered, content)
        outcome = _outcome(altered, content)
        if fast is not None:  # only possible where the octets are not covered (certificates, the token)
            assert _fields(fast) == _full(altered, content) == outcome, (kind, position)
            continue
        if kind in {"truncated", "inserted", "deleted", "trailing"}:  # a length no longer adds up
            assert outcome[0] == "refused", (kind, position)
        assert outcome[0] == "refused" or outcome == _full(altered, content), (kind, position)
        if outcome[0] == "refused":
            assert isinstance(outcome[1], Reason), (kind, position)
    with pytest.raises(Refused) as trailing:
        cms.verify_signed_data(original + b"\x00", detached_content=content)
    assert trailing.value.reason is Reason.MALFORMED


def test_tst_info_reader_refuses_what_is_not_its_common_form(signature: bytes) -> None:
    token = cms._verify_common_shape(_token(signature), None)
    assert token is not None
    info = token.content
    read = tsa_client._read_tst_info_der(info)
    assert read == tsa_client._read_tst_info_parsed(token.encap_content_info)
    for kind, position, altered in _mutations(info):
        try:
            again = tsa_client._read_tst_info_der(altered)
        except (der.DerError, ValueError, KeyError):
            continue
        # what the reader accepts, asn1crypto reads the same way
        parsed = tsa_client._read_tst_info_parsed(
            type(token.encap_content_info)({"content_type": "tst_info", "content": core.ParsableOctetString(altered)})
        )
        assert again == parsed, (kind, position)
    version_two = bytearray(info)
    version_at = info.index(b"\x02\x01\x01")
    version_two[version_at + 2] = 2
    with pytest.raises(der.DerError):
        tsa_client._read_tst_info_der(bytes(version_two))


def _reader_alone(der_bytes: bytes, content: bytes | None) -> tuple[object, ...] | None:
    """What the DER reader says when it walks the octets (no shape consulted)."""
    try:
        read = cms._read_common_shape(der_bytes, content)
    except Exception:  # noqa: BLE001 - the reader's refusals are exceptions or None alike
        return None
    return None if read is None else (*_fields(read), read.unsigned_attributes, read.signer_info_source)


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")  # altered serials
@pytest.mark.parametrize("which", ["signature", "token"])
def test_a_kept_shape_reads_every_altered_byte_as_the_reader_does(signature: bytes, which: str) -> None:
    """With the original's shape kept, every one-byte alteration (same length: the shape is tried) is read
    exactly as the reader reads it by walking the octets: the same fields, or refused (None) alike.
    """
    original, content = (signature, DATA) if which == "signature" else (_token(signature), None)
    cms.clear_caches()
    assert cms._verify_common_shape(original, content) is not None  # the shape is kept
    key = (len(original), content is None)
    [kept] = cms._shapes[key]
    assert kept.fits(original)
    through_shape = 0
    for position in range(len(original)):
        altered = bytearray(original)
        altered[position] ^= 0x01
        altered_bytes = bytes(altered)
        cms._shapes[key] = [kept]  # only the original's (the reader keeps the shapes of what it accepts)
        through_shape += kept.fits(altered_bytes)
        fast = cms._verify_common_shape(altered_bytes, content)
        got = None if fast is None else (*_fields(fast), fast.unsigned_attributes, fast.signer_info_source)
        assert got == _reader_alone(altered_bytes, content), position
    assert through_shape > 0  # the varying contents (digest, signature, time, token) go through the shape
