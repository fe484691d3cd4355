"""The shell's own pages: the public home page, the dashboard per role, and the language switch.

The menu and the dashboards are data here (the composition root is the one place that knows
every package's pages); :mod:`trading.kernel.web.navigation` decides per actor what is shown: a
link appears only when its page is registered and its guard would let the actor in, so the
dashboards grow as packages ship pages, without editing the templates.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, get
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.permissions import requires
from trading.kernel.auth.roles import Role
from trading.kernel.web import i18n
from trading.kernel.web.i18n import N_
from trading.kernel.web.navigation import ROLE_LABELS, Audience, Link, Navigation, NavItem, Panel, RoleDashboard
from trading.kernel.web.pages import page
from trading.parties.policies import PartiesPermission
from trading.server.workdays import service as workdays
from trading.server.workdays.policies import CalendarPermission

LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600

# --- what the shell links to ---------------------------------------------------------------------
# Paths of pages other packages serve. A path that is not registered yet simply does not show.
LOGIN, REGISTER, ACCOUNT, LEDGER = "/login", "/register", "/account", "/ledger"
MARKET_REGULATOR = "/market/regulator"
WORKING_DAY_CALENDAR = "/admin/calendar"

_ACCOUNT_PANEL = Panel(
    N_("Account and security"),
    N_("Your profile, your organisation, your password and two-step sign-in."),
    (Link(N_("Account settings"), "parties.account"),),
)

_LEDGER_PANEL = Panel(
    N_("Audit ledger"),
    N_("Browse and verify the hash-chained record of every action on the platform."),
    (Link(N_("Audit ledger"), "ledger.entry_list"),),
)

_TENDERS_PANEL = Panel(
    N_("Tenders"),
    N_("Browse published tenders and download their documents."),
    (Link(N_("Open tenders"), "bidding.tenders"),),
)

_CREDIT_PANEL = Panel(
    N_("Credit records"),
    N_("Import the penalties and serious violations that screen registrations and draws."),
    (Link(N_("Credit records"), "credit.import_form"),),
)

_INTEGRITY_PANEL = Panel(
    N_("Integrity alerts"),
    N_("Collusion screens over bids, documents, expert scoring and the market: review each alert, tune the rules."),
    (Link(N_("Integrity alerts"), "integrity.alerts"), Link(N_("Integrity rules"), "integrity.rules")),
)

_PROCUREMENT_PANEL = Panel(
    N_("Government procurement"),
    N_("Publish procurement intentions 30 days ahead, keep yearly plans, and turn projects into tenders."),
    (
        Link(N_("Procurement projects"), "procurement.projects"),
        Link(N_("Procurement plans"), "procurement.plans"),
        Link(N_("Publish a procurement intention"), "procurement.intention_new"),
    ),
)
_PROCUREMENT_OFFICE_PANEL = Panel(
    N_("Government procurement"),
    N_("The intentions calendar and the procurement notices."),
    (Link(N_("Intentions calendar"), "procurement.calendar"), Link(N_("Procurement notices"), "procurement.notices")),
)

_INBOX = Link(N_("Notices"), "notifications.inbox")
_TENDER_MANAGEMENT = Link(N_("Tender management"), "bidding.manage")

NAVIGATION = Navigation(
    items=(
        NavItem(N_("Home"), "/", Audience.EVERYONE),
        NavItem(N_("Dashboard"), "/dashboard"),
        NavItem(N_("Tender announcements"), "/bidding/tenders", Audience.EVERYONE),
        NavItem(N_("My bids"), "/bidding/bids", roles=frozenset({Role.BIDDER})),
        NavItem(N_("Clarification requests"), "/evaluation/clarifications", roles=frozenset({Role.BIDDER})),
        NavItem(N_("Tender management"), "/bidding/manage", roles=frozenset({Role.TENDEREE, Role.AGENCY})),
        NavItem(
            N_("Agency mandates"),
            "/organisation/mandates",
            roles=frozenset({Role.TENDEREE, Role.AGENCY, Role.ADMIN, Role.SUPERVISOR}),
        ),
        NavItem(N_("Intermediary marketplace"), "/market", Audience.EVERYONE),
        NavItem(N_("Procurement intentions"), "/procurement/intentions", Audience.EVERYONE),
        NavItem(N_("Owner workspace"), "/market/owner", roles=frozenset({Role.TENDEREE})),
        NavItem(N_("Intermediary workspace"), "/market/intermediary", roles=frozenset({Role.INTERMEDIARY})),
        NavItem(N_("Marketplace supervision"), MARKET_REGULATOR, roles=frozenset({Role.SUPERVISOR})),
        NavItem(N_("Tender complaints"), "/bidding/supervision/complaints", roles=frozenset({Role.SUPERVISOR})),
        NavItem(N_("Marketplace administration"), "/market/centre", roles=frozenset({Role.ADMIN})),
        NavItem(N_("Credit records"), "/credit/imports", roles=frozenset({Role.SUPERVISOR, Role.ADMIN})),
        NavItem(N_("Expert pool"), "/evaluation/experts", roles=frozenset({Role.SUPERVISOR, Role.ADMIN})),
        NavItem(N_("My expert profile"), "/evaluation/profile", roles=frozenset({Role.EXPERT})),
        NavItem(N_("My evaluations"), "/evaluation/workspaces", roles=frozenset({Role.TENDEREE})),
        NavItem(N_("My evaluations"), "/evaluation/my", roles=frozenset({Role.EXPERT})),
        NavItem(N_("Committee draws"), "/evaluation/draws", roles=frozenset({Role.SUPERVISOR, Role.ADMIN})),
        NavItem(N_("Evaluation reports"), "/evaluation/reports", roles=frozenset({Role.EXPERT})),
        NavItem(
            N_("Evaluation sessions"),
            "/evaluation/sessions",
            roles=frozenset({Role.EXPERT, Role.AGENCY, Role.TENDEREE, Role.SUPERVISOR, Role.ADMIN}),
        ),
        NavItem(N_("Evaluation venues"), "/evaluation/venues", roles=frozenset({Role.SUPERVISOR, Role.ADMIN})),
        NavItem(N_("Working-day calendar"), WORKING_DAY_CALENDAR, roles=frozenset({Role.ADMIN})),
        NavItem(N_("Negative-list rules"), "/procurement/rules", roles=frozenset({Role.SUPERVISOR, Role.TENDEREE})),
        NavItem(N_("Integrity alerts"), "/integrity/alerts", roles=frozenset({Role.SUPERVISOR, Role.ADMIN})),
        NavItem(N_("Audit ledger"), LEDGER),
        NavItem(N_("Account"), ACCOUNT),
        NavItem(N_("Log in"), LOGIN, Audience.ANONYMOUS),
        NavItem(N_("Register"), REGISTER, Audience.ANONYMOUS),
    ),
    common_panels=(_ACCOUNT_PANEL,),
    # Every link names a page that exists: a panel whose links the actor cannot follow is not shown.
    # Work the platform does not offer yet is described in the text, never as a link to nowhere.
    dashboards=(
        RoleDashboard(
            Role.BIDDER,
            N_("Bidder dashboard"),
            N_("Find tenders, prepare and submit your bids, and follow every project you take part in."),
            (
                _TENDERS_PANEL,
                Panel(
                    N_("My bids"),
                    N_("Seal and submit bids, keep the signed receipts, and decrypt your bid at the opening."),
                    (Link(N_("My bids"), "bidding.my_bids"),),
                ),
                Panel(
                    N_("My guarantees"),
                    N_(
                        "Apply to a guarantor of your choice for an electronic bid guarantee; "
                        "put its number in your bid."
                    ),
                    (Link(N_("My guarantees"), "guarantees.mine"),),
                ),
                Panel(
                    N_("Government procurement suppliers"),
                    N_("Register your organisation in the supplier library and keep your qualifications up to date."),
                    (Link(N_("Supplier registration"), "procurement.my_supplier"),),
                ),
                Panel(
                    N_("Objections and notices"),
                    N_("Raise objections and read the notices sent to you."),
                    (
                        _INBOX,
                        Link(N_("Clarification requests"), "evaluation.my_clarifications"),
                        Link(N_("My notices"), "award.my_notices"),
                    ),
                ),
            ),
        ),
        RoleDashboard(
            Role.TENDEREE,
            N_("Tenderee dashboard"),
            N_("Prepare requirements, publish tenders, and follow them through to the contract."),
            (
                Panel(
                    N_("Projects"),
                    N_("Create tenders, publish their notices and clarifications, and host their openings."),
                    (Link(N_("New tender"), "bidding.manage_new"), _TENDER_MANAGEMENT),
                ),
                Panel(
                    N_("Bid securities"),
                    N_("The guarantees given for your tenders after the deadline; claim on one when the law allows."),
                    (Link(N_("Bid securities"), "guarantees.securities"),),
                ),
                Panel(
                    N_("Agency mandates"),
                    N_("Mandate a tendering agency to run your tenders, or revoke its mandate."),
                    (Link(N_("Agency mandates"), "parties.mandates"),),
                ),
                Panel(
                    N_("Intermediary marketplace"),
                    N_("Publish selection announcements and choose an intermediary."),
                    (Link(N_("Owner workspace"), "intermediary_market.owner"),),
                ),
                Panel(
                    N_("Procurement requirements"),
                    N_(
                        "Write requirements from the templates, fix what the negative-list check finds, "
                        "and review your unit's requirements."
                    ),
                    (
                        Link(N_("My procurement requirements"), "procurement.requirements"),
                        Link(N_("Review queue"), "procurement.requirement_reviews"),
                    ),
                ),
                Panel(
                    N_("Procurement libraries"),
                    N_("Purchasers, suppliers and the government procurement item catalogue."),
                    (
                        Link(N_("Supplier library"), "procurement.suppliers"),
                        Link(N_("Item catalogue"), "procurement.catalogue"),
                        Link(N_("Purchaser library"), "procurement.purchasers"),
                    ),
                ),
                Panel(
                    N_("Objections and notices"), N_("Raise objections and read the notices sent to you."), (_INBOX,)
                ),
                _PROCUREMENT_PANEL,
            ),
        ),
        RoleDashboard(
            Role.AGENCY,
            N_("Agency dashboard"),
            N_("Run tenders for your clients, from the documents to the opening."),
            (
                Panel(
                    N_("Commissioned projects"),
                    N_("The projects your clients have commissioned you to run."),
                    (_TENDER_MANAGEMENT, Link(N_("Agency mandates"), "parties.mandates")),
                ),
                Panel(
                    N_("Opening hall"),
                    N_("Host the remote opening: decryption, the price summary and the opening record."),
                    (Link(N_("Tender management"), "bidding.manage", N_("Each tender's page leads to its hall.")),),
                ),
                Panel(
                    N_("Bid securities"),
                    N_("The guarantees given for your tenders after the deadline; claim on one when the law allows."),
                    (Link(N_("Bid securities"), "guarantees.securities"),),
                ),
                Panel(
                    N_("Expert ratings"),
                    N_("Rate each evaluation expert after an evaluation you ran; the ratings feed the pool's rules."),
                    (Link(N_("Rate evaluation experts"), "evaluation.ratings"),),
                ),
                Panel(
                    N_("Objections and notices"), N_("Raise objections and read the notices sent to you."), (_INBOX,)
                ),
            ),
        ),
        RoleDashboard(
            Role.EXPERT,
            N_("Expert dashboard"),
            N_("Answer invitations, declare conflicts of interest and score remotely."),
            (
                Panel(
                    N_("Remote evaluation"),
                    N_(
                        "Confirm or decline when you are drawn, sign in at your seat, read the bids beside your "
                        "scoring sheet, score, submit and sign the evaluation report. Invitations arrive in your inbox."
                    ),
                    (
                        Link(N_("Notices"), "notifications.inbox", N_("Invitations to evaluate will arrive here.")),
                        Link(
                            N_("My evaluations"),
                            "evaluation.my",
                            N_("Read the bids beside your scoring sheet, score and submit."),
                        ),
                        Link(N_("Evaluation reports"), "evaluation.reports"),
                    ),
                ),
                Panel(
                    N_("Expert profile"),
                    N_(
                        "Your specialties, region and employer, the days you cannot evaluate, "
                        "and your conflicts of interest."
                    ),
                    (Link(N_("My expert profile"), "evaluation.profile"),),
                ),
                Panel(
                    N_("Your certificate"),
                    N_("You will sign evaluation reports with your digital certificate; keep your account up to date."),
                    (Link(N_("Account settings"), "parties.account"),),
                ),
                _TENDERS_PANEL,
            ),
        ),
        RoleDashboard(
            Role.INTERMEDIARY,
            N_("Intermediary dashboard"),
            N_("Offer your services in the marketplace and deliver on time."),
            (
                Panel(
                    N_("Marketplace profile"),
                    N_("Keep your qualifications and service areas up to date."),
                    (Link(N_("Intermediary workspace"), "intermediary_market.intermediary"),),
                ),
                Panel(
                    N_("Selection announcements"),
                    N_("Answer purchasers' selection announcements."),
                    (Link(N_("Intermediary marketplace"), "intermediary_market.marketplace"),),
                ),
                Panel(
                    N_("Deliveries"),
                    N_("Deliver within the committed time and record the result."),
                    (Link(N_("Intermediary workspace"), "intermediary_market.intermediary"),),
                ),
                Panel(
                    N_("Objections and notices"), N_("Raise objections and read the notices sent to you."), (_INBOX,)
                ),
            ),
        ),
        RoleDashboard(
            Role.GUARANTOR,
            N_("Guarantor dashboard"),
            N_("Issue electronic guarantees and handle claims and releases."),
            (
                Panel(
                    N_("Electronic guarantees"),
                    N_(
                        "Decide applications, issue guarantees by uploading the signed files, answer claims and "
                        "acknowledge releases; your own system may do the same through the guarantor API."
                    ),
                    (
                        Link(N_("Guarantor console"), "guarantees.console"),
                        Link(N_("Notices"), "notifications.inbox", N_("Applications will arrive here.")),
                    ),
                ),
                Panel(
                    N_("Tenders"),
                    N_("The published tenders bidders may ask you to guarantee, with their deadlines."),
                    (Link(N_("Open tenders"), "bidding.tenders"),),
                ),
            ),
        ),
        RoleDashboard(
            Role.SUPERVISOR,
            N_("Supervisor dashboard"),
            N_("See every trading step read-only, review alerts and handle complaints."),
            (
                _LEDGER_PANEL,
                _TENDERS_PANEL,
                _INTEGRITY_PANEL,
                Panel(
                    N_("Tender complaints"),
                    N_("Complaints about tender results: accept them, suspend the tender and decide."),
                    (Link(N_("Tender complaints"), "award.complaints_queue"),),
                ),
                Panel(
                    N_("Intermediary marketplace"),
                    N_("Overdue deliveries, the credit report, complaints and the blacklist of intermediaries."),
                    (Link(N_("Marketplace supervision"), "intermediary_market.regulator"),),
                ),
                Panel(
                    N_("Procurement requirements"),
                    N_("Justifications of blocking negative-list findings and the reviewers' decisions."),
                    (Link(N_("Justified findings"), "procurement.requirement_supervision"),),
                ),
                Panel(
                    N_("Guarantee supervision"),
                    N_(
                        "Releases the guarantors have not acknowledged, and cash bid bonds not yet refunded "
                        "with the late interest."
                    ),
                    (Link(N_("Guarantee supervision"), "guarantees.supervision"),),
                ),
                _CREDIT_PANEL,
                Panel(
                    N_("Negative-list rules"),
                    N_(
                        "The prohibited items procurement documents are checked against: edit a rule "
                        "(each change a new version), retire one, try one on a text."
                    ),
                    (Link(N_("Negative-list rules"), "procurement.rules"),),
                ),
                Panel(
                    N_("Procurement libraries"),
                    N_("Purchasers, suppliers and the government procurement item catalogue."),
                    (
                        Link(N_("Purchaser library"), "procurement.purchasers"),
                        Link(N_("Supplier library"), "procurement.suppliers"),
                        Link(N_("Item catalogue"), "procurement.catalogue"),
                    ),
                ),
                _PROCUREMENT_OFFICE_PANEL,
            ),
        ),
        RoleDashboard(
            Role.ADMIN,
            N_("Administrator dashboard"),
            N_("Keep the platform's reference data and rules in order."),
            (
                _INTEGRITY_PANEL,
                Panel(
                    N_("Trusted certificate authorities"),
                    N_("Manage the certificate authorities the platform recognises."),
                    (Link(N_("Trust list"), "parties.trust_list"),),
                ),
                Panel(
                    N_("Working-day calendar"),
                    N_("Load each year's public holidays and adjusted working days; check periods in working days."),
                    (Link(N_("Working-day calendar"), "workdays.calendar"),),
                ),
                Panel(
                    N_("Marketplace administration"),
                    N_("Manage the service-item list and record the intermediaries' reviewed qualifications."),
                    (Link(N_("Marketplace administration"), "intermediary_market.centre"),),
                ),
                Panel(
                    N_("Expert pool"),
                    N_("Import evaluation experts, keep the specialty list, suspend, remove or restore experts."),
                    (
                        Link(N_("Expert pool"), "evaluation.pool"),
                        Link(N_("Import experts"), "evaluation.import_form"),
                        Link(N_("Committee draws"), "evaluation.draws"),
                        Link(N_("Evaluation venues"), "evaluation.venues"),
                    ),
                ),
                _CREDIT_PANEL,
                Panel(
                    N_("Guarantors"),
                    N_("Onboard guarantee issuers (banks, insurers, guarantee companies) and their products."),
                    (Link(N_("Guarantors"), "guarantees.admin"),),
                ),
                _LEDGER_PANEL,
            ),
        ),
    ),
)


# --- routes --------------------------------------------------------------------------------------


@get("/", name="shell.home", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template:
    return await page(request, "shell/home.html")


@get("/help/certificate-agent", name="shell.agent_help", include_in_schema=False)
async def agent_help(request: Request[Any, Any, Any]) -> Template:
    """The certificate pickers' help link: how to install and start ``ggzy agent`` (docs/agent.md, in short)."""
    return await page(request, "shell/agent_help.html")


