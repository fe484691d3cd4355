"""What the marketplace pages share: labels, refusal messages, form parsing, and the reads the
pages need that no service offers yet.

A refusal is shown next to its field in the page's language: :data:`REFUSAL_MESSAGES` maps each
service rule to a translatable sentence (the service's English text is the fallback for a rule
not listed), and the rule's code stays visible next to it.

Every form handler runs the service call in a savepoint (:func:`in_savepoint`): the request's
transaction commits a 422 response too, so a refusal raised after a flush must leave nothing
half-written.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import sqlalchemy as sa
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.blacklist import BlacklistService
from intermediary_market.delivery import WARNING_BEFORE, DeliveryService
from intermediary_market.models import (
    MONEY_INTEGER_DIGITS,
    Announcement,
    AnnouncementStatus,
    Blacklisting,
    BlacklistStatus,
    Delivery,
    QualificationStatus,
)
from intermediary_market.selection import FundingType, SelectionMethod
from intermediary_market.service import MarketService
from trading.kernel.bounds import check_datetime, check_decimal, check_int, check_text
from trading.kernel.errors import DomainError, ValidationFailed
from trading.kernel.web import i18n
from trading.kernel.web.forms import FieldError
from trading.kernel.web.i18n import N_
from trading.kernel.web.templating import DISPLAY_TZ
from trading.parties.models import Organisation

T = TypeVar("T")
Form = dict[str, str]
UNPROCESSABLE = 422
MARKET = "/market"
OWNER = "/market/owner"
INTERMEDIARY = "/market/intermediary"
REGULATOR = "/market/regulator"
PRACTICE = "/market/intermediaries/practice"

METHOD_LABELS: dict[SelectionMethod, str] = {
    SelectionMethod.DIRECT: N_("Direct selection"),
    SelectionMethod.RANDOM: N_("Random selection (lottery)"),
    SelectionMethod.LOWEST_PRICE: N_("Lowest price"),
    SelectionMethod.REFERENCE_PRICE: N_("Reference price"),
    SelectionMethod.MERIT: N_("Merit (panel review)"),
}
FUNDING_LABELS: dict[FundingType, str] = {
    FundingType.STATE: N_("State-funded"),
    FundingType.SOCIAL: N_("Socially funded"),
}
STATUS_LABELS: dict[AnnouncementStatus, str] = {
    AnnouncementStatus.OPEN: N_("Open for registration"),
    AnnouncementStatus.SELECTED: N_("Selected"),
    AnnouncementStatus.FAILED: N_("Failed"),
}
QUALIFICATION_STATUS_LABELS: dict[QualificationStatus, str] = {
    QualificationStatus.ACTIVE: N_("Valid"),
    QualificationStatus.SUSPENDED: N_("Suspended (expired)"),
    QualificationStatus.REVOKED: N_("Revoked"),
}
BLACKLIST_STATUS_LABELS: dict[BlacklistStatus, str] = {
    BlacklistStatus.NOTICED: N_("Noticed: response period"),
    BlacklistStatus.EFFECTIVE: N_("Listed"),
    BlacklistStatus.WITHDRAWN: N_("Withdrawn"),
    BlacklistStatus.EXPIRED: N_("Expired"),
}
CLOCK_LABELS: dict[str, str] = {
    "running": N_("Running"),
    "warning": N_("Due soon"),
    "overdue": N_("Overdue"),
    "completed": N_("Completed"),
    "completed_late": N_("Completed late"),
}
COMPONENT_LABELS: dict[str, str] = {
    "regulator": N_("Regulator's evaluation (of 70)"),
    "public_credit": N_("Public credit (of 10)"),
    "social": N_("Social evaluation (of 20)"),
    "complaint_deduction": N_("Deduction for upheld complaints"),
    "overdue_deduction": N_("Deduction for overdue deliveries"),
}
FIELD_LABELS: dict[str, str] = {
    "project_name": N_("Project"),
    "item_code": N_("Service item"),
    "method": N_("Selection method"),
    "funding": N_("Funding"),
    "budget": N_("Budget (yuan)"),
    "price_min": N_("Minimum price (yuan)"),
    "price_max": N_("Maximum price (yuan)"),
    "max_level": N_("Lowest accepted qualification level"),
    "time_limit_days": N_("Time limit (days)"),
    "registration_opens": N_("Registration opens"),
    "registration_closes": N_("Registration closes"),
    "direct_organisation_id": N_("Intermediary chosen directly"),
    "price": N_("Price (yuan)"),
    "scores": N_("Panel scores"),
    "contract_no": N_("Contract number"),
    "file": N_("Deliverable file"),
    "sha256": N_("Deliverable file"),
    "quality": N_("Quality"),
    "timeliness": N_("Timeliness"),
    "attitude": N_("Attitude"),
    "fees": N_("Fees"),
    "organisation_id": N_("Intermediary"),
    "announcement_id": N_("Announcement"),
    "reason": N_("Reason"),
    "response_days": N_("Response period (days)"),
    "response": N_("Response"),
    "appeal": N_("Appeal"),
    "months": N_("Listing period (months)"),
    "status": N_("Status"),
    "response_due": N_("Response due"),
    "text": N_("Complaint"),
    "year": N_("Year"),
    "regulator_score": N_("Regulator's evaluation (0–70)"),
    "regulator_source": N_("Source of the evaluation"),
    "public_credit_score": N_("Public-credit result (0–10)"),
    "public_credit_source": N_("Source of the public-credit result"),
    "uphold": N_("Decision"),
    "overturn": N_("Decision"),
}
REFUSAL_MESSAGES: dict[str, str] = {
    # registration
    "organisation": N_("Your account belongs to no organisation."),
    "registration_window_closed": N_("The registration window is not open."),
    "no_qualification": N_("Your organisation holds no qualification for this service item."),
    "qualification_suspended": N_("Your qualification for this item has expired and is suspended until renewed."),
    "qualification_level": N_("The announcement requires a higher qualification level."),
    "blacklisted": N_("Your organisation is on the blacklist and may not register."),
    "duplicate_registration": N_("Your organisation has already registered for this selection."),
    "price_outside_limits": N_("The price lies outside the announced limits."),
    # announcements and the draw
    "required": N_("This field is required."),
    "item_exists": N_("There is no such service item."),
    "in_future": N_("The time must lie in the future."),
    "window_order": N_("The registration window must open before it closes."),
    "positive": N_("The amount must be positive."),
    "price_limits": N_("Price competition needs limits with 0 ≤ minimum ≤ maximum ≤ budget."),
    "direct_allowed": N_("Direct selection is allowed for socially funded projects only."),
    "min": N_("The value is below the minimum."),
    "merit_only": N_("Panel scores belong to an open merit selection."),
    "score_range": N_("The score lies outside its range."),
    "registered": N_("That intermediary has not registered."),
    "already_decided": N_("This has already been decided."),
    "registration_still_open": N_("Registration is still open."),
    "reveal_window_open": N_("Registrants may still reveal their contributions to the draw."),
    "reveal_window": N_("Contributions are revealed after the close, within the reveal window."),
    "contribution_mismatch": N_("This is not the secret whose SHA-256 you registered."),
    "no_contribution": N_("Your organisation committed no contribution to this draw."),
    "contribution_commitment": N_("Enter the SHA-256 of your secret: 64 hexadecimal characters."),
    "time_limit_positive": N_("The time limit is at least one day."),
    "time_limit_within_standard": N_("The time limit may not exceed the service item's standard time limit."),
    # ratings
    "rating_window": N_("Ratings are accepted within 180 days of the result of a decided selection."),
    "rating_range": N_("Each score lies between 0 and 100."),
    "duplicate_rating": N_("This service has already been rated."),
    "rating_needs_completion": N_(
        "Rate after the contract is filed, the results are uploaded and the completion is confirmed."
    ),
    # delivery
    "not_selected": N_("Only a decided selection has a contract."),
    "duplicate_filing": N_("The contract has already been filed."),
    "filing_window": N_("Contracts are filed within 180 days of the result."),
    "contract_filed": N_("No contract has been filed yet."),
    "sha256": N_("The deliverable could not be identified."),
    "completed": N_("The service has already been completed."),
    "deliverable_missing": N_("No deliverable has been uploaded yet."),
    # blacklisting
    "response_period_over": N_("The response period is over."),
    "response_period_running": N_("The response period is still running and there is no response yet."),
    "appeal_effective_only": N_("Only an effective listing can be appealed."),
    "duplicate_appeal": N_("This decision has already been appealed."),
    "appeal_window": N_("Appeals are accepted within 15 days of the decision."),
    "appeal_pending": N_("There is no pending appeal."),
    # complaints and credit inputs
    "complaint_not_owner": N_("Only the announcement's owner may complain about its intermediary."),
    "year_range": N_("The year must be a past or the current year."),
    "intermediary_exists": N_("There is no such intermediary."),
}
BAD_NUMBER = N_("Enter a number.")
BAD_TIME = N_("Enter a date and time.")
BAD_CHOICE = N_("Choose an option from the list.")
CONTEXT_LABELS = {
    "methods": METHOD_LABELS,
    "fundings": FUNDING_LABELS,
    "statuses": STATUS_LABELS,
    "qualification_statuses": QUALIFICATION_STATUS_LABELS,
    "blacklist_statuses": BLACKLIST_STATUS_LABELS,
    "clock_labels": CLOCK_LABELS,
    "component_labels": COMPONENT_LABELS,
    "labels": FIELD_LABELS,
    "display_tz": DISPLAY_TZ,
}


# --- services --------------------------------------------------------------------------------------


async def provide_market(db_session: NamedDependency[AsyncSession]) -> MarketService:
    return MarketService(db_session)


async def provide_deliveries(db_session: NamedDependency[AsyncSession]) -> DeliveryService:
    return DeliveryService(db_session)


async def provide_blacklist(db_session: NamedDependency[AsyncSession]) -> BlacklistService:
    return BlacklistService(db_session)


async def in_savepoint(session: AsyncSession, work: Awaitable[T]) -> T:
    """Await ``work`` in a savepoint: if it raises, whatever it flushed is undone."""
    async with session.begin_nested():
        return await work


# --- refusals ----------------------------------------------------------------------------------------


def client_error(exc: DomainError) -> bool:
    """Errors that belong on the form; 403/404 and server errors go to the error pages."""
    return exc.status_code < 500 and exc.status_code not in {403, 404}  # noqa: PLR2004


def refusal_text(exc: DomainError) -> str:
    """The refusal in the page's language: the rule's message, else the service's own text."""
    message = REFUSAL_MESSAGES.get(exc.rule or "")
    return i18n.gettext(message) if message is not None else i18n.gettext(exc.message)


