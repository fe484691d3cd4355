"""The embedded demo PKI: development CAs, their trust lists, and demo accounts that log in with them.

On first start (``ggzy run`` → ``demo.seed_demo_data``) `ensure_dev_ca` writes the development
PKI of `certs.tools.dev_ca` to ``<var>/dev-ca`` (a Jiangsu and an Anhui CA hierarchy, the platform
TSA, a guarantor CA, e-licence and e-ID issuers, leaves with PKCS#12 files, CRLs, our signed trust
list and the Anhui platform's, holder-app wallets) and pins its trust-list operator
(``pinned-operators.pem``, the file ``GGZY_CERTS_OPERATOR_CERTIFICATES`` names by default).

`seed_demo_certificates` then, idempotently and through the services (so it is all on the ledger):

* loads our list and the Anhui peer list (mutual recognition: the Anhui CA for login and bid
  signatures only);
* caches the CRLs from the files (the development CRL URLs are ``.invalid``: they cannot be
  fetched, and without revocation data a certificate is refused);
* registers the organisations and people the development certificates name, with a demo account
  each, and binds the certificates: ``bidder-js`` (Jiangsu CA, ECDSA), ``bidder-ah`` (Anhui CA
  through the peer list, RSA) and ``zhangsan`` (a personal certificate; also the e-ID wallet).

The development PKI is valid from the moment it is generated: its trust list for 30 days, its CRLs
for 30 days, its leaves for a year. Delete ``<var>/dev-ca`` (and the database) to start afresh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.ext.asyncio import AsyncSession

from certs.errors import Refused
from certs.tools.dev_ca import write_dev_ca
from certs.trustlist.model import fingerprint
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.parties.certificates.bindings import BindingService
from trading.parties.certificates.trust import PlatformRefused, Refusal, TrustListService, cache_crl
from trading.parties.models import Organisation, OrganisationKind
from trading.parties.repository import CertificateBindingRepository
from trading.parties.schemas import OrganisationCreate, UserCreate
from trading.parties.service import PartiesService

PINNED_OPERATORS = "pinned-operators.pem"


@dataclass(frozen=True, slots=True)
class CertificateOrganisation:
    key: str  # the manifest's identifiers key
    name: str


@dataclass(frozen=True, slots=True)
class CertificateUser:
    username: str
    display_name: str
    organisation: str  # a CertificateOrganisation key, or "centre"
    role: Role
    leaf: str  # the manifest's leaf whose certificate is bound
    person: bool = False


ORGANISATIONS = (
    CertificateOrganisation("org", "南京示例建设工程有限公司"),
    CertificateOrganisation("anhuiOrg", "合肥示例工程咨询有限公司"),
)
USERS = (
    CertificateUser("bidder-js", "王五", "org", Role.BIDDER, "org_sign"),
    CertificateUser("bidder-ah", "赵六", "anhuiOrg", Role.BIDDER, "anhui_org_sign"),
    CertificateUser("zhangsan", "张三", "centre", Role.EXPERT, "person_sign", person=True),
)


def ensure_dev_ca(settings: Settings) -> dict[str, Any]:
    """The development PKI's manifest, generating the PKI first if ``<dev-ca>`` has none."""
    out = settings.certs.dev_ca_dir
    assert out is not None  # noqa: S101 - Settings fills it in
    manifest_path = out / "manifest.json"
    if manifest_path.is_file():
        manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    else:
        manifest = write_dev_ca(out)
    pins = out / PINNED_OPERATORS
    if not pins.is_file():
        write_pinned_operator(out, manifest)
    return manifest


def write_pinned_operator(out: Path, manifest: dict[str, Any]) -> Path:
    """Pin the development trust-list operator: its certificate alone, not its chain."""
    chain = x509.load_pem_x509_certificates((out / manifest["leaves"]["operator"]["pem"]).read_bytes())
    path = out / PINNED_OPERATORS
    path.write_bytes(chain[0].public_bytes(Encoding.PEM))
    return path


def _leaf(out: Path, manifest: dict[str, Any], name: str) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    certificates = x509.load_pem_x509_certificates((out / manifest["leaves"][name]["pem"]).read_bytes())
    return certificates[0], tuple(certificates[1:])