@get("/dashboard", name="shell.dashboard", include_in_schema=False, opt=requires(PartiesPermission.PROFILE_READ))
async def dashboard(request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> Template:
    """Every signed-in user holds ``parties:profile:read``, also one whose roles have lapsed.

    Above the panels, what needs the user's action now: for the calendar's administrators, a year
    whose schedule is missing (`trading.server.workdays.service.missing_years`).
    """
    actor = await current_actor(request)
    missing = await workdays.calendar_gaps(db_session) if actor.has(CalendarPermission.MANAGE) else ()
    return await page(
        request,
        "shell/dashboard.html",
        {
            "roles": [role for role in Role if role in actor.roles],
            "role_labels": ROLE_LABELS,
            "dashboards": NAVIGATION.dashboard_views(actor, request.app),
            "common_panels": NAVIGATION.common_panel_views(actor, request.app),
            "missing_calendar_years": missing,
        },
    )


@get("/locale/{code:str}", name="shell.locale", include_in_schema=False)
async def switch_locale(request: Request[Any, Any, Any], code: FromPath[str]) -> Redirect:
    """Remember the chosen language in a cookie and go back where the user was.

    A plain link (GET) so it works without JavaScript; it only sets a preference, so a forged
    request can do no harm. The target is a same-site path only: never an open redirect.
    """
    locale = i18n.normalize_locale(code)
    if locale is None:
        raise NotFoundException(detail=f"no locale {code!r}")
    settings = request.app.state.settings
    cookie = Cookie(
        key=i18n.LOCALE_COOKIE,
        value=locale,
        path="/",
        max_age=LOCALE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.web.secure_cookies,
    )
    return Redirect(path=_safe_next(request, request.query_params.get("next")), status_code=303, cookies=[cookie])


def _safe_next(request: Request[Any, Any, Any], next_path: str | None) -> str:
    """``next`` if it is a path on this site, else the Referer's path if same-site, else ``/``."""
    if next_path and _is_local_path(next_path):
        return next_path
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        if parts.netloc == request.headers.get("host") and _is_local_path(parts.path):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


def _is_local_path(path: str) -> bool:
    # "//evil.example" and "/\\evil.example" are scheme-relative URLs to browsers.
    if not path.startswith("/") or path.startswith(("//", "/\\")):
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc and not any(ch in path for ch in "\r\n")


ROUTES = (home, agent_help, dashboard, switch_locale)
