"""Key delivery: the content key to each recipient's certificate, with the binding in its context.

EC keys get a ``KeyAgreeRecipientInfo`` (ephemeral-static ECDH, X9.63 KDF over ``ECC-CMS-SharedInfo``,
AES key wrap; RFC 5753, RFC 3394) with the binding as ``ukm``; RSA keys a ``KeyTransRecipientInfo``
(RSAES-OAEP, SHA-256) with the binding as the OAEP label. Either way the binding enters the key
derivation, so the content key unwraps only under those exact bytes.
"""

from __future__ import annotations

from typing import Final

from asn1crypto import algos, cms, core, keys  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, keywrap
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from certs.envelope.cms_der import malformed, tlv
from certs.errors import Reason, Refused

_KDF_SCHEMES: Final[dict[str, hashes.HashAlgorithm]] = {
    "1.3.133.16.840.63.0.2": hashes.SHA1(),  # dhSinglePass-stdDH-sha1kdf-scheme  # noqa: S303 - KDF, as openssl's default
    "1.3.132.1.11.0": hashes.SHA224(),
    "1.3.132.1.11.1": hashes.SHA256(),
    "1.3.132.1.11.2": hashes.SHA384(),
    "1.3.132.1.11.3": hashes.SHA512(),
}
_SCHEME_FOR_CURVE: Final = {"secp256r1": "1.3.132.1.11.1", "secp384r1": "1.3.132.1.11.2"}
_WRAP_KEY_BYTES: Final = {"aes128_wrap": 16, "aes192_wrap": 24, "aes256_wrap": 32}

UnwrapKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _issuer_and_serial(certificate: x509.Certificate) -> cms.IssuerAndSerialNumber:
    parsed = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    return cms.IssuerAndSerialNumber({"issuer": parsed.issuer, "serial_number": parsed.serial_number})


def _check_usage(certificate: x509.Certificate, *, agreement: bool) -> None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.key_agreement if agreement else usage.key_encipherment):
        needed = "keyAgreement" if agreement else "keyEncipherment"
        raise Refused(Reason.WRONG_KEY_USAGE, f"the encryption certificate lacks {needed}")


def _oaep(label: bytes) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None)


def _shared_info(wrap_algorithm: bytes, ukm: bytes | None, key_bytes: int) -> bytes:
    """ECC-CMS-SharedInfo (RFC 5753 §7.2): keyInfo, optional entityUInfo, suppPubInfo (key bits)."""
    parts = [wrap_algorithm]
    if ukm is not None:
        parts.append(tlv(0xA0, core.OctetString(ukm).dump()))
    parts.append(tlv(0xA2, core.OctetString((key_bytes * 8).to_bytes(4, "big")).dump()))
    return tlv(0x30, *parts)


def _kek(
    private: ec.EllipticCurvePrivateKey,
    peer: ec.EllipticCurvePublicKey,
    scheme: str,
    wrap_algorithm: bytes,
    ukm: bytes | None,
) -> bytes:
    key_bytes = _WRAP_KEY_BYTES[cms.KeyEncryptionAlgorithm.load(wrap_algorithm)["algorithm"].native]
    shared = private.exchange(ec.ECDH(), peer)
    kdf = X963KDF(
        algorithm=_KDF_SCHEMES[scheme], length=key_bytes, sharedinfo=_shared_info(wrap_algorithm, ukm, key_bytes)
    )
    return kdf.derive(shared)


def recipient_info(cek: bytes, certificate: x509.Certificate, context: bytes) -> bytes:
    """The RecipientInfo (DER) delivering ``cek`` to ``certificate``'s key: KARI for EC, KTRI for RSA;
    ``context`` (the binding's DER) is the KARI ``ukm`` / the OAEP label, so it enters the key derivation.
    """
    public = certificate.public_key()
    rid = _issuer_and_serial(certificate)
    if isinstance(public, rsa.RSAPublicKey):
        _check_usage(certificate, agreement=False)
        oaep = algos.RSAESOAEPParams(
            {
                "hash_algorithm": {"algorithm": "sha256"},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
                "p_source_algorithm": {"algorithm": "p_specified", "parameters": context},
            }
        )
        ktri = cms.KeyTransRecipientInfo(
            {
                "version": "v0",
                "rid": cms.RecipientIdentifier({"issuer_and_serial_number": rid}),
                "key_encryption_algorithm": {"algorithm": "rsaes_oaep", "parameters": oaep},
                "encrypted_key": public.encrypt(cek, _oaep(context)),
            }
        )
        return bytes(cms.RecipientInfo({"ktri": ktri}).dump())
    if isinstance(public, ec.EllipticCurvePublicKey):
        _check_usage(certificate, agreement=True)
        scheme = _SCHEME_FOR_CURVE.get(public.curve.name)
        if scheme is None:
            raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"no CMS key agreement for curve {public.curve.name}")
        ephemeral = ec.generate_private_key(public.curve)
        point = ephemeral.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        wrap_algorithm = cms.KeyEncryptionAlgorithm({"algorithm": "aes256_wrap"}).dump()
        kek = _kek(ephemeral, public, scheme, wrap_algorithm, context)
        kari = cms.KeyAgreeRecipientInfo(
            {
                "version": "v3",
                "ukm": context,
                "originator": cms.OriginatorIdentifierOrKey(
                    {"originator_key": keys.PublicKeyInfo({"algorithm": {"algorithm": "ec"}, "public_key": point})}
                ),
                "key_encryption_algorithm": {
                    "algorithm": scheme,
                    "parameters": core.Any.load(wrap_algorithm),
                },
                "recipient_encrypted_keys": [
                    {
                        "rid": cms.KeyAgreementRecipientIdentifier({"issuer_and_serial_number": rid}),
                        "encrypted_key": keywrap.aes_key_wrap(kek, cek),
                    }
                ],
            }
        )
        return bytes(cms.RecipientInfo({"kari": kari}).dump())
    raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"cannot deliver a CMS key to a {type(public).__name__}")


