"""Development trust lists over the development PKI: ours (a Jiangsu platform) and a peer's (Anhui).

Our list recognises the Jiangsu CA (signing: login, bid signatures, seals; encryption: sealed
bids), the platform TSA, the guarantor CA (guarantees, Jiangsu only, two industries) and the
e-licence and e-ID issuers, and points to the Anhui platform's list, granting its CAs login and bid
signatures only. The Anhui list recognises the Anhui CA for everything, so the Anhui CA ends up
recognised here for login and bid signatures but not for sealed-bid encryption: mutual recognition
within a declared scope, as between 长三角 platforms.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Final

from certs.devpki.pki import DevPki, make_uscc
from certs.trustlist.model import (
    ANY,
    IdentityRule,
    PeerPointer,
    Provider,
    Scope,
    Service,
    ServiceType,
    Status,
    StatusChange,
    TrustList,
    Usage,
)

DEV_POLICY_URI: Final = "urn:ggzy:policy:dev/1"
DEV_POLICY_SHA256: Final = hashlib.sha256(b"ggzy development validation policy 1").hexdigest()
PEER_NAME: Final = "安徽省公共资源交易平台(开发)"
PEER_LIST_TYPE: Final = "urn:ggzy:tl:ca-mutual-recognition"

ORG_BY_EXTENSION = IdentityRule("organisation", "extension", "1.2.156.10260.4.1.4")
ORG_BY_SERIAL = IdentityRule("organisation", "subject", "2.5.4.5")
PERSON_BY_SERIAL = IdentityRule("person", "subject", "2.5.4.5")


def _granted(since: datetime) -> StatusChange:
    return StatusChange(Status.GRANTED, since)


def dev_trust_list(
    pki: DevPki,
    *,
    sequence: int = 1,
    issued: datetime | None = None,
    next_update: datetime | None = None,
    jiangsu_withdrawn_at: datetime | None = None,
    peer_withdrawn_at: datetime | None = None,
) -> TrustList:
    """Our platform's list. ``jiangsu_withdrawn_at`` withdraws the Jiangsu signing CA from that time."""
    now = pki.now
    since = now - timedelta(days=5 * 365)
    issued = issued or now - timedelta(hours=1)
    jiangsu_status = _granted(since)
    jiangsu_history: tuple[StatusChange, ...] = ()
    if jiangsu_withdrawn_at is not None:
        jiangsu_status = StatusChange(Status.WITHDRAWN, jiangsu_withdrawn_at)
        jiangsu_history = (_granted(since),)
    ca = pki.jiangsu_ca
    jiangsu = Provider(
        name="江苏省数字证书认证中心(开发)",
        uscc=make_uscc(100, "320000"),
        region="CN-32",
        licences=("ECP320000000000(开发)",),
        services=(
            Service(
                type=ServiceType.CA_SIGN,
                name=ca.name,
                certificate=ca.certificate,
                status=jiangsu_status,
                history=jiangsu_history,
                scope=Scope(frozenset({Usage.LOGIN, Usage.BID_SIGNATURE, Usage.SEAL})),
                algorithms=("ECDSA-P256", "ECDSA-P384", "Ed25519"),
                identity_mapping=(ORG_BY_EXTENSION, PERSON_BY_SERIAL),
                crl_urls=(ca.crl_url,),
                ocsp_urls=(ca.ocsp_url,),
            ),
            Service(
                type=ServiceType.CA_ENC,
                name=f"{ca.name}(加密)",
                certificate=ca.certificate,
                status=_granted(since),
                scope=Scope(frozenset({Usage.BID_ENCRYPTION})),
                algorithms=("ECDSA-P256",),
                identity_mapping=(ORG_BY_EXTENSION, PERSON_BY_SERIAL),
                crl_urls=(ca.crl_url,),
                ocsp_urls=(ca.ocsp_url,),
            ),
        ),
    )
    platform = Provider(
        name="ggzy 公共资源交易平台(开发)",
        uscc=make_uscc(101, "320100"),
        region="CN-32",
        services=(
            Service(
                type=ServiceType.TSA,
                name=pki.tsa.name,
                certificate=pki.tsa.certificate,
                status=_granted(since),
                scope=Scope(frozenset({Usage.TIMESTAMP})),
            ),
            Service(
                type=ServiceType.CA_SIGN,
                name=pki.platform_ca.name,
                certificate=pki.platform_ca.certificate,
                status=_granted(since),
                scope=Scope(frozenset({Usage.SEAL})),
                crl_urls=(pki.platform_ca.crl_url,),
            ),
        ),
    )
    guarantor = Provider(
        name="金融电子认证(开发)",
        uscc=make_uscc(102, "320000"),
        region="CN-32",
        services=(
            Service(
                type=ServiceType.GUARANTEE_ISSUER,
                name=pki.guarantor_ca.name,
                certificate=pki.guarantor_ca.certificate,
                status=_granted(since),
                scope=Scope(
                    frozenset({Usage.GUARANTEE}),
                    regions=frozenset({"CN-32"}),
                    industries=frozenset({"construction", "government-procurement"}),
                ),
                identity_mapping=(ORG_BY_SERIAL,),
                crl_urls=(pki.guarantor_ca.crl_url,),
            ),
        ),
    )
    credentials = Provider(
        name="电子证照签发中心(开发)",
        uscc=make_uscc(103, "110000"),
        region="CN-11",
        services=(
            Service(
                type=ServiceType.CREDENTIAL_ISSUER,
                name=pki.licence_issuer.name,
                certificate=pki.licence_issuer.certificate,
                status=_granted(since),
                scope=Scope(frozenset({Usage.LICENCE})),
            ),
            Service(
                type=ServiceType.CREDENTIAL_ISSUER,
                name=pki.eid_issuer.name,
                certificate=pki.eid_issuer.certificate,
                status=_granted(since),
                scope=Scope(frozenset({Usage.EID})),
            ),
        ),
    )
    peer_status = _granted(now - timedelta(days=365))
    peer_history: tuple[StatusChange, ...] = ()
    if peer_withdrawn_at is not None:
        peer_history = (peer_status,)
        peer_status = StatusChange(Status.WITHDRAWN, peer_withdrawn_at)
    pointer = PeerPointer(
        name=PEER_NAME,
        list_type=PEER_LIST_TYPE,
        url="https://ggzy.ah.invalid/trust-list.json",
        operator_certificates=(pki.peer_operator.certificate,),
        scope=Scope(frozenset({Usage.LOGIN, Usage.BID_SIGNATURE}), regions=frozenset({ANY})),
        equivalence={ServiceType.CA_SIGN.value: ServiceType.CA_SIGN, ServiceType.CA_ENC.value: ServiceType.CA_ENC},
        status=peer_status,
        history=peer_history,
    )
    return TrustList(
        operator_name="ggzy 公共资源交易平台(开发)",
        operator_uscc=make_uscc(101, "320100"),
        territory="CN-32",
        sequence=sequence,
        issued=issued,
        next_update=next_update or issued + timedelta(days=30),
        providers=(jiangsu, platform, guarantor, credentials),
        pointers=(pointer,),
        distribution_points=("https://ggzy.js.invalid/trust-list.json",),
        policy_uri=DEV_POLICY_URI,
        policy_sha256=DEV_POLICY_SHA256,
    )


