"""The platform's root certificate (platform_root.pem), public: the trust anchor that receipts
(递交回执), opening records and the other platform-signed records are verified against offline
(``ggzy bid verify-receipt --ca platform_root.pem``, ``openssl cms -verify -CAfile platform_root.pem``).

The root is the self-signed certificate the receipt signer's chain ends in (``GGZY_CERTS_RECEIPT_P12``;
embedded: the development PKI's ``platform_signer``, whose chain ends in ``platform_root``). The page
shows its SHA-256 fingerprint so that a user can compare it with the one the centre publishes
elsewhere (a notice, the printed receipt) before trusting the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from litestar import Request, Response, get
from litestar.datastructures import State

from bidding.receipts import receipt_identity
from bidding.visibility import Exposure, exposes
from bidding.web.common import PREFIX, attachment
from trading.kernel.errors import NotFound
from trading.kernel.settings import Settings
from trading.kernel.signing import SigningKeyUnavailable
from trading.kernel.web.pages import page

PAGE: Final = f"{PREFIX}/platform-root"
PEM: Final = f"{PAGE}/platform_root.pem"
FILENAME: Final = "platform_root.pem"
MEDIA_TYPE: Final = "application/x-pem-file"


@dataclass(frozen=True, slots=True)
class PlatformRoot:
    certificate: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def sha256(self) -> str:
        """The SHA-256 fingerprint as ``openssl x509 -fingerprint -sha256`` prints it (AA:BB:…)."""
        return self.certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def platform_root(settings: Settings) -> PlatformRoot | None:
    """The self-signed root at the end of the receipt signer's chain, or None when there is no
    receipt key or its PKCS#12 does not carry the root.
    """
    try:
        identity = receipt_identity(settings)
    except SigningKeyUnavailable:
        return None
    for certificate in (*reversed(identity.chain), identity.certificate):
        if certificate.issuer == certificate.subject:
            return PlatformRoot(certificate)
    return None


@get(PAGE, name="bidding.platform_root", include_in_schema=False, opt=exposes(Exposure.NONE))
async def platform_root_page(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """What the root certificate is for, its fingerprint and subject, and the download."""
    root = platform_root(state.settings)
    return await page(request, "bidding/platform_root.html", {"root": root, "filename": FILENAME})


@get(PEM, name="bidding.platform_root_pem", include_in_schema=False, opt=exposes(Exposure.NONE))
async def platform_root_pem(state: State) -> Response[bytes]:
    """The root certificate, PEM."""
    root = platform_root(state.settings)
    if root is None:
        raise NotFound("the platform's root certificate is not configured", field="certificate", rule="exists")
    return attachment(root.pem, FILENAME, MEDIA_TYPE)
