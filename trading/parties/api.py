"""The parties JSON API under ``/api/v1``: authentication, registration, organisations, users
and memberships.

API clients authenticate with bearer tokens from ``POST /auth/tokens``; cookies are ignored here
(the API is exempt from CSRF, so it must not honour ambient credentials). Errors are RFC 9457
problem+json naming the field and the rule.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from trading.kernel.api.bounds import Offset
from trading.kernel.api.errors import problem_response
from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.ratelimit import limiter_for, throttle
from trading.parties.authentication import AuthenticationService
from trading.parties.deps import provide_auth_service, provide_parties_service
from trading.parties.errors import TooManyLoginAttempts
from trading.parties.models import SessionKind
from trading.parties.policies import PartiesPermission
from trading.parties.schemas import (
    MembershipCreate,
    MembershipRead,
    MembershipRevoke,
    MeRead,
    OrganisationCreate,
    OrganisationRead,
    PasswordChange,
    RegistrationCreate,
    RegistrationRead,
    TokenCreate,
    TokenRead,
    TotpConfirm,
    TotpEnrolmentRead,
    UserCreate,
    UserCreatedRead,
    UserRead,
)
from trading.parties.service import PartiesService

PAGE_MAX = 200


# Public routes resolve the actor inside the handler rather than as a dependency: Litestar resolves
# sibling dependencies concurrently, and the actor's own short database session must not
# interleave with the request's session (the guard has already resolved it on guarded routes).


def token_created(token: str, expires_at: datetime) -> Response[TokenRead]:
    """201 with a new API token. ``no-store``: the token is shown once and must not be cached."""
    return Response(
        TokenRead(token=token, expires_at=expires_at),
        status_code=HTTP_201_CREATED,
        headers={"Cache-Control": "no-store"},
    )


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]
    dependencies = {"auth": Provide(provide_auth_service)}

    @post("/tokens", operation_id="parties_create_token", status_code=HTTP_201_CREATED, summary="Issue an API token")
    async def create_token(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TokenCreate],
        auth: NamedDependency[AuthenticationService],
        state: State,
    ) -> Response[TokenRead]:
        """Exchange username, password (and TOTP code when enabled) for a bearer token."""
        actor = await current_actor(request)
        try:
            result = await auth.login(
                username=data.username,
                password=data.password,
                totp=data.totp,
                kind=SessionKind.API,
                actor=actor,
                limiter=limiter_for(state),
                organisation_id=data.organisation_id,
            )
        except TooManyLoginAttempts as exc:
            return problem_response(exc.problem(), headers={"Retry-After": str(exc.retry_after)})
        if result.error is not None:
            # Returned, not raised: the failed attempt's ledger entry must be committed.
            return problem_response(result.error.problem())
        assert result.token is not None  # noqa: S101 - success carries the token
        assert result.session is not None  # noqa: S101 - and the session
        return token_created(result.token, result.session.expires_at)

    @delete(
        "/tokens",
        operation_id="parties_revoke_token",
        status_code=HTTP_204_NO_CONTENT,
        opt=requires(PartiesPermission.SESSION_REVOKE),
    )
    async def revoke_token(self, auth: NamedDependency[AuthenticationService], actor: NamedDependency[Actor]) -> None:
        """Revoke the bearer token this request was made with."""
        await auth.logout(actor=actor)

    @get("/me", operation_id="parties_get_me", opt=requires(PartiesPermission.PROFILE_READ))
    async def me(self, actor: NamedDependency[Actor]) -> MeRead:
        """Who the token belongs to, the organisation it acts for, its roles and permissions."""
        assert actor.user_id is not None  # noqa: S101 - the guard let only a user in
        assert actor.username is not None  # noqa: S101
        return MeRead(
            user_id=actor.user_id,
            username=actor.username,
            display_name=actor.display_name,
            organisation_id=actor.organisation_id,
            organisation_name=actor.organisation_name,
            roles=sorted(actor.roles),
            permissions=sorted(actor.permissions),
        )

    @post(
        "/totp",
        operation_id="parties_enrol_totp",
        status_code=HTTP_201_CREATED,
        opt=requires(PartiesPermission.PROFILE_UPDATE),
    )
    async def enrol_totp(
        self, auth: NamedDependency[AuthenticationService], actor: NamedDependency[Actor]
    ) -> Response[TotpEnrolmentRead]:
        """Start TOTP enrolment: returns the secret and its otpauth:// URI (shown once)."""
        enrolment = await auth.enrol_totp(actor=actor)
        return Response(
            TotpEnrolmentRead(secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri),
            status_code=HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )

    @post(
        "/totp/confirm",
        operation_id="parties_confirm_totp",
        status_code=HTTP_204_NO_CONTENT,
        opt=requires(PartiesPermission.PROFILE_UPDATE),
    )
    async def confirm_totp(
        self, data: JSONBody[TotpConfirm], auth: NamedDependency[AuthenticationService], actor: NamedDependency[Actor]
    ) -> None:
        """Confirm enrolment with a current code; from then on login needs a code."""
        await auth.confirm_totp(data.code, actor=actor)

    @post(
        "/password",
        operation_id="parties_change_password",
        status_code=HTTP_204_NO_CONTENT,
        opt=requires(PartiesPermission.PROFILE_UPDATE),
    )
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        auth: NamedDependency[AuthenticationService],
        actor: NamedDependency[Actor],
    ) -> None:
        """Change the password; every other session and token of the user is revoked."""
        await auth.change_password(current_password=data.current_password, new_password=data.new_password, actor=actor)


