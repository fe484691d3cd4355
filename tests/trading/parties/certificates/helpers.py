"""Helpers for the certificate tests: load the development lists, accounts for the PKI's parties,
and the client side of certificate login (what a CA's middleware does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.auth.challenge import Challenge, LoginResponse, sign_challenge
from certs.devpki.pki import Identity
from tests.trading.parties.factories import PASSWORD, Account, new_username
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.parties.certificates.trust import LoadOutcome, TrustListService, cache_crl
from trading.parties.models import OrganisationKind
from trading.parties.schemas import OrganisationCreate, UserCreate
from trading.parties.service import PartiesService


async def load_dev_lists(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    out: Path,
    manifest: dict[str, Any],
    *,
    crls: bool = True,
) -> None:
    async with session_maker() as session:
        lists = TrustListService(session, settings)
        for name, peer in (("own", False), ("peer", True)):
            document, signature = manifest["trustLists"][name]
            outcome = await lists.load(
                (out / document).read_bytes(), (out / signature).read_bytes(), actor=Actor.system(), peer=peer
            )
            assert outcome.refusal is None, outcome.refusal
        if crls:
            for ca in manifest["cas"].values():
                await cache_crl(session, settings, ca["crlUrl"], (out / ca["crl"]).read_bytes())
        await session.commit()


async def load_list(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    document: bytes,
    signature: bytes,
    *,
    peer: bool = False,
) -> LoadOutcome:
    async with session_maker() as session:
        outcome = await TrustListService(session, settings).load(document, signature, actor=Actor.system(), peer=peer)
        await session.commit()
    return outcome


async def account(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    uscc: str,
    name: str = "测试单位",
    role: Role = Role.BIDDER,
    kind: OrganisationKind = OrganisationKind.ENTERPRISE,
    id_number: str | None = None,
    username: str | None = None,
) -> Account:
    """A user holding ``role`` in the organisation with ``uscc`` (created if it is not registered)."""
    async with session_maker() as session:
        service = PartiesService(session, settings)
        organisation = await service.organisations.by_uscc(uscc)
        if organisation is None:
            organisation = await service.create_organisation(
                OrganisationCreate(uscc=uscc, name=name, kind=kind), actor=Actor.system()
            )
        user, membership = await service.create_user(
            UserCreate(
                username=username or new_username(role.value),
                display_name="证书用户",
                password=PASSWORD,
                organisation_id=organisation.id,
                role=role,
                id_number=id_number,
            ),
            actor=Actor.system(),
        )
        await session.commit()
    return Account(user.id, organisation.id, membership.id, user.username)


def answer(challenge: dict[str, Any], identity: Identity, *, chain: tuple[Any, ...] | None = None) -> dict[str, Any]:
    """Sign a challenge as the certificate's middleware does (intermediates, not the root)."""
    intermediates = identity.chain[:-1] if chain is None else chain
    response = sign_challenge(
        Challenge.from_dict(challenge), identity.signing().signer, identity.certificate, intermediates
    )
    return LoginResponse.from_dict(response.to_dict()).to_dict()


async def certificate_login(
    client: httpx.AsyncClient,
    identity: Identity,
    *,
    origin: str | None = None,
    chain: tuple[Any, ...] | None = None,
) -> httpx.Response:
    headers = {"Origin": origin} if origin else {}
    issued = await client.post("/api/v1/auth/certificate/challenges", headers=headers)
    assert issued.status_code == 201, issued.text
    return await client.post(
        "/api/v1/auth/certificate/sessions", json=answer(issued.json()["challenge"], identity, chain=chain)
    )
