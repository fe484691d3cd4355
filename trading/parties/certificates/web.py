"""Pages for certificates: the login page's QR-code and certificate sections, and the trust list.

The login page (``parties/login.html``) loads two fragments with htmx:

* **QR code** (``POST /login/qr``): a QR-login challenge as an inline SVG QR code (segno, no
  CDN), tied to this browser by a secret cookie. The e-licence / e-ID holder app signs it and
  posts to ``/api/v1/auth/qr/responses``; the page polls ``POST /login/qr/poll`` every two seconds
  and, once the answer is verified, receives the session cookie and goes to the dashboard.
* **Digital certificate** (``POST /login/certificate/challenge``): a challenge for the USB-key
  middleware to sign; the signed answer (JSON) is posted to ``POST /login/certificate``, which
  sets the session cookie like the password form.

On ``/account`` a signed-in user binds a certificate with the key in the page
(``static/js/pki/bind.js``): ``POST /account/certificates/challenge`` gives a binding challenge
(JSON: the nonce and the exact bytes to sign), the page signs them with its key holder and posts
the answer the API takes (``POST /api/v1/bindings``) as the form field ``response`` to
``POST /account/certificates``, which binds exactly as the API does; ``…/{id}/unbind`` ends one.

``GET /trust-list`` shows administrators and supervisors the recognised CAs with their status.
All forms carry the CSRF token (htmx sends it from the layout's ``hx-headers``).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from certs.auth.challenge import Challenge
from certs.auth.credentials import qr_payload, qr_svg
from certs.canonical import canonical_json
from certs.trustlist.model import Scope, Status, TrustList
from trading.kernel import clock
from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.ratelimit import throttle
from trading.kernel.web import i18n
from trading.kernel.web.forms import UNPROCESSABLE, FieldError, FormBody, submit
from trading.kernel.web.htmx import HX_REDIRECT
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page
from trading.parties.authentication import AuthenticationService
from trading.parties.certificates.bindings import BindingService
from trading.parties.certificates.challenges import new_browser_secret
from trading.parties.certificates.login import CertificateService, QrState
from trading.parties.certificates.trust import Refusal, parse_stored
from trading.parties.deps import (
    provide_auth_service,
    provide_binding_service,
    provide_certificate_service,
    provide_parties_service,
)
from trading.parties.models import ChallengePurpose, SessionKind, TrustListVersion
from trading.parties.policies import CertificatePermission
from trading.parties.repository import TrustListRepository
from trading.parties.service import PartiesService
from trading.parties.validation import CHINA_STANDARD_TIME
from trading.parties.web import account_page, login_page, safe_next, session_cookie
from trading.parties.web_labels import LABELS

QR_COOKIE = "ggzy_qr"
QR_COOKIE_PATH = "/login/qr"

REASON_LABELS: dict[str, str] = {
    "expired": N_("The certificate has expired."),
    "not-yet-valid": N_("The certificate is not valid yet."),
    "revoked": N_("The certificate has been revoked by its CA."),
    "revocation-unknown": N_("The certificate's revocation status cannot be confirmed, so it is not accepted."),
    "unknown-issuer": N_("The certificate was issued by an unknown CA."),
    "ca-not-recognised": N_("The issuing CA is not on the platform's trust list."),
    "ca-not-recognised-for-usage": N_("The issuing CA is recognised, but not for logging in."),
    "ca-not-recognised-for-region": N_("The issuing CA is not recognised for this region."),
    "ca-withdrawn": N_("The issuing CA has been withdrawn from the trust list."),
    "bad-signature": N_("The signature does not match the certificate."),
    "wrong-key-usage": N_("This certificate may not be used to log in."),
    "invalid-path": N_("The certificate chain is not valid."),
    "unsupported-algorithm": N_("The certificate uses an algorithm the platform does not support."),
    "algorithm-not-accepted": N_("The certificate's algorithm is no longer accepted."),
    "malformed": N_("The answer could not be read. Copy it again, completely."),
    "identity-unmapped": N_("No organisation or person can be read from the certificate."),
    "challenge-unknown": N_("This challenge is unknown. Get a new one."),
    "challenge-expired": N_("The challenge has expired. Get a new one."),
    "challenge-reused": N_("This challenge has already been answered. Get a new one."),
    "challenge-wrong-origin": N_("The challenge was signed for another website."),
    "credential-invalid": N_("The electronic credential is not valid."),
    "credential-expired": N_("The electronic credential has expired."),
    "trust-list-expired": N_("The platform's trust list has expired; no certificate is accepted until it is renewed."),
    "trust-list-missing": N_("The platform has no trust list yet; no certificate is accepted."),
    "party-not-registered": N_("The organisation or person the certificate names has no account here."),
    "party-ambiguous": N_(
        "Several accounts belong to this organisation. Log in with a password and bind the certificate to yours."
    ),
}
REFUSED_OTHER = N_("The certificate was refused.")
STATUS_LABELS: dict[str, str] = {
    Status.GRANTED: N_("Recognised"),
    Status.SUSPENDED: N_("Suspended"),
    Status.WITHDRAWN: N_("Withdrawn"),
}
USAGE_LABELS: dict[str, str] = {
    "login": N_("Login"),
    "bid-signature": N_("Bid signatures"),
    "bid-encryption": N_("Sealed bids"),
    "seal": N_("Electronic seals"),
    "timestamp": N_("Timestamps"),
    "guarantee": N_("Guarantees"),
    "e-licence": N_("Electronic business licences"),
    "e-id": N_("Electronic ID cards"),
}
NOT_LISTED = N_("Not listed yet")
OURS = N_("Our list")


@dataclass
class QrPollForm:
    nonce: str = ""
    next: str = ""


@dataclass
class CertificateAnswerForm:
    response: str = ""
    next: str = ""


@dataclass
class BindingAnswerForm:
    response: str = ""
    """The signed binding challenge as the API's ``POST /api/v1/bindings`` takes it (JSON)."""