async def seed_demo_certificates(
    session: AsyncSession, settings: Settings, manifest: dict[str, Any], *, centre_uscc: str, password: str
) -> list[str]:
    """Load the development trust lists and CRLs, create the certificate demo accounts, bind them.

    Returns lines for the start-up summary. Nothing is created twice.
    """
    out = settings.certs.dev_ca_dir
    assert out is not None  # noqa: S101 - Settings fills it in
    lines, loaded = await _load_lists(session, settings, manifest, out)
    if not loaded:
        return lines
    for ca in manifest["cas"].values():
        await cache_crl(session, settings, ca["crlUrl"], (out / ca["crl"]).read_bytes())
    parties = PartiesService(session, settings)
    organisations = await _organisations(parties, manifest, centre_uscc)
    certificates = BindingService(session, settings)
    bindings = CertificateBindingRepository(session)
    for user in USERS:
        if user.organisation not in organisations:
            continue
        account = await parties.users.by_username(user.username)
        if account is None:
            account, _ = await parties.create_user(
                UserCreate(
                    username=user.username,
                    display_name=user.display_name,
                    password=password,
                    organisation_id=organisations[user.organisation].id,
                    role=user.role,
                    id_number=manifest["identifiers"]["person"] if user.person else None,
                    person_name=user.display_name if user.person else None,
                ),
                actor=Actor.system(),
            )
            lines.append(f"  created {user.username} ({user.display_name})")
        certificate, chain = _leaf(out, manifest, user.leaf)
        if await bindings.live_by_certificate(fingerprint(certificate)) is not None:
            continue
        try:
            await certificates.register_binding(account, certificate, chain, actor=Actor.system())
        except (Refused, PlatformRefused) as exc:
            lines.append(f"  {user.username}: certificate not bound: {Refusal.of(exc).text}")
        else:
            lines.append(f"  bound {manifest['leaves'][user.leaf]['p12']} to {user.username}")
    return lines


async def _load_lists(
    session: AsyncSession, settings: Settings, manifest: dict[str, Any], out: Path
) -> tuple[list[str], bool]:
    lines = []
    lists = TrustListService(session, settings)
    for label, (document, signature), peer in (
        ("our trust list", manifest["trustLists"]["own"], False),
        ("the Anhui peer list", manifest["trustLists"]["peer"], True),
    ):
        outcome = await lists.load(
            (out / document).read_bytes(), (out / signature).read_bytes(), actor=Actor.system(), peer=peer
        )
        if outcome.refusal is not None:
            lines.append(f"  {label} refused: {outcome.refusal.reason} ({outcome.refusal.text})")
            return lines, False
        if outcome.created and outcome.version is not None:
            lines.append(f"  loaded {label}, sequence {outcome.version.sequence}")
    return lines, True


async def _organisations(
    parties: PartiesService, manifest: dict[str, Any], centre_uscc: str
) -> dict[str, Organisation]:
    organisations: dict[str, Organisation] = {}
    centre = await parties.organisations.by_uscc(centre_uscc)
    if centre is not None:
        organisations["centre"] = centre
    for item in ORGANISATIONS:
        uscc = manifest["identifiers"][item.key]
        organisation = await parties.organisations.by_uscc(uscc)
        if organisation is None:
            organisation = await parties.create_organisation(
                OrganisationCreate(uscc=uscc, name=item.name, kind=OrganisationKind.ENTERPRISE), actor=Actor.system()
            )
        organisations[item.key] = organisation
    return organisations


def describe(settings: Settings) -> str:
    out = settings.certs.dev_ca_dir
    return "\n".join(
        [
            f"Demo certificates in {out} (PKCS#12 password: dev):",
            "  bidder-js  p12/org_sign.p12        Jiangsu CA (ECDSA), our trust list",
            "  bidder-ah  p12/anhui_org_sign.p12  Anhui CA (RSA), recognised through the Anhui peer list",
            "  zhangsan   p12/person_sign.p12     personal certificate; e-ID wallet wallets/e-id.json",
            "  e-licence wallet wallets/e-licence.json logs in as bidder-js (QR code on /login)",
        ]
    )