class PartiesController(Controller):
    path = "/parties"
    tags = ["parties"]
    dependencies = {"parties": Provide(provide_parties_service)}

    @post(
        "/registrations",
        operation_id="parties_register",
        status_code=HTTP_201_CREATED,
        guards=[throttle("registration")],
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RegistrationCreate],
        parties: NamedDependency[PartiesService],
    ) -> RegistrationRead:
        """Register an organisation with its first user (bidder, tenderee, agency, intermediary or guarantor)."""
        actor = await current_actor(request)
        registration = await parties.register(data, actor=actor)
        return RegistrationRead(
            organisation=OrganisationRead.of(registration.organisation),
            user=UserRead.of(registration.user),
            membership=MembershipRead.of(registration.membership),
        )

    @get(
        "/organisations",
        operation_id="parties_list_organisations",
        opt=requires(PartiesPermission.ORGANISATION_READ),
    )
    async def list_organisations(
        self,
        parties: NamedDependency[PartiesService],
        actor: NamedDependency[Actor],
        limit: Annotated[int, QueryParameter(ge=1, le=PAGE_MAX)] = 50,
        offset: Offset = 0,
    ) -> list[OrganisationRead]:
        """Organisations the caller may see: all for admins and supervisors, else their own."""
        organisations = await parties.organisations.list(actor, limit=limit, offset=offset)
        return [OrganisationRead.of(organisation) for organisation in organisations]

    @post(
        "/organisations",
        operation_id="parties_create_organisation",
        status_code=HTTP_201_CREATED,
        opt=requires(PartiesPermission.ORGANISATION_MANAGE),
    )
    async def create_organisation(
        self,
        data: JSONBody[OrganisationCreate],
        parties: NamedDependency[PartiesService],
        actor: NamedDependency[Actor],
    ) -> OrganisationRead:
        """Register an organisation of any kind (centre administrators)."""
        return OrganisationRead.of(await parties.create_organisation(data, actor=actor))

    @get(
        "/organisations/{organisation_id:uuid}",
        operation_id="parties_get_organisation",
        opt=requires(PartiesPermission.ORGANISATION_READ),
    )
    async def get_organisation(
        self,
        organisation_id: FromPath[uuid.UUID],
        parties: NamedDependency[PartiesService],
        actor: NamedDependency[Actor],
    ) -> OrganisationRead:
        """One organisation the caller may see."""
        return OrganisationRead.of(await parties.organisation(organisation_id, actor=actor))

    @post(
        "/users",
        operation_id="parties_create_user",
        status_code=HTTP_201_CREATED,
        opt=requires(PartiesPermission.USER_MANAGE),
    )
    async def create_user(
        self, data: JSONBody[UserCreate], parties: NamedDependency[PartiesService], actor: NamedDependency[Actor]
    ) -> UserCreatedRead:
        """Create a user with a first membership, any role fitting the organisation (administrators)."""
        user, membership = await parties.create_user(data, actor=actor)
        return UserCreatedRead(user=UserRead.of(user), membership=MembershipRead.of(membership))

    @get(
        "/memberships",
        operation_id="parties_list_memberships",
        opt=requires(PartiesPermission.MEMBERSHIP_READ),
    )
    async def list_memberships(
        self,
        parties: NamedDependency[PartiesService],
        actor: NamedDependency[Actor],
        *,
        organisation_id: FromQuery[uuid.UUID | None] = None,
        user_id: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=PAGE_MAX)] = 50,
        offset: Offset = 0,
    ) -> list[MembershipRead]:
        """Memberships, optionally of one organisation or one user."""
        memberships = await parties.memberships.list(
            actor, organisation_id=organisation_id, user_id=user_id, limit=limit, offset=offset
        )
        return [MembershipRead.of(membership) for membership in memberships]

    @post(
        "/memberships",
        operation_id="parties_grant_membership",
        status_code=HTTP_201_CREATED,
        opt=requires(PartiesPermission.MEMBERSHIP_GRANT),
    )
    async def grant_membership(
        self, data: JSONBody[MembershipCreate], parties: NamedDependency[PartiesService], actor: NamedDependency[Actor]
    ) -> MembershipRead:
        """Grant a role in an organisation, optionally until a given time."""
        return MembershipRead.of(await parties.grant_membership(data, actor=actor))

    @post(
        "/memberships/{membership_id:uuid}/revoke",
        operation_id="parties_revoke_membership",
        status_code=200,
        opt=requires(PartiesPermission.MEMBERSHIP_REVOKE),
    )
    async def revoke_membership(
        self,
        membership_id: FromPath[uuid.UUID],
        *,
        data: JSONBody[MembershipRevoke],
        parties: NamedDependency[PartiesService],
        actor: NamedDependency[Actor],
    ) -> MembershipRead:
        """End a membership now; it stays on record as revoked."""
        return MembershipRead.of(await parties.revoke_membership(membership_id, reason=data.reason, actor=actor))


CONTROLLERS = (AuthController, PartiesController)
