"""Factories for bidding tests: parties with certificates, signed documents, tenders.

* `tenderee_party` / `agency_party` / `bidder_party`: a registered organisation, a user holding
  the role in it, and certificates from the development PKI naming the organisation's USCC
  (signing; bidders also an encryption certificate), from the Jiangsu CA or the Anhui CA.
* `sign_document`: a detached CAdES signature as a tenderee's signing tool makes it.
* `tender_create` / `draft_tender` / `published_tender`: a tender that passes every publication
  rule (deadline 21 days after the database's now), with a signed tender document.

Everything is committed through ``session_maker`` (inside the test's rolled-back connection).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.models import DocumentKind, EvaluationMethod, Tender, TenderCategory
from bidding.schemas import Criterion, KeyHolderCreate, LotCreate, TenderCreate
from bidding.tenders.service import TenderService
from certs.devpki.pki import DevPki, Identity, Profile, make_uscc, organisation_code_extension, organisation_name
from certs.sign.cades import sign_detached
from tests.trading.parties.factories import PASSWORD, Account, api_token, bearer, new_username
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.ledger.models import LedgerEntry
from trading.ledger.policies import LedgerPermission
from trading.ledger.repository import EntryFilter, LedgerRepository
from trading.parties.mandates import MandateService
from trading.parties.models import OrganisationKind
from trading.parties.schemas import OrganisationCreate, UserCreate
from trading.parties.service import PartiesService

# USCC seeds not used by `build_dev_pki` (1–7, 10–14, 100–103).
_SEEDS = itertools.count(30)
_CODES = itertools.count(1)

TENDER_DOCUMENT = b"%PDF-1.7\n% tender document of a test tender\n"


@dataclass(frozen=True)
class Party:
    """A registered organisation, one user with a role in it, and its certificates."""

    account: Account
    role: Role
    uscc: str
    name: str
    sign: Identity
    encrypt: Identity | None = None
    extra_roles: frozenset[Role] = field(default_factory=frozenset)

    @property
    def organisation_id(self) -> Any:
        return self.account.organisation_id

    def actor(self, *permissions: str) -> Actor:
        """The user as the service layer sees it (the API resolves the same from a token)."""
        return Actor(
            kind=ActorKind.USER,
            user_id=self.account.user_id,
            username=self.account.username,
            organisation_id=self.account.organisation_id,
            organisation_name=self.name,
            roles=frozenset({self.role, *self.extra_roles}),
            permissions=frozenset(permissions),
        )

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        return bearer(await api_token(client, self.account))


def ledger_reader() -> Actor:
    """A supervisor as the ledger sees one: may read entries (sealed ones only once unsealed)."""
    return Actor(
        kind=ActorKind.USER,
        username="ledger-reader",
        roles=frozenset({Role.SUPERVISOR}),
        permissions=frozenset({LedgerPermission.ENTRY_READ}),
    )


async def ledger_entries(session: AsyncSession, chain: str, action: str | None = None) -> list[LedgerEntry]:
    """Up to 100 entries of a chain (of one action), as the ledger's reader sees them."""
    rows = await LedgerRepository(session).list_entries(
        ledger_reader(), EntryFilter(chain=chain, action=action), limit=100
    )
    return list(rows)


def issue_certificate(
    pki: DevPki,
    name: str,
    uscc: str,
    *,
    ca: Literal["jiangsu", "anhui"] = "jiangsu",
    profile: Profile = Profile.SIGN,
) -> Identity:
    """An organisation certificate naming ``uscc`` where the CA puts it (Jiangsu: an extension;
    Anhui: the subject's serialNumber, RSA keys), valid from 30 days ago for a year."""
    now = pki.now
    if ca == "anhui":
        return pki.anhui_ca.issue(
            organisation_name(name, uscc, "安徽省", uscc_in_subject=True),
            profile=Profile.DOCUMENT_SIGN if profile is Profile.SIGN else profile,
            key_kind="rsa2048",
            not_before=now - timedelta(days=30),
            not_after=now + timedelta(days=365),
        )
    return pki.jiangsu_ca.issue(
        organisation_name(name, uscc, "江苏省", uscc_in_subject=False),
        profile=profile,
        not_before=now - timedelta(days=30),
        not_after=now + timedelta(days=365),
        extensions=[organisation_code_extension(uscc)],
    )


async def _register(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    uscc: str,
    name: str,
    kind: OrganisationKind,
    role: Role,
) -> Account:
    async with session_maker() as session:
        service = PartiesService(session, settings)
        organisation = await service.create_organisation(
            OrganisationCreate(uscc=uscc, name=name, kind=kind), actor=Actor.system()
        )
        user, membership = await service.create_user(
            UserCreate(
                username=new_username(role.value),
                display_name="测试用户",
                password=PASSWORD,
                organisation_id=organisation.id,
                role=role,
            ),
            actor=Actor.system(),
        )
        await session.commit()
    return Account(user.id, organisation.id, membership.id, user.username)


