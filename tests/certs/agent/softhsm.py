"""Put development-PKI keys and certificates on a SoftHSM2 token, as a CA puts them on a USB key.

Run as ``python -m tests.certs.agent.softhsm SPEC.json`` with ``SOFTHSM2_CONF`` pointing at the
test's own token directory (a subprocess, so the test process never loads a PKCS#11 module).
SPEC: ``{"module", "label", "pin", "objects": [{"id": hex, "key": PKCS#8 PEM or null, "cert": PEM}]}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
from pkcs11.util.ec import encode_named_curve_parameters

_CURVES = {"secp256r1": "1.2.840.10045.3.1.7", "secp384r1": "1.3.132.0.34"}


def _int(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")


def private_key_template(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, key_id: bytes) -> dict[Attribute, object]:
    common = {
        Attribute.CLASS: ObjectClass.PRIVATE_KEY,
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.ID: key_id,
        Attribute.SIGN: True,
    }
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        return {
            **common,
            Attribute.KEY_TYPE: KeyType.EC,
            Attribute.EC_PARAMS: encode_named_curve_parameters(_CURVES[key.curve.name]),
            Attribute.VALUE: key.private_numbers().private_value.to_bytes(size, "big"),
            Attribute.DERIVE: True,
        }
    numbers = key.private_numbers()
    return {
        **common,
        Attribute.KEY_TYPE: KeyType.RSA,
        Attribute.MODULUS: _int(numbers.public_numbers.n),
        Attribute.PUBLIC_EXPONENT: _int(numbers.public_numbers.e),
        Attribute.PRIVATE_EXPONENT: _int(numbers.d),
        Attribute.PRIME_1: _int(numbers.p),
        Attribute.PRIME_2: _int(numbers.q),
        Attribute.EXPONENT_1: _int(numbers.dmp1),
        Attribute.EXPONENT_2: _int(numbers.dmq1),
        Attribute.COEFFICIENT: _int(numbers.iqmp),
        Attribute.DECRYPT: True,
    }


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    token = pkcs11.lib(spec["module"]).get_token(token_label=spec["label"])
    with token.open(user_pin=spec["pin"], rw=True) as session:
        for entry in spec["objects"]:
            key_id = bytes.fromhex(entry["id"])
            certificate = x509.load_pem_x509_certificate(entry["cert"].encode())
            if entry["key"]:
                key = serialization.load_pem_private_key(entry["key"].encode(), password=None)
                assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
                session.create_object(private_key_template(key, key_id))
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.ID: key_id,
                    Attribute.LABEL: entry["id"],
                    Attribute.SUBJECT: certificate.subject.public_bytes(),
                    Attribute.VALUE: certificate.public_bytes(serialization.Encoding.DER),
                }
            )


if __name__ == "__main__":
    main(sys.argv[1])
