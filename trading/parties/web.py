"""Pages: log in, log out, register, and the account page (profile, password, two-step sign-in).

Browsers authenticate with the ``ggzy_session`` cookie (HttpOnly, SameSite=Lax, ``Secure`` when
``settings.web.secure_cookies``); every form carries the CSRF token. A form that fails is
re-rendered with status 422 and its field errors; a form that succeeds redirects (303).
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.params import URLEncodedBody
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.auth.roles import Role
from trading.kernel.errors import DomainError
from trading.kernel.ratelimit import limiter_for, throttle
from trading.kernel.web import i18n
from trading.kernel.web.forms import FieldError
from trading.kernel.web.i18n import N_
from trading.kernel.web.navigation import ROLE_LABELS
from trading.kernel.web.pages import page
from trading.parties import policies
from trading.parties.authentication import AuthenticationService, TotpEnrolment
from trading.parties.credentials import SESSION_COOKIE
from trading.parties.errors import TooManyLoginAttempts, TotpInvalid, TotpRequired
from trading.parties.models import OrganisationKind, SessionKind
from trading.parties.policies import PartiesPermission
from trading.parties.schemas import RegistrationCreate
from trading.parties.service import PartiesService

Form = dict[str, str]
E = TypeVar("E", OrganisationKind, Role)
UNPROCESSABLE = 422
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

FIELD_LABELS: dict[str, str] = {
    "uscc": N_("Unified social credit code"),
    "organisation_name": N_("Organisation name"),
    "organisation_kind": N_("Kind of organisation"),
    "role": N_("Role"),
    "username": N_("Username"),
    "display_name": N_("Your name"),
    "password": N_("Password"),
    "id_number": N_("Resident ID number"),
    "person_name": N_("Name on the ID card"),
    "totp": N_("Verification code"),
    "code": N_("Verification code"),
    "current_password": N_("Current password"),
    "new_password": N_("New password"),
}

# What people read for each broken rule. The API reports the same field and rule with an English
# message; pages show these, translated.
RULE_MESSAGES: dict[tuple[str | None, str | None], str] = {
    ("uscc", "length"): N_("A unified social credit code has exactly 18 characters."),
    ("uscc", "charset"): N_(
        "The code contains a character that is never used: only digits and capital letters except I, O, Z, S and V."
    ),
    ("uscc", "region"): N_("Characters 3 to 8 must be the 6-digit code of the region of registration."),
    ("uscc", "check_char"): N_("The last character does not match the others: check the code for a typing mistake."),
    ("uscc", "unique"): N_("An organisation with this code is already registered."),
    ("username", "format"): N_(
        "Use 3 to 64 lower-case letters, digits, dots, hyphens or underscores, starting with a letter or digit."
    ),
    ("username", "unique"): N_("This username is taken."),
    ("password", "min_length"): N_("The password needs at least 10 characters."),
    ("password", "max_length"): N_("The password may have at most 128 characters."),
    ("password", "not_username"): N_("The password must not be the username."),
    ("new_password", "min_length"): N_("The password needs at least 10 characters."),
    ("new_password", "max_length"): N_("The password may have at most 128 characters."),
    ("new_password", "not_username"): N_("The password must not be the username."),
    ("current_password", "matches"): N_("The current password is wrong."),
    ("role", "role_fits_kind"): N_("This role does not fit the kind of organisation."),
    ("role", "self_registration"): N_("This role is created by a trading centre administrator."),
    ("role", "choice"): N_("Choose a role from the list."),
    ("organisation_kind", "choice"): N_("Choose a kind of organisation from the list."),
    ("id_number", "length"): N_("A resident ID number has exactly 18 characters."),
    ("id_number", "charset"): N_("A resident ID number has 17 digits followed by a digit or X."),
    ("id_number", "birth_date"): N_("The birth date in the ID number (characters 7 to 14) is not possible."),
    ("id_number", "check_digit"): N_(
        "The last character does not match the others: check the number for a typing mistake."
    ),
    ("code", "totp"): N_("The code is wrong or has expired. Enter the current code from your app."),
    ("code", "enrolment_started"): N_("Start setting up two-step sign-in first."),
    ("code", "not_enabled"): N_("Two-step sign-in is already on."),
    ("totp", "not_enabled"): N_("Two-step sign-in is already on."),
}
RULE_REQUIRED = N_("This field is required.")
RULE_TOO_LONG = N_("This is too long.")
LOGIN_FAILED = N_("Wrong username or password.")
LOGIN_TOTP_REQUIRED = N_("Enter the 6-digit code from your authenticator app.")
LOGIN_TOTP_INVALID = N_("The verification code is wrong or was already used.")
LOGIN_THROTTLED = N_("Too many failed attempts. Wait %(minutes)s minutes and try again.")


def translated_errors(exc: DomainError) -> list[FieldError]:
    """Every field error of a failure, in the page's language, each with its field's label."""
    items = exc.problem().get("errors") or [{"field": exc.field, "rule": exc.rule, "message": exc.message}]
    errors = []
    for item in items:
        name, rule = item.get("field"), item.get("rule")
        if (name, rule) in RULE_MESSAGES:
            message = i18n.gettext(RULE_MESSAGES[name, rule])
        elif rule == "required":
            message = i18n.gettext(RULE_REQUIRED)
        elif rule == "max_length":
            message = i18n.gettext(RULE_TOO_LONG)
        else:
            message = i18n.gettext(str(item.get("message", "")))
        label = i18n.gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else None
        errors.append(FieldError(name, message, label))
    return errors


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never an open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return DASHBOARD
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(char in target for char in "\r\n"):
        return DASHBOARD
    return target


def session_cookie(state: State, token: str) -> Cookie:
    settings = state.settings
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        max_age=settings.auth.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.web.secure_cookies,
    )


def expired_session_cookie(state: State) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        path="/",
        max_age=0,
        expires=0,
        httponly=True,
        samesite="lax",
        secure=state.settings.web.secure_cookies,
    )


async def provide_parties_service(db_session: NamedDependency[AsyncSession], state: State) -> PartiesService:
    return PartiesService(db_session, state.settings)


async def provide_auth_service(db_session: NamedDependency[AsyncSession], state: State) -> AuthenticationService:
    return AuthenticationService(db_session, state.settings)


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
        return await page(
            request,
            "parties/login.html",
            {
                "form": {"username": "", "next": request.query_params.get("next", "")},
                "errors": [],
                "notice": notice,
                "needs_totp": False,
            },
        )

    @post("/login", name="auth.login_submit")
    async def login_submit(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthenticationService],
        state: State,
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        # Public route: resolved here, not as a dependency (see trading.auth.api).
        actor = await current_actor(request)
        form = {"username": data.get("username", ""), "next": data.get("next", "")}
        try:
            result = await auth.login(
                username=data.get("username", ""),
                password=data.get("password", ""),
                totp=data.get("totp") or None,
                kind=SessionKind.WEB,
                actor=actor,
                limiter=limiter_for(state),
            )
        except TooManyLoginAttempts as exc:
            minutes = max(1, (exc.retry_after + 59) // 60)
            message = i18n.gettext(LOGIN_THROTTLED) % {"minutes": minutes}
            response = await self._login_again(request, form, FieldError(None, message), status_code=exc.status_code)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if result.error is not None:
            # Re-rendered, not raised: the failed attempt's ledger entry must be committed.
            needs_totp = isinstance(result.error, (TotpRequired, TotpInvalid))
            if isinstance(result.error, TotpRequired):
                error = FieldError("totp", i18n.gettext(LOGIN_TOTP_REQUIRED), i18n.gettext(FIELD_LABELS["totp"]))
            elif isinstance(result.error, TotpInvalid):
                error = FieldError("totp", i18n.gettext(LOGIN_TOTP_INVALID), i18n.gettext(FIELD_LABELS["totp"]))
            else:
                error = FieldError(None, i18n.gettext(LOGIN_FAILED))
            return await self._login_again(request, form, error, needs_totp=needs_totp)
        assert result.token is not None  # noqa: S101 - success carries the token
        return Redirect(safe_next(form["next"]), status_code=303, cookies=[session_cookie(state, result.token)])

    async def _login_again(
        self,
        request: Request[Any, Any, Any],
        form: Form,
        error: FieldError,
        *,
        needs_totp: bool = False,
        status_code: int = UNPROCESSABLE,
    ) -> Response[Any]:
        return await page(
            request,
            "parties/login.html",
            {"form": form, "errors": [error], "notice": None, "needs_totp": needs_totp},
            status_code=status_code,
        )

    @post("/logout", name="auth.logout")
    async def logout(
        self, request: Request[Any, Any, Any], auth: NamedDependency[AuthenticationService], state: State
    ) -> Redirect:
        """Public on purpose (a logged-out browser may post it too); CSRF still applies."""
        actor = await current_actor(request)
        if actor.is_authenticated:
            await auth.logout(actor=actor)
        return Redirect("/", status_code=303, cookies=[expired_session_cookie(state)])


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
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        actor = await current_actor(request)
        form = {key: value for key, value in data.items() if key not in {"password", "_csrf_token"}}
        choice_errors = []
        kind = _choice(OrganisationKind, data.get("organisation_kind"))
        if kind is None:
            choice_errors.append(self._choice_error("organisation_kind"))
        role = _choice(Role, data.get("role"))
        if role is None:
            choice_errors.append(self._choice_error("role"))
        if kind is None or role is None:
            return await self._form(request, form, choice_errors, status_code=UNPROCESSABLE)
        registration = RegistrationCreate(
            uscc=data.get("uscc", ""),
            organisation_name=data.get("organisation_name", ""),
            organisation_kind=kind,
            role=role,
            username=data.get("username", ""),
            display_name=data.get("display_name", ""),
            password=data.get("password", ""),
            id_number=data.get("id_number") or None,
            person_name=data.get("person_name") or None,
        )
        try:
            await parties.register(registration, actor=actor)
        except DomainError as exc:
            if exc.status_code >= 500:  # noqa: PLR2004 - only client errors belong on the form
                raise
            return await self._form(request, form, translated_errors(exc), status_code=UNPROCESSABLE)
        return Redirect("/login?registered=1", status_code=303)

    @staticmethod
    def _choice_error(name: str) -> FieldError:
        return FieldError(name, i18n.gettext(RULE_MESSAGES[name, "choice"]), i18n.gettext(FIELD_LABELS[name]))

    async def _form(
        self, request: Request[Any, Any, Any], form: Form, errors: list[FieldError], *, status_code: int = 200
    ) -> Response[Any]:
        return await page(
            request,
            "parties/register.html",
            {
                "form": form,
                "errors": errors,
                "kinds": [(kind.value, KIND_LABELS[kind]) for kind in SELF_REGISTRATION_KINDS],
                "roles": [(role.value, ROLE_LABELS[role]) for role in REGISTRATION_ROLES],
                "labels": FIELD_LABELS,
            },
            status_code=status_code,
        )


def _choice(enum: type[E], value: str | None) -> E | None:
    try:
        return enum(value or "")
    except ValueError:
        return None


class AccountPages(Controller):
    """The signed-in user's own account."""

    path = "/account"
    include_in_schema = False
    dependencies = {"auth": Provide(provide_auth_service), "parties": Provide(provide_parties_service)}

    @get("/", name="parties.account", opt=requires(PartiesPermission.PROFILE_READ))
    async def account(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthenticationService],
        parties: NamedDependency[PartiesService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        return await self._page(request, auth, parties, actor)

    @post("/totp", name="parties.account_totp_enrol", opt=requires(PartiesPermission.PROFILE_UPDATE))
    async def enrol_totp(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthenticationService],
        parties: NamedDependency[PartiesService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        try:
            enrolment = await auth.enrol_totp(actor=actor)
        except DomainError as exc:
            return await self._page(
                request, auth, parties, actor, errors=translated_errors(exc), status_code=UNPROCESSABLE
            )
        response = await self._page(request, auth, parties, actor, enrolment=enrolment)
        # The secret is on this page: keep it out of every cache.
        response.headers["Cache-Control"] = "no-store"
        return response

    @post("/totp/confirm", name="parties.account_totp_confirm", opt=requires(PartiesPermission.PROFILE_UPDATE))
    async def confirm_totp(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthenticationService],
        parties: NamedDependency[PartiesService],
        actor: NamedDependency[Actor],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        try:
            await auth.confirm_totp(data.get("code", ""), actor=actor)
        except DomainError as exc:
            return await self._page(
                request, auth, parties, actor, errors=translated_errors(exc), status_code=UNPROCESSABLE
            )
        return Redirect("/account?done=totp", status_code=303)

    @post("/password", name="parties.account_password", opt=requires(PartiesPermission.PROFILE_UPDATE))
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[AuthenticationService],
        parties: NamedDependency[PartiesService],
        actor: NamedDependency[Actor],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        try:
            await auth.change_password(
                current_password=data.get("current_password", ""),
                new_password=data.get("new_password", ""),
                actor=actor,
            )
        except DomainError as exc:
            return await self._page(
                request, auth, parties, actor, errors=translated_errors(exc), status_code=UNPROCESSABLE
            )
        return Redirect("/account?done=password", status_code=303)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        auth: AuthenticationService,
        parties: PartiesService,
        actor: Actor,
        *,
        enrolment: TotpEnrolment | None = None,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        user = await auth.me(actor=actor)
        person = await parties.users.person_of(user)
        memberships = await parties.memberships.with_organisations(user.id)
        done = request.query_params.get("done")
        notices = {
            "totp": N_("Two-step sign-in is on. From now on you will be asked for a code when you log in."),
            "password": N_("Your password has been changed. Your other sessions have been logged out."),
        }
        return await page(
            request,
            "parties/account.html",
            {
                "user": user,
                "person": person,
                "memberships": memberships,
                "role_labels": ROLE_LABELS,
                "kind_labels": KIND_LABELS,
                "enrolment": enrolment,
                "errors": errors or [],
                "notice": notices.get(done or ""),
            },
            status_code=status_code,
        )


CONTROLLERS = (AuthPages, RegistrationPages, AccountPages)
# Routes that need no permission (listed in trading.server.routing.PUBLIC_ROUTES).
PUBLIC_PATHS = ("/login", "/logout", "/register")
