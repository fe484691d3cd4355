"""The platform's own signing identities, loaded from PKCS#12 files named in the settings.

The platform signs with several keys (the TSA, receipts, records), each configured as a PKCS#12
path plus a password. `load_identity` reads one into a `certs.cms.SigningIdentity`, once per
version of the file (path and mtime): replacing the file on disk takes effect at the next call
without a restart. A missing or unreadable file raises `SigningKeyUnavailable` (HTTP 503), whose
message names the setting so an operator knows what to fix.
"""

from __future__ import annotations

import threading
from pathlib import Path

import structlog
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import SecretStr

from certs.cms import SigningIdentity
from trading.kernel.errors import DomainError

log = structlog.get_logger(__name__)

_lock = threading.Lock()
_identities: dict[Path, tuple[int, SigningIdentity]] = {}


class SigningKeyUnavailable(DomainError):
    status_code = 503
    code = "signing_key_unavailable"
    title = "The platform cannot sign"


def load_identity(path: Path | None, password: SecretStr | None, *, setting: str) -> SigningIdentity:
    """The key, certificate and chain in the PKCS#12 at ``path`` (cached per file version).

    ``setting`` names the environment variable that configures ``path`` (``GGZY_CERTS_…_P12``),
    for the error message.
    """
    if path is None or not path.is_file():
        raise SigningKeyUnavailable(f"no signing key is configured ({setting})")
    mtime = path.stat().st_mtime_ns
    with _lock:
        cached = _identities.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            path.read_bytes(), password.get_secret_value().encode() if password is not None else None
        )
    except ValueError as exc:
        log.warning("kernel.signing_key_unreadable", path=str(path), setting=setting, error=str(exc))
        raise SigningKeyUnavailable(f"the signing key named by {setting} cannot be read") from None
    if certificate is None or not isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise SigningKeyUnavailable(f"the PKCS#12 named by {setting} holds no usable key and certificate")
    identity = SigningIdentity.from_key(key, certificate, chain)
    with _lock:
        _identities[path] = (mtime, identity)
    return identity
