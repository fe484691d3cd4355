"""Pages: log in, log out, register, and the account page (profile, password, two-step sign-in).

Browsers authenticate with the ``ggzy_session`` cookie (HttpOnly, SameSite=Lax, ``Secure`` when
``settings.web.secure_cookies``); every form carries the CSRF token. Forms take the kernel's one
path (``trading/kernel/web/forms.py``): a form that fails is re-rendered with status 422 and its
field errors, worded by ``web_labels.LABELS``; a form that succeeds redirects (303). Logging in is
the exception: a failed attempt is re-rendered, not raised, so its ledger entry is committed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, TypeVar
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.auth.roles import Role
from trading.kernel.errors import DomainError
from trading.kernel.ratelimit import limiter_for, throttle
from trading.kernel.web import i18n
from trading.kernel.web.forms import (
    UNPROCESSABLE,
    FieldError,
    FieldParser,
    FormBody,
    field_errors,
    is_client_error,
    submit,
)
from trading.kernel.web.i18n import N_
from trading.kernel.web.navigation import ROLE_LABELS
from trading.kernel.web.pages import page
from trading.parties import policies
from trading.parties.authentication import AuthenticationService, TotpEnrolment
from trading.parties.certificates.bindings import BindingService
from trading.parties.credentials import SESSION_COOKIE
from trading.parties.deps import provide_auth_service, provide_binding_service, provide_parties_service
from trading.parties.errors import TooManyLoginAttempts, TotpInvalid, TotpRequired
from trading.parties.models import OrganisationKind, SessionKind
from trading.parties.policies import PartiesPermission
from trading.parties.schemas import RegistrationCreate
from trading.parties.service import PartiesService
from trading.parties.web_labels import CHOICES, LABELS

E = TypeVar("E", bound=Enum)
DASHBOARD = "/dashboard"

KIND_LABELS: dict[OrganisationKind, str] = {
    OrganisationKind.ENTERPRISE: N_("Enterprise"),
    OrganisationKind.PURCHASER_UNIT: N_("Purchasing unit (government body or public institution)"),
    OrganisationKind.AGENCY: N_("Tendering or procurement agency"),
    OrganisationKind.INTERMEDIARY: N_("Intermediary service provider"),
    OrganisationKind.BANK: N_("Bank"),
    OrganisationKind.INSURER: N_("Insurance company"),
    OrganisationKind.GUARANTEE_COMPANY: N_("Guarantee company"),
    OrganisationKind.SUPERVISORY_DEPARTMENT: N_("Supervisory department"),
    OrganisationKind.TRADING_CENTRE: N_("Public resource trading centre"),
}
SELF_REGISTRATION_KINDS = tuple(
    kind
    for kind in OrganisationKind
    if any(kind in policies.ROLE_ORGANISATION_KINDS[role] for role in policies.SELF_REGISTRATION_ROLES)
)
REGISTRATION_ROLES = tuple(role for role in Role if role in policies.SELF_REGISTRATION_ROLES)

LOGIN_FAILED = N_("Wrong username or password.")
LOGIN_TOTP_REQUIRED = N_("Enter the 6-digit code from your authenticator app.")
LOGIN_TOTP_INVALID = N_("The verification code is wrong or was already used.")
LOGIN_THROTTLED = N_("Too many failed attempts. Wait %(minutes)s minutes and try again.")


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never an open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return DASHBOARD
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(char in target for char in "\r\n"):
        return DASHBOARD
    return target


def session_cookie(state: State, token: str | None) -> Cookie:
    """The browser's session cookie holding ``token``; ``None`` expires it (logging out)."""
    settings = state.settings
    return Cookie(
        key=SESSION_COOKIE,
        value=token or "",
        path="/",
        max_age=settings.auth.session_ttl_seconds if token else 0,
        expires=None if token else 0,
        httponly=True,
        samesite="lax",
        secure=settings.web.secure_cookies,
    )


@dataclass
class LoginForm:
    username: str = ""
    password: str = ""
    totp: str = ""
    next: str = ""


@dataclass
class RegistrationForm:
    uscc: str = ""
    organisation_name: str = ""
    organisation_kind: str = ""
    role: str = ""
    username: str = ""
    display_name: str = ""
    password: str = ""
    id_number: str = ""
    person_name: str = ""


@dataclass
class TotpConfirmForm:
    code: str = ""


@dataclass
class PasswordForm:
    current_password: str = ""
    new_password: str = ""


async def login_page(
    request: Request[Any, Any, Any],
    next_path: str,
    *,
    username: str = "",
    errors: list[FieldError] | None = None,
    notice: str | None = None,
    needs_totp: bool = False,
    status_code: int = 200,
) -> Response[Any]:
    """The login page with its three ways in (password, QR code, certificate)."""
    return await page(
        request,
        "parties/login.html",
        {
            "form": {"username": username, "next": next_path},
            "errors": errors or [],
            "notice": notice,
            "needs_totp": needs_totp,
        },
        status_code=status_code,
    )


