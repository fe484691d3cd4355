"""The platform TSA: one pure function from a TimeStampReq to a TimeStampResp (RFC 3161, RFC 5816).

`trading/` mounts it as ``POST /tsa`` (``application/timestamp-query`` in,
``application/timestamp-reply`` out) and injects the three things a TSA must not invent itself:
the signing key (an in-memory key or an HSM `Signer`), a strictly increasing serial source (a
database sequence) and the clock. Works with ECDSA, RSA and Ed25519 keys alike.

The token is a CMS SignedData over the TSTInfo with the ``signing-certificate-v2`` attribute
(ESSCertIDv2, SHA-256). The TSA certificate is embedded when the request sets ``certReq``.
Malformed requests, unaccepted digests and unaccepted policies get a ``rejection`` status with the
matching failure bit, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from asn1crypto import cms as asn1_cms  # type: ignore[import-untyped]
from asn1crypto import core, tsp
from asn1crypto import x509 as asn1_x509

from certs import cms
from certs.tsa.asn1 import TimeStampResp

DEFAULT_POLICY: Final = "1.3.6.1.4.1.59999.1.3161.1"
"""The platform TSA's policy OID (a private arc used for development; production configures its own)."""

_DIGEST_SIZES: Final = {"sha256": 32, "sha384": 48, "sha512": 64, "sm3": 32}


@dataclass
class TimeStampAuthority:
    """A TSA: ``identity`` signs, ``serials`` numbers tokens, ``clock`` dates them."""

    identity: cms.SigningIdentity
    clock: Callable[[], datetime]
    serials: Callable[[], int]
    policy: str = DEFAULT_POLICY
    other_policies: Collection[str] = ()
    digests: Collection[str] = field(default_factory=lambda: ("sha256", "sha384", "sha512"))
    accuracy_seconds: int = 1

    def respond(self, request_der: bytes) -> bytes:
        """Answer one DER TimeStampReq with a DER TimeStampResp."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            imprint = request["message_imprint"]
            digest_name = imprint["hash_algorithm"]["algorithm"].native
            hashed = imprint["hashed_message"].native
            policy = request["req_policy"].native or self.policy
            nonce = request["nonce"].native
            cert_req = bool(request["cert_req"].native)
            has_extensions = cms.present(request["extensions"])
        except (ValueError, TypeError, KeyError):
            return _rejection("bad_request", "malformed request")
        if digest_name not in self.digests or len(hashed) != _DIGEST_SIZES.get(digest_name):
            return _rejection("bad_alg", f"digest {digest_name} not accepted")
        if policy != self.policy and policy not in self.other_policies:
            return _rejection("unaccepted_policy", f"policy {policy} not accepted")
        if has_extensions:
            return _rejection("unaccepted_extension", "extensions are not supported")
        tst_info = self._tst_info(imprint, policy, nonce)
        token = cms.build_signed_data(
            _with_chain(self.identity, include=cert_req),
            content=tst_info.dump(),
            content_type="tst_info",
            detached=False,
            embed_certificates=cert_req,
        )
        granted = tsp.PKIStatusInfo({"status": "granted"})
        return bytes(TimeStampResp({"status": granted, "time_stamp_token": asn1_cms.ContentInfo.load(token)}).dump())

    def _tst_info(self, imprint: Any, policy: str, nonce: int | None) -> Any:
        values: dict[str, Any] = {
            "version": "v1",
            "policy": policy,
            "message_imprint": imprint,
            "serial_number": self.serials(),
            "gen_time": core.GeneralizedTime(self.clock()),
            "accuracy": {"seconds": self.accuracy_seconds},
            "tsa": asn1_x509.GeneralName({"directory_name": cms.to_asn1(self.identity.certificate).subject}),
        }
        if nonce is not None:
            values["nonce"] = nonce
        return tsp.TSTInfo(values)


def _with_chain(identity: cms.SigningIdentity, *, include: bool) -> cms.SigningIdentity:
    return identity if include else cms.SigningIdentity(identity.signer, identity.certificate, ())


def _rejection(fail: str, text: str) -> bytes:
    status = tsp.PKIStatusInfo({"status": "rejection", "status_string": [text], "fail_info": {fail}})
    return bytes(TimeStampResp({"status": status}).dump())
