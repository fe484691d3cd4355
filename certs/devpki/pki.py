"""The development PKI built with `cryptography`: CAs, leaves, CRLs and an OCSP responder.

`build_dev_pki` makes, in about a second, everything the tests and the platform's demo data need:
two independent CA hierarchies (a Jiangsu CA on ECDSA P-256 and an Anhui CA on RSA), a platform
hierarchy (TSA, trust-list operator, platform signing key, bid-opening key holders), a guarantor
CA, an issuer of electronic business licences and e-ID credentials, a peer platform's trust-list
operator, a rogue CA nobody recognises, and leaf certificates for organisations (统一社会信用代码)
and people (resident ID number), some deliberately revoked, expired or not yet valid.

Certificates follow the shapes real Chinese CAs use: no subjectAltName on personal and
organisation certificates, the USCC either in the ``serialNumber`` attribute or in the
``1.2.156.10260.4.1.4`` extension, document-signing EKUs without clientAuth.

Everything here is real cryptography; only the URLs are fictitious (``.invalid``), and
`PkiFetcher` answers them in memory. The CAs are `authority`, the subject shapes `names`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization

from certs.devpki.authority import CertificateAuthority, Identity, KeyKind, PrivateKey, Profile, new_key
from certs.devpki.names import (
    OID_ORGANISATION_CODE,
    ca_name,
    make_id_number,
    make_uscc,
    organisation_code_extension,
    organisation_name,
    person_name,
)

# The development PKI and the pieces it is built from, for the many callers that need both.
__all__ = [
    "DEMO_TENDEREE_NAME",
    "DEMO_TENDEREE_USCC",
    "OID_ORGANISATION_CODE",
    "CertificateAuthority",
    "DevPki",
    "Identity",
    "KeyKind",
    "PkiFetcher",
    "PrivateKey",
    "Profile",
    "build_dev_pki",
    "ca_name",
    "make_id_number",
    "make_uscc",
    "new_key",
    "organisation_code_extension",
    "organisation_name",
    "person_name",
]

DEMO_TENDEREE_NAME = "淮安市示范实验中学"
DEMO_TENDEREE_USCC = "123208124669000519"
"""The demo tenderee organisation of ``trading/server/demo.py`` ("school"): the development PKI
certifies it so the demo can publish a tender whose document that organisation signed. The two
must stay equal (the demo checks it against the manifest's ``identifiers["tenderee"]``)."""


@dataclass
class DevPki:
    """The development PKI: see the module docstring. Build it with `build_dev_pki`."""

    now: datetime
    jiangsu_root: CertificateAuthority
    jiangsu_ca: CertificateAuthority
    anhui_root: CertificateAuthority
    anhui_ca: CertificateAuthority
    platform_root: CertificateAuthority
    platform_ca: CertificateAuthority
    guarantor_ca: CertificateAuthority
    credential_ca: CertificateAuthority
    rogue_ca: CertificateAuthority
    tsa: Identity
    operator: Identity
    peer_operator: Identity
    platform_signer: Identity
    guarantor: Identity
    licence_issuer: Identity
    eid_issuer: Identity
    org_sign: Identity
    org_enc: Identity
    tenderee_sign: Identity
    """Seal/signing certificate of the demo tenderee (淮安市示范实验中学, `DEMO_TENDEREE_USCC`)."""
    person_sign: Identity
    anhui_org_sign: Identity
    anhui_org_enc: Identity
    revoked: Identity
    expired: Identity
    not_yet_valid: Identity
    enc_only: Identity
    rogue_leaf: Identity
    key_holders: tuple[Identity, ...]
    org_uscc: str
    anhui_uscc: str
    person_id_number: str

    @property
    def authorities(self) -> tuple[CertificateAuthority, ...]:
        return (
            self.jiangsu_root,
            self.jiangsu_ca,
            self.anhui_root,
            self.anhui_ca,
            self.platform_root,
            self.platform_ca,
            self.guarantor_ca,
            self.credential_ca,
            self.rogue_ca,
        )


class PkiFetcher:
    """Answers the PKI's CRL and OCSP URLs in memory (a test `Fetcher`; no network)."""

    def __init__(self, pki: DevPki, clock: Callable[[], datetime] | None = None) -> None:
        self._pki = pki
        self._clock = clock or (lambda: pki.now)
        self.requests: list[str] = []

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        del content_type
        self.requests.append(url)
        now = self._clock()
        for ca in self._pki.authorities:
            if url == ca.crl_url:
                return ca.crl(now - timedelta(hours=1)).public_bytes(serialization.Encoding.DER)
            if url == ca.ocsp_url and body is not None:
                return ca.ocsp_respond(body, now)
        msg = f"no such URL in the development PKI: {url}"
        raise ConnectionError(msg)


def build_dev_pki(now: datetime | None = None) -> DevPki:
    """Build the development PKI valid around ``now`` (default: the current time, second precision)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    year = timedelta(days=365)
    leaf_from, leaf_to = now - timedelta(days=30), now + year

    def root(cn: str, org: str, province: str, *, kind: KeyKind, host: str, region: str = "") -> CertificateAuthority:
        return CertificateAuthority.root(
            ca_name(cn, org, province),
            key_kind=kind,
            not_before=now - 5 * year,
            not_after=now + 20 * year,
            base_url=f"http://{host}.invalid",
            region=region,
        )

    def sub(
        parent: CertificateAuthority, cn: str, org: str, province: str, *, kind: KeyKind, host: str
    ) -> CertificateAuthority:
        return parent.intermediate(
            ca_name(cn, org, province),
            key_kind=kind,
            not_before=now - 3 * year,
            not_after=now + 10 * year,
            base_url=f"http://{host}.invalid",
        )

    jiangsu_root = root(
        "江苏省数字证书认证中心 开发根CA",
        "江苏省数字证书认证中心(开发)",
        "江苏省",
        kind="p256",
        host="root.jsca",
        region="CN-32",
    )
    jiangsu_ca = sub(
        jiangsu_root,
        "江苏CA 机构及个人证书 开发CA",
        "江苏省数字证书认证中心(开发)",
        "江苏省",
        kind="p256",
        host="ca.jsca",
    )
    anhui_root = root(
        "安徽省电子认证中心 开发根CA",
        "安徽省电子认证中心(开发)",
        "安徽省",
        kind="rsa2048",
        host="root.ahca",
        region="CN-34",
    )
    anhui_ca = sub(
        anhui_root, "安徽CA 机构证书 开发CA", "安徽省电子认证中心(开发)", "安徽省", kind="rsa2048", host="ca.ahca"
    )
    platform_root = root(
        "ggzy 交易平台 开发根CA", "ggzy 公共资源交易平台(开发)", "江苏省", kind="p256", host="root.platform"
    )
    platform_ca = sub(
        platform_root, "ggzy 交易平台 服务CA", "ggzy 公共资源交易平台(开发)", "江苏省", kind="p256", host="ca.platform"
    )
    guarantor_ca = root("保函开具机构 开发CA", "金融电子认证(开发)", "江苏省", kind="p256", host="ca.guarantee")
    credential_ca = root("电子证照签发 开发CA", "电子证照签发中心(开发)", "北京市", kind="p256", host="ca.credentials")
    rogue_ca = root("未经认可的 CA", "某未认可机构", "江苏省", kind="p256", host="ca.rogue")

    org_uscc = make_uscc(1, "320100")
    anhui_uscc = make_uscc(2, "340100")
    person_id = make_id_number(17)

    def org(
        ca: CertificateAuthority,
        name: str,
        uscc: str,
        province: str,
        *,
        profile: Profile,
        key_kind: KeyKind = "p256",
        not_before: datetime = leaf_from,
        not_after: datetime = leaf_to,
    ) -> Identity:
        # The Anhui CA and the guarantor CA put the USCC in the subject; the others in an extension.
        in_subject = ca in (anhui_ca, guarantor_ca)
        return ca.issue(
            organisation_name(name, uscc, province, uscc_in_subject=in_subject),
            profile=profile,
            key_kind=key_kind,
            not_before=not_before,
            not_after=not_after,
            extensions=[] if in_subject else [organisation_code_extension(uscc)],
        )

    platform_ou = "ggzy 公共资源交易平台(开发)"
    tsa = platform_ca.issue(
        ca_name("ggzy 平台时间戳服务", platform_ou, "江苏省"),
        profile=Profile.TSA,
        not_before=now - year,
        not_after=now + 5 * year,
    )
    operator = platform_root.issue(
        ca_name("ggzy 信任列表运营者", platform_ou, "江苏省"),
        profile=Profile.DOCUMENT_SIGN,
        not_before=now - year,
        not_after=now + 5 * year,
    )
    platform_signer = platform_ca.issue(
        ca_name("ggzy 交易平台电子签章", platform_ou, "江苏省"),
        profile=Profile.DOCUMENT_SIGN,
        not_before=now - year,
        not_after=now + 5 * year,
    )
    peer_root = root(
        "安徽省公共资源交易平台 信任列表根", "安徽省公共资源交易平台(开发)", "安徽省", kind="p256", host="root.ahggzy"
    )
    peer_operator = peer_root.issue(
        ca_name("安徽省公共资源交易平台 信任列表运营者", "安徽省公共资源交易平台(开发)", "安徽省"),
        profile=Profile.DOCUMENT_SIGN,
        not_before=now - year,
        not_after=now + 5 * year,
    )
    guarantor = org(
        guarantor_ca, "江苏银行股份有限公司(开发)", make_uscc(3, "320000"), "江苏省", profile=Profile.DOCUMENT_SIGN
    )
    licence_issuer = credential_ca.issue(
        ca_name("电子营业执照签发(开发)", "市场监督管理总局(开发)", "北京市"),
        profile=Profile.DOCUMENT_SIGN,
        not_before=now - year,
        not_after=now + 5 * year,
    )
    eid_issuer = credential_ca.issue(
        ca_name("居民身份证电子证照签发(开发)", "公安部(开发)", "北京市"),
        profile=Profile.DOCUMENT_SIGN,
        not_before=now - year,
        not_after=now + 5 * year,
    )

    org_sign = org(jiangsu_ca, "南京示例建设工程有限公司", org_uscc, "江苏省", profile=Profile.SIGN)
    org_enc = org(jiangsu_ca, "南京示例建设工程有限公司", org_uscc, "江苏省", profile=Profile.ENCRYPT)
    tenderee_sign = org(jiangsu_ca, DEMO_TENDEREE_NAME, DEMO_TENDEREE_USCC, "江苏省", profile=Profile.SIGN)
    person_sign = jiangsu_ca.issue(
        person_name("张三", person_id, "江苏省"), profile=Profile.SIGN, not_before=leaf_from, not_after=leaf_to
    )
    anhui_org_sign = org(
        anhui_ca, "合肥示例工程咨询有限公司", anhui_uscc, "安徽省", profile=Profile.DOCUMENT_SIGN, key_kind="rsa2048"
    )
    anhui_org_enc = org(
        anhui_ca, "合肥示例工程咨询有限公司", anhui_uscc, "安徽省", profile=Profile.ENCRYPT, key_kind="rsa2048"
    )
    revoked = org(jiangsu_ca, "苏州已吊销证书有限公司", make_uscc(4, "320500"), "江苏省", profile=Profile.SIGN)
    jiangsu_ca.revoke(revoked.certificate, now - timedelta(days=2))
    expired = org(
        jiangsu_ca,
        "无锡过期证书有限公司",
        make_uscc(5, "320200"),
        "江苏省",
        profile=Profile.SIGN,
        not_before=now - 2 * year,
        not_after=now - timedelta(days=35),
    )
    not_yet_valid = org(
        jiangsu_ca,
        "常州未生效证书有限公司",
        make_uscc(6, "320400"),
        "江苏省",
        profile=Profile.SIGN,
        not_before=now + timedelta(days=10),
        not_after=now + year,
    )
    enc_only = org(jiangsu_ca, "南京示例建设工程有限公司", org_uscc, "江苏省", profile=Profile.ENCRYPT)
    rogue_leaf = org(rogue_ca, "来历不明有限公司", make_uscc(7, "320100"), "江苏省", profile=Profile.SIGN)
    holders = tuple(
        org(jiangsu_ca, holder, make_uscc(10 + i, "320100"), "江苏省", profile=Profile.ENCRYPT)
        for i, holder in enumerate(
            (
                "招标人代表(开发)",
                "南京市公共资源交易中心(开发)",
                "南京市住房和城乡建设局(开发)",
                "南京市公证处(开发)",
                "ggzy 平台(开发)",
            )
        )
    )
    return DevPki(
        now=now,
        jiangsu_root=jiangsu_root,
        jiangsu_ca=jiangsu_ca,
        anhui_root=anhui_root,
        anhui_ca=anhui_ca,
        platform_root=platform_root,
        platform_ca=platform_ca,
        guarantor_ca=guarantor_ca,
        credential_ca=credential_ca,
        rogue_ca=rogue_ca,
        tsa=tsa,
        operator=operator,
        peer_operator=peer_operator,
        platform_signer=platform_signer,
        guarantor=guarantor,
        licence_issuer=licence_issuer,
        eid_issuer=eid_issuer,
        org_sign=org_sign,
        org_enc=org_enc,
        tenderee_sign=tenderee_sign,
        person_sign=person_sign,
        anhui_org_sign=anhui_org_sign,
        anhui_org_enc=anhui_org_enc,
        revoked=revoked,
        expired=expired,
        not_yet_valid=not_yet_valid,
        enc_only=enc_only,
        rogue_leaf=rogue_leaf,
        key_holders=holders,
        org_uscc=org_uscc,
        anhui_uscc=anhui_uscc,
        person_id_number=person_id,
    )