@dataclass(frozen=True)
class BindingChallengeJson:
    """A binding challenge for the page's script: the nonce and the exact bytes to sign (base64)."""

    nonce: str
    toSign: str  # noqa: N815 - the JSON name the script reads
    expiresAt: datetime  # noqa: N815


def reason_text(reason: str) -> str:
    """A refusal reason in the page's language (the code stays visible next to it)."""
    return i18n.gettext(REASON_LABELS.get(reason, REFUSED_OTHER))


def _qr_cookie(state: State, value: str, *, max_age: int) -> Cookie:
    return Cookie(
        key=QR_COOKIE,
        value=value,
        path=QR_COOKIE_PATH,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=state.settings.web.secure_cookies,
    )


async def _challenge_fragment(
    request: Request[Any, Any, Any], template: str, challenge: Challenge, **context: Any
) -> Response[Any]:
    """A challenge to answer, shown once: kept out of every cache."""
    response = await page(
        request,
        template,
        {
            "expires_at": challenge.expires_at.astimezone(CHINA_STANDARD_TIME),
            "next": request.query_params.get("next", ""),
            **context,
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


class CertificateLoginPages(Controller):
    """The certificate and QR sections of the login page (public: they log people in)."""

    include_in_schema = False
    dependencies = {"certificates": Provide(provide_certificate_service)}

    @post("/login/qr", name="auth.qr_start", guards=[throttle("certificate_login")])
    async def qr_start(
        self, request: Request[Any, Any, Any], certificates: NamedDependency[CertificateService], state: State
    ) -> Response[Any]:
        actor = await current_actor(request)
        secret = new_browser_secret()
        challenge = await certificates.issue_challenge(
            ChallengePurpose.QR_LOGIN, actor=actor, origin=request.headers.get("origin"), browser_secret=secret
        )
        payload = qr_payload(challenge)
        response = await _challenge_fragment(
            request, "parties/_qr_login.html", challenge, nonce=challenge.nonce, payload=payload, svg=qr_svg(payload)
        )
        ttl = int((challenge.expires_at - challenge.issued_at).total_seconds()) + 60
        response.cookies.append(_qr_cookie(state, secret, max_age=ttl))
        return response

    @post("/login/qr/poll", name="auth.qr_poll")
    async def qr_poll(
        self,
        request: Request[Any, Any, Any],
        certificates: NamedDependency[CertificateService],
        state: State,
        data: FormBody[QrPollForm],
    ) -> Response[Any]:
        actor = await current_actor(request)
        secret = request.cookies.get(QR_COOKIE, "")
        nonce = data.nonce
        result = await certificates.poll_qr(nonce, secret, actor=actor) if secret and nonce else None
        state_name = result.state if result is not None else QrState.UNKNOWN
        if result is not None and result.state is QrState.DONE and result.token is not None:
            target = safe_next(data.next)
            return Response(
                content="",
                status_code=200,
                headers={HX_REDIRECT: target, "Cache-Control": "no-store"},
                cookies=[session_cookie(state, result.token), _qr_cookie(state, "", max_age=0)],
            )
        refusal = result.refusal if result is not None else None
        return await page(
            request,
            "parties/_qr_status.html",
            {
                "state": state_name.value,
                "nonce": nonce,
                "next": data.next,
                "reason": refusal,
                "reason_text": reason_text(refusal) if refusal else "",
            },
        )

    @post("/login/certificate/challenge", name="auth.certificate_challenge", guards=[throttle("certificate_login")])
    async def certificate_challenge(
        self, request: Request[Any, Any, Any], certificates: NamedDependency[CertificateService]
    ) -> Response[Any]:
        actor = await current_actor(request)
        challenge = await certificates.issue_challenge(
            ChallengePurpose.LOGIN, actor=actor, origin=request.headers.get("origin")
        )
        return await _challenge_fragment(
            request,
            "parties/_certificate_challenge.html",
            challenge,
            challenge_json=canonical_json(challenge.to_dict()).decode(),
        )

    @post("/login/certificate", name="auth.certificate_submit", guards=[throttle("certificate_login")])
    async def certificate_submit(
        self,
        request: Request[Any, Any, Any],
        certificates: NamedDependency[CertificateService],
        state: State,
        data: FormBody[CertificateAnswerForm],
    ) -> Response[Any]:
        actor = await current_actor(request)
        try:
            payload = json.loads(data.response)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return await self._again(request, data, Refusal("malformed", "the answer is not a JSON object"))
        result = await certificates.login(payload, kind=SessionKind.WEB, actor=actor)
        if result.refusal is not None:
            # Re-rendered, not raised: the refusal's ledger entry must be committed.
            return await self._again(request, data, result.refusal)
        assert result.token is not None  # noqa: S101 - success carries the token
        return Redirect(safe_next(data.next), status_code=303, cookies=[session_cookie(state, result.token)])

    @staticmethod
    async def _again(request: Request[Any, Any, Any], data: CertificateAnswerForm, refusal: Refusal) -> Response[Any]:
        message = f"{reason_text(refusal.reason)} ({refusal.reason})"
        return await login_page(request, data.next, errors=[FieldError(None, message)], status_code=UNPROCESSABLE)


@dataclass(frozen=True)
class ServiceRow:
    provider: str
    region: str
    name: str
    kind: str
    status: str
    since: datetime | None
    usages: list[str]
    regions: list[str]
    source: str
    sha256: str


def _rows(trust_list: TrustList, now: datetime, *, source: str, grant: Scope | None = None,
          equivalence: dict[str, str] | None = None) -> list[ServiceRow]:  # fmt: skip
    rows = []
    for provider, service in trust_list.services():
        kind = service.type.value
        scope = service.scope
        if equivalence is not None:
            if kind not in equivalence:
                continue
            kind = equivalence[kind]
        if grant is not None:
            scope = scope.intersect(grant)
        status = service.status_at(now)
        rows.append(
            ServiceRow(
                provider=provider.name,
                region=provider.region,
                name=service.name,
                kind=kind.rsplit(":", 1)[-1],
                status=status.status.value if status else "",
                since=status.starting.astimezone(CHINA_STANDARD_TIME) if status else None,
                usages=sorted(usage.value for usage in scope.usages),
                regions=sorted(scope.regions),
                source=source,
                sha256=service.sha256,
            )
        )
    return rows


class TrustListPages(Controller):
    include_in_schema = False

    @get("/trust-list", name="parties.trust_list", opt=requires(CertificatePermission.TRUST_LIST_READ))
    async def trust_list(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        repository = TrustListRepository(db_session)
        now = await clock.now(db_session)
        own = await repository.latest_own()
        rows: list[ServiceRow] = []
        pointers: list[dict[str, Any]] = []
        own_list = parse_stored(own) if own is not None else None
        peers: dict[str, TrustListVersion] = {peer.peer_name or "": peer for peer in await repository.latest_peers()}
        if own_list is not None:
            rows += _rows(own_list, now, source="")
            for pointer in own_list.pointers:
                status = pointer.status_at(now)
                peer = peers.get(pointer.name)
                pointers.append(
                    {
                        "name": pointer.name,
                        "status": status.status.value if status else "",
                        "usages": sorted(usage.value for usage in pointer.scope.usages),
                        "version": peer,
                    }
                )
                if peer is not None and status is not None and status.status is Status.GRANTED:
                    equivalence = {key: value.value for key, value in pointer.equivalence.items()}
                    rows += _rows(
                        parse_stored(peer), now, source=pointer.name, grant=pointer.scope, equivalence=equivalence
                    )
        return await page(
            request,
            "parties/trust_list.html",
            {
                "own": own,
                "own_list": own_list,
                "expired": own is not None and now >= own.next_update,
                "rows": rows,
                "pointers": pointers,
                "versions": await repository.history(limit=50),
                "status_labels": STATUS_LABELS,
                "usage_labels": USAGE_LABELS,
                "not_listed": NOT_LISTED,
                "ours": OURS,
                "display_tz": CHINA_STANDARD_TIME,
            },
        )


class AccountCertificatePages(Controller):
    """Certificate bindings on ``/account``: the challenge, the signed answer, unbinding."""

    path = "/account/certificates"
    include_in_schema = False
    dependencies = {
        "auth": Provide(provide_auth_service),
        "parties": Provide(provide_parties_service),
        "bindings": Provide(provide_binding_service),
    }

    @post(
        "/challenge",
        name="parties.account_binding_challenge",
        opt=requires(CertificatePermission.CERTIFICATE_BIND),
        guards=[throttle("certificate_login")],
    )
    async def challenge(
        self, request: Request[Any, Any, Any], bindings: NamedDependency[BindingService], actor: NamedDependency[Actor]
    ) -> Response[BindingChallengeJson]:
        """A one-time binding challenge of this account, bound to the page's origin."""
        challenge = await bindings.issue_challenge(
            ChallengePurpose.BIND, actor=actor, origin=request.headers.get("origin")
        )
        body = BindingChallengeJson(
            nonce=challenge.nonce,
            toSign=base64.b64encode(challenge.to_sign()).decode(),
            expiresAt=challenge.expires_at,
        )
        return Response(body, status_code=200, headers={"Cache-Control": "no-store"})

    @post("/", name="parties.account_bind", opt=requires(CertificatePermission.CERTIFICATE_BIND))
    async def bind(
        self,
        request: Request[Any, Any, Any],
        *,
        auth: NamedDependency[AuthenticationService],
        parties: NamedDependency[PartiesService],
        bindings: NamedDependency[BindingService],
        actor: NamedDependency[Actor],
        data: FormBody[BindingAnswerForm],
    ) -> Response[Any]:
        """Bind the certificate that signed the challenge, exactly as ``POST /api/v1/bindings`` does."""
        try:
            payload = json.loads(data.response)
        except (ValueError, RecursionError):  # RecursionError: nested too deep to be an answer
            payload = None
        if not isinstance(payload, dict):
            refusal = Refusal("malformed", "the answer is not a JSON object")
        else:
            outcome = await bindings.bind(payload, actor=actor)
            if outcome.refusal is None:
                return Redirect(request.app.route_reverse("parties.account") + "?done=bound", status_code=303)
            refusal = outcome.refusal
        # Shown again, not raised: the refusal's ledger entry and the used-up challenge must commit.
        message = f"{binding_reason_text(refusal.reason)} ({refusal.reason})"
        return await account_page(request, auth, parties, bindings, actor, errors=[FieldError("response", message)])

    @post(
        "/{binding_id:uuid}/unbind",
        name="parties.account_unbind",
        opt=requires(CertificatePermission.CERTIFICATE_BIND),
    )
    async def unbind(
        self,
        request: Request[Any, Any, Any],
        *,
        binding_id: FromPath[uuid.UUID],
        auth: NamedDependency[AuthenticationService],
        parties: NamedDependency[PartiesService],
        bindings: NamedDependency[BindingService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """End one of this account's bindings (it stays listed as history)."""
        return await submit(
            db_session,
            lambda: bindings.unbind(binding_id, actor=actor),
            redirect=request.app.route_reverse("parties.account") + "?done=unbound",
            refusal=lambda errors: account_page(request, auth, parties, bindings, actor, errors=errors),
            labels=LABELS,
        )


BINDING_REASON_LABELS: dict[str, str] = {
    "already-bound": N_("This certificate is already bound to an account."),
    "party-mismatch": N_("The certificate names another organisation or person than yours."),
}


def binding_reason_text(reason: str) -> str:
    """A binding refusal in the page's language."""
    if reason in BINDING_REASON_LABELS:
        return i18n.gettext(BINDING_REASON_LABELS[reason])
    return reason_text(reason)


CONTROLLERS = (CertificateLoginPages, TrustListPages, AccountCertificatePages)
PUBLIC_PATHS = ("/login/qr", "/login/qr/poll", "/login/certificate/challenge", "/login/certificate")