def peer_trust_list(pki: DevPki, *, sequence: int = 1) -> TrustList:
    """The Anhui platform's own list, recognising the Anhui CA for everything."""
    now = pki.now
    since = now - timedelta(days=5 * 365)
    ca = pki.anhui_ca
    anhui = Provider(
        name="安徽省电子认证中心(开发)",
        uscc=make_uscc(200, "340000"),
        region="CN-34",
        services=tuple(
            Service(
                type=kind,
                name=ca.name,
                certificate=ca.certificate,
                status=_granted(since),
                scope=Scope(frozenset(usages)),
                algorithms=("RSA-2048+",),
                identity_mapping=(ORG_BY_SERIAL, PERSON_BY_SERIAL),
                crl_urls=(ca.crl_url,),
                ocsp_urls=(ca.ocsp_url,),
            )
            for kind, usages in (
                (ServiceType.CA_SIGN, {Usage.LOGIN, Usage.BID_SIGNATURE, Usage.SEAL}),
                (ServiceType.CA_ENC, {Usage.BID_ENCRYPTION}),
            )
        ),
    )
    issued = now - timedelta(hours=2)
    return TrustList(
        operator_name=PEER_NAME,
        operator_uscc=make_uscc(201, "340100"),
        territory="CN-34",
        sequence=sequence,
        issued=issued,
        next_update=issued + timedelta(days=30),
        providers=(anhui,),
        list_type=PEER_LIST_TYPE,
    )
