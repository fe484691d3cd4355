"""Errors of the parties package, each with its HTTP meaning."""

from __future__ import annotations

from trading.kernel.errors import Conflict, DomainError, NotAuthenticated, NotFound, TooManyRequests, ValidationFailed


class OrganisationNotFound(NotFound):
    code = "organisation_not_found"
    title = "Organisation not found"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "User not found"


class MembershipNotFound(NotFound):
    code = "membership_not_found"
    title = "Membership not found"


class AlreadyRegistered(Conflict):
    """A unique identifier (USCC, username, active membership) is already taken."""

    code = "already_registered"
    title = "Already registered"


class MembershipNotActive(Conflict):
    code = "membership_not_active"
    title = "Membership not active"


class LoginFailed(NotAuthenticated):
    """Wrong username or password. Deliberately does not say which of the two."""

    code = "login_failed"
    title = "Login failed"


class TotpRequired(NotAuthenticated):
    """The password was right and the account has TOTP enabled; send the code too."""

    code = "totp_required"
    title = "TOTP code required"


class TotpInvalid(NotAuthenticated):
    code = "totp_invalid"
    title = "TOTP code invalid"


class TooManyLoginAttempts(TooManyRequests):
    code = "too_many_login_attempts"
    title = "Too many login attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed login attempts; try again in {retry_after} seconds",
            extra={"retry_after": retry_after},
        )
        self.retry_after = retry_after


class CertificateRefused(NotAuthenticated):
    """A certificate or e-licence / e-ID login was refused; ``reason`` names why (a stable code)."""

    code = "certificate_refused"
    title = "Certificate refused"


class CertificateNotAccepted(ValidationFailed):
    """A certificate cannot be bound to the account; ``reason`` names why."""

    code = "certificate_not_accepted"
    title = "Certificate not accepted"


class CertificateAlreadyBound(Conflict):
    code = "certificate_already_bound"
    title = "Certificate already bound"


class BindingNotFound(NotFound):
    code = "certificate_binding_not_found"
    title = "Certificate binding not found"


class TrustListRefused(ValidationFailed):
    """A trust list was not loaded; ``reason`` names the failed check (forged, rolled back, expired …)."""

    code = "trust_list_refused"
    title = "Trust list refused"


class TrustListNotLoaded(NotFound):
    code = "trust_list_not_loaded"
    title = "No trust list loaded"


class TimestampServiceUnavailable(DomainError):
    status_code = 503
    code = "timestamp_service_unavailable"
    title = "Timestamp service unavailable"


class MandateRefused(ValidationFailed):
    """A mandate (委托代理) cannot be granted or revoked as asked; names the field and the rule."""

    code = "mandate_refused"
    title = "Mandate refused"


class MandateNotFound(NotFound):
    code = "mandate_not_found"
    title = "Mandate not found"