async def party(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    pki: DevPki,
    role: Role,
    *,
    kind: OrganisationKind,
    name: str,
    region: str = "320100",
    ca: Literal["jiangsu", "anhui"] = "jiangsu",
    encryption: bool = False,
) -> Party:
    seed = next(_SEEDS)
    uscc = make_uscc(seed, region)
    name = f"{name}{seed}"
    account = await _register(session_maker, settings, uscc=uscc, name=name, kind=kind, role=role)
    sign = issue_certificate(pki, name, uscc, ca=ca)
    encrypt = issue_certificate(pki, name, uscc, ca=ca, profile=Profile.ENCRYPT) if encryption else None
    return Party(account, role, uscc, name, sign, encrypt)


async def tenderee_party(session_maker: async_sessionmaker[AsyncSession], settings: Settings, pki: DevPki) -> Party:
    return await party(
        session_maker, settings, pki, Role.TENDEREE, kind=OrganisationKind.PURCHASER_UNIT, name="南京市测试招标人"
    )


async def agency_party(session_maker: async_sessionmaker[AsyncSession], settings: Settings, pki: DevPki) -> Party:
    return await party(session_maker, settings, pki, Role.AGENCY, kind=OrganisationKind.AGENCY, name="江苏测试代理")


async def mandate(session_maker: async_sessionmaker[AsyncSession], tenderee: Party, agency: Party) -> None:
    """The tenderee mandates the agency (委托代理, no end date), committed, so the agency may
    create tenders naming the tenderee."""
    async with session_maker() as session:
        await MandateService(session).grant(tenderee.actor(), agency.organisation_id)
        await session.commit()


async def bidder_party(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    pki: DevPki,
    *,
    ca: Literal["jiangsu", "anhui"] = "jiangsu",
) -> Party:
    """A bidder with a signing and an encryption certificate of the same USCC."""
    return await party(
        session_maker,
        settings,
        pki,
        Role.BIDDER,
        kind=OrganisationKind.ENTERPRISE,
        name="测试投标人",
        region="340100" if ca == "anhui" else "320100",
        ca=ca,
        encryption=True,
    )


async def sign_document(identity: Identity, data: bytes) -> bytes:
    """A detached CAdES-B-B signature (DER) over ``data``, as a signing tool makes it."""
    return await sign_detached(data, identity.signing())


def tender_create(
    now: datetime,
    *,
    code: str | None = None,
    tender_type: str = "engineering-mandatory",
    category: TenderCategory = TenderCategory.ENGINEERING,
    lots: int | list[LotCreate] = 2,
    estimate: Decimal = Decimal("1000000.00"),
    deadline_days: int = 21,
    key_holders: list[KeyHolderCreate] | None = None,
    key_threshold: int | None = None,
    **overrides: Any,
) -> TenderCreate:
    """A draft that passes every publication rule at ``now`` (once it has a signed document)."""
    fields: dict[str, Any] = {
        "project_code": code or f"T-{next(_CODES):04d}-{now:%H%M%S%f}",
        "title": "某道路改造工程施工招标",
        "category": category,
        "tender_type": tender_type,
        "estimate": estimate,
        "evaluation_method": EvaluationMethod.COMPREHENSIVE,
        "evaluation_criteria": [Criterion("price", 60), Criterion("technical", 30), Criterion("credit", 10)],
        "lots": lots
        if isinstance(lots, list)
        else [LotCreate(f"L{i + 1}", f"第{i + 1}标段", estimate / lots) for i in range(lots)],
        # 2 % of one lot's estimate: the cap is per lot (实施条例 Art. 26).
        "bid_security_amount": (
            estimate / max(len(lots) if isinstance(lots, list) else lots, 1) * Decimal("0.02")
        ).quantize(Decimal("0.01")),
        "bid_security_forms": ["cash", "guarantee"],
        "documents_from": now,
        "documents_until": now + timedelta(days=deadline_days - 1),
        "deadline": now + timedelta(days=deadline_days),
        "key_holders": key_holders or [],
        "key_threshold": key_threshold,
    }
    fields.update(overrides)
    return TenderCreate(**fields)


async def draft_tender(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: Store,
    owner: Party,
    *,
    signed: bool = True,
    **create: Any,
) -> Tender:
    """A committed draft (with a signed tender document unless ``signed`` is False)."""
    async with session_maker() as session:
        service = TenderService(session, settings, store)
        now = await clock.now(session)
        tender = await service.create_draft(owner.actor(), tender_create(now, **create))
        if signed:
            await service.add_document(
                owner.actor(),
                tender,
                DocumentKind.TENDER_DOCUMENT,
                "招标文件",
                "tender.pdf",
                "application/pdf",
                TENDER_DOCUMENT,
                await sign_document(owner.sign, TENDER_DOCUMENT),
            )
        await session.commit()
    return tender


async def published_tender(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: Store,
    owner: Party,
    **create: Any,
) -> Tender:
    """A committed, published tender: one or more lots, a signed tender document, deadline =
    the database's now + 21 days (``deadline_days``)."""
    tender = await draft_tender(session_maker, settings, store, owner, **create)
    async with session_maker() as session:
        published = await TenderService(session, settings, store).publish(owner.actor(), tender)
        await session.commit()
    return published