def _unwrap_kari(kari: cms.KeyAgreeRecipientInfo, key: ec.EllipticCurvePrivateKey) -> list[bytes]:
    algorithm = kari["key_encryption_algorithm"]
    scheme = algorithm["algorithm"].dotted
    if scheme not in _KDF_SCHEMES:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"key agreement scheme {scheme}")
    originator = kari["originator"]
    if originator.name != "originator_key":
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, "only ephemeral-static ECDH (originatorKey) is supported")
    point = originator.chosen["public_key"].native
    peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, bytes(point))
    wrap_algorithm = algorithm["parameters"].dump()
    ukm = kari["ukm"].native if kari["ukm"].native is not None else None
    kek = _kek(key, peer, scheme, wrap_algorithm, ukm)
    found = []
    for recipient in kari["recipient_encrypted_keys"]:
        try:
            found.append(keywrap.aes_key_unwrap(kek, recipient["encrypted_key"].native))
        except keywrap.InvalidUnwrap:
            continue
    return found


def _unwrap_ktri(ktri: cms.KeyTransRecipientInfo, key: rsa.RSAPrivateKey) -> list[bytes]:
    algorithm = ktri["key_encryption_algorithm"]
    if algorithm["algorithm"].native != "rsaes_oaep":
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"key transport {algorithm['algorithm'].native}: RSA-OAEP only")
    params = algorithm["parameters"]
    digest = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}  # noqa: S303
    hash_name = params["hash_algorithm"]["algorithm"].native
    mgf_name = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
    if hash_name not in digest or mgf_name not in digest:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"RSA-OAEP with {hash_name}/{mgf_name}")
    label = params["p_source_algorithm"]["parameters"].native or None
    oaep = padding.OAEP(mgf=padding.MGF1(digest[mgf_name]), algorithm=digest[hash_name], label=label)
    try:
        return [key.decrypt(ktri["encrypted_key"].native, oaep)]
    except ValueError:
        return []


def unwrap_cek(recipient_infos: bytes, key: UnwrapKey) -> bytes:
    """The CEK, unwrapped with the recipient's private key from any RecipientInfo it opens."""
    try:
        infos = cms.RecipientInfos.load(recipient_infos)
        for info in infos:
            opened: list[bytes] = []
            if info.name == "kari" and isinstance(key, ec.EllipticCurvePrivateKey):
                opened = _unwrap_kari(info.chosen, key)
            elif info.name == "ktri" and isinstance(key, rsa.RSAPrivateKey):
                opened = _unwrap_ktri(info.chosen, key)
            if opened:
                return opened[0]
    except (ValueError, TypeError, KeyError) as exc:
        raise malformed(f"recipient infos: {exc}") from None
    raise Refused(Reason.NOT_A_RECIPIENT, "no recipient of the envelope opens with this key")


def key_delivery_context(recipient_infos: bytes) -> bytes:
    """The binding attributes a ggzy envelope carries in its key delivery: the KARI ``ukm`` or the
    RSA-OAEP label (id-pSpecified), the same DER in every RecipientInfo; empty when there is none.
    """
    found: set[bytes] = set()
    try:
        for info in cms.RecipientInfos.load(recipient_infos):
            if info.name == "kari":
                ukm = info.chosen["ukm"].native
                found.add(bytes(ukm or b""))
            elif info.name == "ktri" and info.chosen["key_encryption_algorithm"]["algorithm"].native == "rsaes_oaep":
                label = info.chosen["key_encryption_algorithm"]["parameters"]["p_source_algorithm"]["parameters"]
                found.add(bytes(label.native or b""))
    except (ValueError, TypeError, KeyError) as exc:
        raise malformed(f"recipient infos: {exc}") from None
    if len(found) > 1:
        raise malformed("the recipients carry different binding contexts")
    context = found.pop() if found else b""
    if context and context[:1] != b"\x31":
        return b""  # another tool's ukm or label: not a ggzy binding
    return context