def errors_of(exc: DomainError) -> list[FieldError]:
    """The refusal as a field error: the translated message with the rule's code after it."""
    label = i18n.gettext(FIELD_LABELS[exc.field]) if exc.field in FIELD_LABELS else None
    text = refusal_text(exc)
    if exc.rule and exc.rule != "format":
        text = f"{text} ({exc.rule})"
    return [FieldError(exc.field, text, label)]


def field_error(name: str, message: str, rule: str = "format") -> ValidationFailed:
    return ValidationFailed(message, field=name, rule=rule)


# --- form fields -------------------------------------------------------------------------------------


def form_decimal(form: Form, name: str, *, required: bool = True) -> Decimal | None:
    raw = form.get(name, "").strip()
    if not raw and not required:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise field_error(name, BAD_NUMBER) from None
    if not value.is_finite():
        raise field_error(name, BAD_NUMBER)
    return check_decimal(name, value, integer_digits=MONEY_INTEGER_DIGITS)


def form_int(form: Form, name: str) -> int:
    try:
        value = int(form.get(name, "").strip())
    except ValueError:
        raise field_error(name, BAD_NUMBER) from None
    return check_int(name, value)


def form_time(form: Form, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(form.get(name, "").strip())
    except ValueError:
        raise field_error(name, BAD_TIME) from None
    # A datetime-local field has no zone: the pages say their times are UTC+08:00.
    return check_datetime(name, value if value.tzinfo else value.replace(tzinfo=DISPLAY_TZ))


def form_uuid(form: Form, name: str, *, required: bool = True) -> uuid.UUID | None:
    raw = form.get(name, "").strip()
    if not raw and not required:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise field_error(name, BAD_CHOICE) from None


def form_text(form: Form, name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise ValidationFailed(N_("This field is required."), field=name, rule="required")
    return check_text(name, value)


def clean(data: Form) -> Form:
    """The submitted fields without the CSRF token (kept to re-fill a refused form)."""
    return {key: value for key, value in data.items() if key != "_csrf_token"}


# --- the delivery clock ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClockView:
    state: str
    """``running``, ``warning``, ``overdue``, ``completed`` or ``completed_late`` (:data:`CLOCK_LABELS`)."""
    remaining: timedelta
    """Until the deadline (negative once past)."""

    @property
    def days(self) -> int:
        return int(self.remaining.total_seconds() // 86400)

    @property
    def hours(self) -> int:
        return int(abs(self.remaining.total_seconds()) % 86400 // 3600)


def clock_view(delivery: Delivery, now: datetime) -> ClockView:
    remaining = delivery.due_at - now
    if delivery.completed_at is not None:
        return ClockView("completed_late" if delivery.overdue else "completed", delivery.due_at - delivery.completed_at)
    if delivery.overdue or now >= delivery.due_at:
        return ClockView("overdue", remaining)
    if delivery.warned_at is not None or now >= delivery.due_at - WARNING_BEFORE:
        return ClockView("warning", remaining)
    return ClockView("running", remaining)


# --- reads no service offers yet -------------------------------------------------------------------


async def organisation_names(session: AsyncSession, ids: Iterable[object]) -> dict[str, str]:
    """``str(id) → name`` of the organisations named in ``ids`` (strings or UUIDs)."""
    wanted = set()
    for value in ids:
        try:
            wanted.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not wanted:
        return {}
    rows = await session.execute(sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted)))
    return {str(row_id): name for row_id, name in rows.all()}


async def organisation(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def selections_won(session: AsyncSession, organisation_id: uuid.UUID, limit: int = 100) -> Sequence[Announcement]:
    rows = await session.scalars(
        sa.select(Announcement)
        .where(
            Announcement.winner_organisation_id == organisation_id,
            Announcement.status == AnnouncementStatus.SELECTED,
        )
        .order_by(Announcement.decided_at.desc(), Announcement.id)
        .limit(limit)
    )
    return rows.all()


async def deliveries_of(session: AsyncSession, organisation_id: uuid.UUID) -> list[tuple[Delivery, Announcement]]:
    """The deliveries assigned to an intermediary, with their announcements, newest first."""
    rows = await session.execute(
        sa.select(Delivery, Announcement)
        .join(Announcement, Announcement.id == Delivery.announcement_id)
        .where(Delivery.organisation_id == organisation_id)
        .order_by(Delivery.filed_at.desc(), Delivery.id)
        .limit(100)
    )
    return [(row[0], row[1]) for row in rows.all()]


async def blacklistings(session: AsyncSession, organisation_id: uuid.UUID | None = None) -> Sequence[Blacklisting]:
    """Blacklistings, newest notice first; only one intermediary's when ``organisation_id`` is given."""
    query = sa.select(Blacklisting).order_by(Blacklisting.noticed_at.desc(), Blacklisting.id).limit(200)
    if organisation_id is not None:
        query = query.where(Blacklisting.organisation_id == organisation_id)
    return (await session.scalars(query)).all()
