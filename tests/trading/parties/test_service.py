"""Registration, administration and the membership rules, against the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import PASSWORD, create_account, ledger_entries, new_uscc, new_username
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.errors import ValidationFailed
from trading.kernel.settings import Settings
from trading.parties.errors import AlreadyRegistered, MembershipNotActive
from trading.parties.identifiers import resident_id_hash
from trading.parties.models import MembershipStatus, OrganisationKind, Person, User
from trading.parties.schemas import MembershipCreate, RegistrationCreate
from trading.parties.service import PartiesService

ID_NUMBER = "11010519491231002X"


def registration(**overrides: object) -> RegistrationCreate:
    values: dict[str, object] = {
        "uscc": new_uscc(),
        "organisation_name": "淮安测试建设有限公司",
        "organisation_kind": OrganisationKind.ENTERPRISE,
        "role": Role.BIDDER,
        "username": new_username("bidder"),
        "display_name": "王测试",
        "password": PASSWORD,
    }
    values.update(overrides)
    return RegistrationCreate(**values)  # type: ignore[arg-type]


async def test_registration_creates_organisation_user_and_membership_on_the_ledger(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    form = registration(id_number=ID_NUMBER.lower(), person_name="张三")
    result = await PartiesService(session, settings).register(form, actor=Actor.anonymous("203.0.113.7"))
    await session.commit()

    assert result.organisation.uscc == form.uscc
    assert result.organisation.region_code == "320812"
    assert result.user.username == form.username
    assert result.user.password_hash.startswith("$argon2id$")
    assert result.membership.role is Role.BIDDER
    assert result.membership.status is MembershipStatus.ACTIVE
    assert result.membership.next_check is None

    registered = await ledger_entries(
        session_maker, action="parties.organisation_registered", subject_id=result.organisation.id
    )
    assert len(registered) == 1
    assert registered[0].client_ip == "203.0.113.7"
    assert registered[0].summary["uscc"] == form.uscc
    assert len(await ledger_entries(session_maker, action="parties.user_created", subject_id=result.user.id)) == 1
    granted = await ledger_entries(session_maker, action="parties.membership_granted", subject_id=result.membership.id)
    assert len(granted) == 1
    assert granted[0].summary["role"] == "bidder"
    # Nothing secret reaches the ledger's stored columns.
    for entry in (*registered, *granted):
        assert PASSWORD not in entry.summary_json
        assert ID_NUMBER not in entry.summary_json


async def test_the_id_number_is_kept_only_as_keyed_hash_and_masked(session: AsyncSession, settings: Settings) -> None:
    result = await PartiesService(session, settings).register(
        registration(id_number=ID_NUMBER), actor=Actor.anonymous()
    )
    user = await session.get(User, result.user.id)
    assert user is not None
    assert user.person_id is not None
    person = await session.get(Person, user.person_id)
    assert person is not None
    assert person.id_masked == "110105********002X"
    assert person.id_hash == resident_id_hash(ID_NUMBER, settings.secret("pii_hash_key"))
    assert ID_NUMBER not in (person.id_hash + person.id_masked + person.name)


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"uscc": "91350100M000100Y44"}, "uscc", "check_char"),
        ({"uscc": "91350100M00010"}, "uscc", "length"),
        ({"uscc": "91350100MO00100Y43"}, "uscc", "charset"),
        ({"password": "short"}, "password", "min_length"),
        ({"username": "A b"}, "username", "format"),
        ({"organisation_name": "  "}, "organisation_name", "required"),
        ({"id_number": "11010519491231002"}, "id_number", "length"),
        ({"id_number": "110105194912310021"}, "id_number", "check_digit"),
        ({"id_number": "110105194902300027"}, "id_number", "birth_date"),
        (
            {"role": Role.SUPERVISOR, "organisation_kind": OrganisationKind.SUPERVISORY_DEPARTMENT},
            "role",
            "self_registration",
        ),
        ({"role": Role.ADMIN, "organisation_kind": OrganisationKind.TRADING_CENTRE}, "role", "self_registration"),
        ({"role": Role.EXPERT, "organisation_kind": OrganisationKind.TRADING_CENTRE}, "role", "self_registration"),
        ({"role": Role.GUARANTOR, "organisation_kind": OrganisationKind.ENTERPRISE}, "role", "role_fits_kind"),
        ({"role": Role.AGENCY, "organisation_kind": OrganisationKind.PURCHASER_UNIT}, "role", "role_fits_kind"),
    ],
)
async def test_registration_refusals_name_the_field_and_rule(
    session: AsyncSession, settings: Settings, overrides: dict[str, object], field: str, rule: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await PartiesService(session, settings).register(registration(**overrides), actor=Actor.anonymous())
    errors = caught.value.problem()["errors"]
    assert {"field": field, "rule": rule} in [{"field": e["field"], "rule": e["rule"]} for e in errors]


async def test_all_field_errors_are_reported_together(session: AsyncSession, settings: Settings) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await PartiesService(session, settings).register(
            registration(uscc="X", password="short", username="?"), actor=Actor.anonymous()
        )
    assert {e["field"] for e in caught.value.problem()["errors"]} == {"uscc", "password", "username"}


async def test_taken_uscc_and_username_are_conflicts(session: AsyncSession, settings: Settings) -> None:
    service = PartiesService(session, settings)
    first = registration()
    await service.register(first, actor=Actor.anonymous())
    with pytest.raises(AlreadyRegistered) as caught:
        await service.register(registration(uscc=first.uscc), actor=Actor.anonymous())
    assert (caught.value.field, caught.value.status_code) == ("uscc", 409)
    with pytest.raises(AlreadyRegistered) as caught:
        await service.register(registration(username=first.username.upper()), actor=Actor.anonymous())
    assert caught.value.field == "username"


async def test_admin_grants_only_fitting_roles_and_not_twice(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    centre = await create_account(session_maker, settings, Role.ADMIN)
    async with session_maker() as session:
        service = PartiesService(session, settings)
        with pytest.raises(ValidationFailed) as caught:
            await service.grant_membership(
                MembershipCreate(user_id=bidder.user_id, organisation_id=bidder.organisation_id, role=Role.SUPERVISOR),
                actor=Actor.system(),
            )
        assert (caught.value.field, caught.value.rule) == ("role", "role_fits_kind")
        with pytest.raises(AlreadyRegistered):
            await service.grant_membership(
                MembershipCreate(user_id=bidder.user_id, organisation_id=bidder.organisation_id, role=Role.BIDDER),
                actor=Actor.system(),
            )
        now = await clock.now(session)
        expert = await service.grant_membership(
            MembershipCreate(
                user_id=bidder.user_id,
                organisation_id=centre.organisation_id,
                role=Role.EXPERT,
                valid_until=now + timedelta(days=365),
            ),
            actor=Actor.system(),
        )
        assert expert.next_check == expert.valid_until
        revoked = await service.revoke_membership(expert.id, reason="left the pool", actor=Actor.system())
        assert revoked.status is MembershipStatus.REVOKED
        assert revoked.next_check is None
        with pytest.raises(MembershipNotActive):
            await service.revoke_membership(expert.id, reason="again", actor=Actor.system())
        await session.commit()
    assert len(await ledger_entries(session_maker, action="parties.membership_revoked", subject_id=expert.id)) == 1


async def test_usernames_are_case_insensitive(session: AsyncSession, settings: Settings) -> None:
    form = registration(username="MiXeD-Case")
    result = await PartiesService(session, settings).register(form, actor=Actor.anonymous())
    assert result.user.username == "mixed-case"
    assert (await session.scalar(select(User.username).where(User.id == result.user.id))) == "mixed-case"