class AuthPages(Controller):
    """Log in and log out."""

    include_in_schema = False
    dependencies = {"auth": Provide(provide_auth_service)}

    @get("/login", name="auth.login")
    async def login_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        actor = await current_actor(request)
        if actor.is_authenticated:
            return Redirect(safe_next(request.query_params.get("next")), status_code=303)
        notice = (
            N_("Registration complete. Log in with your new account.") if "registered" in request.query_params else None
        )
        return await login_page(request, request.query_params.get("next", ""), notice=notice)

    @post("/login", name="auth.login_submit")
    async def login_submit(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthenticationService],
        state: State,
        data: FormBody[LoginForm],
    ) -> Response[Any]:
        # Public route: resolved here, not as a dependency (see trading.auth.api).
        actor = await current_actor(request)
        try:
            result = await auth.login(
                username=data.username,
                password=data.password,
                totp=data.totp or None,
                kind=SessionKind.WEB,
                actor=actor,
                limiter=limiter_for(state),
            )
        except TooManyLoginAttempts as exc:
            minutes = max(1, (exc.retry_after + 59) // 60)
            message = i18n.gettext(LOGIN_THROTTLED) % {"minutes": minutes}
            response = await login_page(
                request,
                data.next,
                username=data.username,
                errors=[FieldError(None, message)],
                status_code=exc.status_code,
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if result.error is not None:
            # Re-rendered, not raised: the failed attempt's ledger entry must be committed.
            needs_totp = isinstance(result.error, (TotpRequired, TotpInvalid))
            if needs_totp:
                message = LOGIN_TOTP_REQUIRED if isinstance(result.error, TotpRequired) else LOGIN_TOTP_INVALID
                error = FieldError("totp", i18n.gettext(message), i18n.gettext(LABELS.fields["totp"]))
            else:
                error = FieldError(None, i18n.gettext(LOGIN_FAILED))
            return await login_page(
                request,
                data.next,
                username=data.username,
                errors=[error],
                needs_totp=needs_totp,
                status_code=UNPROCESSABLE,
            )
        assert result.token is not None  # noqa: S101 - success carries the token
        return Redirect(safe_next(data.next), status_code=303, cookies=[session_cookie(state, result.token)])

    @post("/logout", name="auth.logout")
    async def logout(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthenticationService], state: State
    ) -> Redirect:
        """Public on purpose (a logged-out browser may post it too); CSRF still applies."""
        actor = await current_actor(request)
        if actor.is_authenticated:
            await auth.logout(actor=actor)
        return Redirect("/", status_code=303, cookies=[session_cookie(state, None)])


def _choice(parser: FieldParser, name: str, value: str, kind: type[E]) -> E | None:
    """A select field's value, worded by the field when it is not one of the options."""
    try:
        return kind(value)
    except ValueError:
        parser.add(name, "choice", CHOICES[name])
        return None


def registration_of(form: RegistrationForm) -> RegistrationCreate:
    """The registration the form asks for; the service checks the rest (one 422 naming every field)."""
    parser = FieldParser()
    kind = _choice(parser, "organisation_kind", form.organisation_kind, OrganisationKind)
    role = _choice(parser, "role", form.role, Role)
    parser.done()
    assert kind is not None  # noqa: S101 - done() raised otherwise
    assert role is not None  # noqa: S101
    return RegistrationCreate(
        uscc=form.uscc,
        organisation_name=form.organisation_name,
        organisation_kind=kind,
        role=role,
        username=form.username,
        display_name=form.display_name,
        password=form.password,
        id_number=form.id_number or None,
        person_name=form.person_name or None,
    )


class RegistrationPages(Controller):
    include_in_schema = False
    dependencies = {"parties": Provide(provide_parties_service)}

    @get("/register", name="parties.register")
    async def register_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._form(request, {}, [])

    @post("/register", name="parties.register_submit", guards=[throttle("registration")])
    async def register_submit(
        self,
        request: Request[Any, Any, Any],
        parties: NamedDependency[PartiesService],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[RegistrationForm],
    ) -> Response[Any]:
        actor = await current_actor(request)
        typed = {key: value for key, value in asdict(data).items() if key != "password"}  # never sent back

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._form(request, typed, errors)

        return await submit(
            db_session,
            lambda: parties.register(registration_of(data), actor=actor),
            redirect=request.app.route_reverse("auth.login") + "?registered=1",
            refusal=refusal,
            labels=LABELS,
        )

    async def _form(
        self, request: Request[Any, Any, Any], form: dict[str, str], errors: list[FieldError]
    ) -> Response[Any]:
        return await page(
            request,
            "parties/register.html",
            {
                "form": form,
                "errors": errors,
                "kinds": [(kind.value, KIND_LABELS[kind]) for kind in SELF_REGISTRATION_KINDS],
                "roles": [(role.value, ROLE_LABELS[role]) for role in REGISTRATION_ROLES],
                "labels": LABELS.fields,
            },
        )


class AccountPages(Controller):
    """The signed-in user's own account."""

    path = "/account"
    include_in_schema = False
    dependencies = {
        "auth": Provide(provide_auth_service),
        "parties": Provide(provide_parties_service),
        "bindings": Provide(provide_binding_service),
    }

    @get("/", name="parties.account", opt=requires(PartiesPermission.PROFILE_READ))
    async def account(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthenticationService],
        parties: NamedDependency[PartiesService],
        bindings: NamedDependency[BindingService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        return await account_page(request, auth, parties, bindings, actor)

    @post("/totp", name="parties.account_totp_enrol", opt=requires(PartiesPermission.PROFILE_UPDATE))
    async def enrol_totp(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthenticationService],
        parties: NamedDependency[PartiesService],
        bindings: NamedDependency[BindingService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        # Answered with the page, not a redirect: the secret is shown once, here.
        try:
            enrolment = await auth.enrol_totp(actor=actor)
        except DomainError as exc:  # already on (409), a stale tab or a double submit: said in place
            if not is_client_error(exc):
                raise
            return await account_page(request, auth, parties, bindings, actor, errors=field_errors(exc, LABELS))
        response = await account_page(request, auth, parties, bindings, actor, enrolment=enrolment)
        # The secret is on this page: keep it out of every cache.
        response.headers["Cache-Control"] = "no-store"
        return response

    @post("/totp/confirm", name="parties.account_totp_confirm", opt=requires(PartiesPermission.PROFILE_UPDATE))
    async def confirm_totp(
        self,
        request: Request[Any, Any, Any],
        *,
        auth: NamedDependency[AuthenticationService],
        parties: NamedDependency[PartiesService],
        bindings: NamedDependency[BindingService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[TotpConfirmForm],
    ) -> Response[Any]:
        return await submit(
            db_session,
            lambda: auth.confirm_totp(data.code, actor=actor),
            redirect=request.app.route_reverse("parties.account") + "?done=totp",
            refusal=lambda errors: account_page(request, auth, parties, bindings, actor, errors=errors),
            labels=LABELS,
        )

    @post("/password", name="parties.account_password", opt=requires(PartiesPermission.PROFILE_UPDATE))
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        *,
        auth: NamedDependency[AuthenticationService],
        parties: NamedDependency[PartiesService],
        bindings: NamedDependency[BindingService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[PasswordForm],
    ) -> Response[Any]:
        async def change() -> int:
            return await auth.change_password(
                current_password=data.current_password, new_password=data.new_password, actor=actor
            )

        return await submit(
            db_session,
            change,
            redirect=request.app.route_reverse("parties.account") + "?done=password",
            refusal=lambda errors: account_page(request, auth, parties, bindings, actor, errors=errors),
            labels=LABELS,
        )


ACCOUNT_NOTICES: dict[str, str] = {
    "totp": N_("Two-step sign-in is on. From now on you will be asked for a code when you log in."),
    "password": N_("Your password has been changed. Your other sessions have been logged out."),
    "bound": N_("The certificate is bound to your account."),
    "unbound": N_("The certificate is no longer bound to your account."),
}


async def account_page(
    request: Request[Any, Any, Any],
    auth: AuthenticationService,
    parties: PartiesService,
    bindings: BindingService,
    actor: Actor,
    *,
    enrolment: TotpEnrolment | None = None,
    errors: list[FieldError] | None = None,
) -> Response[Any]:
    """The account page: profile, memberships, certificate bindings, two-step sign-in, password."""
    user = await auth.me(actor=actor)
    person = await parties.users.person_of(user)
    memberships = await parties.memberships.with_organisations(user.id)
    done = request.query_params.get("done")
    return await page(
        request,
        "parties/account.html",
        {
            "user": user,
            "person": person,
            "memberships": memberships,
            "bindings": await bindings.bindings_of(actor),
            "role_labels": ROLE_LABELS,
            "kind_labels": KIND_LABELS,
            "enrolment": enrolment,
            "errors": errors or [],
            "notice": ACCOUNT_NOTICES.get(done or ""),
        },
        status_code=UNPROCESSABLE if errors else 200,
    )


CONTROLLERS = (AuthPages, RegistrationPages, AccountPages)
# Routes that need no permission (listed in trading.server.routing.PUBLIC_ROUTES).
PUBLIC_PATHS = ("/login", "/logout", "/register")
