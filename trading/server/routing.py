"""Every route the platform serves, and the explicit list of routes that need no permission."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Router
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from bidding.api import bids as bidding_api
from bidding.api import tenders as tender_api
from bidding.award import api as award_api
from bidding.award import api_complaints as award_complaints_api
from bidding.award import api_contract as award_contract_api
from bidding.award import api_decisions as award_decisions_api
from bidding.award import api_gp as award_api_gp
from bidding.award import api_notices as award_notices_api
from bidding.award import api_securities as award_securities_api
from bidding.award import web as award_web
from bidding.award import web_archive as award_archive_web
from bidding.award import web_complaints as award_complaints_web
from bidding.award import web_contract as award_contract_web
from bidding.award import web_decisions as award_decisions_web
from bidding.award import web_gp as award_web_gp
from bidding.award import web_notices as award_notices_web
from bidding.award import web_pagesign as award_pagesign_web
from bidding.evaluation.clarifications import api as clarifications_api
from bidding.evaluation.clarifications import web as clarifications_web
from bidding.evaluation.committee import api as committee_api
from bidding.evaluation.committee import web as committee_web
from bidding.evaluation.pool import api as pool_api
from bidding.evaluation.pool import web as pool_web
from bidding.evaluation.report import api as report_api
from bidding.evaluation.report import web as report_web
from bidding.evaluation.report import web_pagesign as report_web_pagesign
from bidding.evaluation.requirementset import web as requirementset_web
from bidding.evaluation.scoring import api as scoring_api
from bidding.evaluation.scoring import web as scoring_web
from bidding.evaluation.session import web as session_web
from bidding.evaluation.venues import api as venues_api
from bidding.evaluation.venues import web as venues_web
from bidding.integrity import api as integrity_api
from bidding.integrity import web as integrity_web
from bidding.opening import api as opening_api
from bidding.opening import live as opening_live
from bidding.opening import web as opening_web
from bidding.web import routes as bidding_web
from intermediary_market.api import routes as market_api
from intermediary_market.web import routes as market_web
from procurement.libraries import api as procurement_libraries_api
from procurement.libraries import web as procurement_libraries_web
from procurement.projects import api as procurement_projects_api
from procurement.projects import web as procurement_projects_web
from procurement.requirements import api as requirements_api
from procurement.requirements import web as requirements_web
from procurement.rule_catalogue import api as rule_catalogue_api
from procurement.rule_catalogue import web as rule_catalogue_web
from trading.credit import api as credit_api
from trading.credit import web as credit_web
from trading.guarantees import admin as guarantees_admin
from trading.guarantees import api_bidder as guarantees_api_bidder
from trading.guarantees import api_guarantor as guarantees_api
from trading.guarantees import public as guarantees_public
from trading.guarantees import web_beneficiary as guarantees_beneficiary
from trading.guarantees import web_bidder as guarantees_bidder
from trading.guarantees import web_guarantor as guarantees_console
from trading.guarantees import web_supervisor as guarantees_supervision
from trading.kernel.auth.guards import make_permission_guard
from trading.kernel.web.pages import add_context_hook
from trading.kernel.web.templating import STATIC_DIR, build_environment
from trading.ledger import api as ledger_api
from trading.ledger import web as ledger_web
from trading.ledger.api import LedgerApiController, LedgerCheckpointApiController
from trading.ledger.web import LedgerPages
from trading.notifications import api as notifications_api
from trading.notifications import web as notifications_web
from trading.parties import api as parties_api
from trading.parties import api_mandates as mandates_api
from trading.parties import web as parties_web
from trading.parties import web_mandates as mandates_web
from trading.parties.certificates import api as certificate_api
from trading.parties.certificates import web as certificate_web
from trading.server import shell, system
from trading.server.evaluation_scoring import provide_scoring
from trading.server.workdays import web as workdays_web

if TYPE_CHECKING:
    from litestar.types import ControllerRouterHandler

    from trading.kernel.settings import Settings

# Routes anyone may call without logging in. Everything else declares a permission
# (`opt=requires(...)`); the global guard refuses a route that does neither, and
# tests/trading/server/test_route_guards.py walks every route to prove it.
# Entries are route path formats as the guard sees them in `scope["path_template"]`: Litestar's
# `route.path_format`, with parameter types stripped ("/locale/{code}", not "/locale/{code:str}").
PUBLIC_ROUTES: frozenset[str] = frozenset(
    {
        "/healthz",
        "/metrics",  # no session, but only allowed networks or the metrics token (system.metrics)
        "/static/{file_path}",
        # OpenAPI document and its viewer: the API's shape is public, its data is not.
        "/api/v1/docs",
        "/api/v1/docs/{path}",
        "/api/v1/docs/openapi.json",
        "/api/v1/docs/swagger",
        "/api/v1/docs/oauth2-redirect.html",
        # The web shell: the home page, and the language switch (it only sets a preference cookie).
        "/",
        "/locale/{code}",
        # How to install and start the local certificate agent (linked from every certificate picker).
        "/help/certificate-agent",
        # Parties: signing in and up. Logout is public too: it only ends the caller's own
        # session (and CSRF still applies to it).
        "/login",
        "/logout",
        "/register",
        "/api/v1/auth/tokens",
        "/api/v1/parties/registrations",
        # Certificates: logging in with a certificate or the e-licence / e-ID holder app, the trust
        # list in force (published, signed), and the platform's RFC 3161 time-stamping service.
        *certificate_web.PUBLIC_PATHS,
        *certificate_api.PUBLIC_PATHS,
        # Bidding: published tenders (list, detail with server time), the receipt signer's chain.
        *tender_api.PUBLIC_PATHS,
        *bidding_api.PUBLIC_PATHS,
        # The opening hall's state (masked for visitors).
        *opening_api.PUBLIC_PATHS,
        *opening_live.PUBLIC_PATHS,
        *opening_web.PUBLIC_PATHS,
        *bidding_web.PUBLIC_PATHS,
        # The intermediary marketplace: the item list, practice pages, announcements and results.
        *market_api.PUBLIC_PATHS,
        *market_web.PUBLIC_PATHS,
        # The ledger's published checkpoint (page and signed JSON): outsiders keep copies of it.
        *ledger_api.PUBLIC_PATHS,
        *ledger_web.PUBLIC_PATHS,
        # Credit records in force of an organisation (信用信息公示).
        *credit_web.PUBLIC_PATHS,
        *guarantees_public.PUBLIC_PATHS,  # verifying a guarantee by its code (rate-limited)
        *guarantees_api.PUBLIC_PATHS,  # the guarantor API: its RFC 9421 signature is the credential
        # The evaluation's report and result: the service answers members before publication, all after.
        *report_api.PUBLIC_PATHS,
        *report_web.PUBLIC_PATHS,
        # The tender's published requirement set (download, SHA-256, the response's schema).
        *requirementset_web.PUBLIC_PATHS,
        *requirementset_web.API_PUBLIC_PATHS,
        # The candidates' publicity of a tender (what the tenderee published, signed).
        *award_web.PUBLIC_PATHS,
        # The closed tender's electronic archive (download, verified offline).
        *award_archive_web.PUBLIC_PATHS,
        *award_web_gp.PUBLIC_PATHS,
        *award_api_gp.PUBLIC_PATHS,
        *award_decisions_api.PUBLIC_PATHS,
        *award_decisions_web.PUBLIC_PATHS,
        *award_contract_web.PUBLIC_PATHS,
        *award_contract_api.PUBLIC_PATHS,
        *procurement_projects_api.PUBLIC_PATHS,
        *procurement_projects_web.PUBLIC_PATHS,
        *integrity_web.PUBLIC_PATHS,  # ECharts and the chart script (no data)
    }
)

# Packages whose `templates/` folder joins the Jinja environment.
TEMPLATE_PACKAGES: tuple[str, ...] = (
    "trading.parties",
    "trading.ledger",
    "trading.notifications",
    "trading.credit",
    "trading.guarantees",
    "bidding",
    "bidding.award",
    "bidding.evaluation.pool",
    "bidding.evaluation.clarifications",
    "bidding.evaluation.scoring",
    "bidding.evaluation.requirementset",
    "bidding.evaluation.committee",
    "bidding.evaluation.report",
    "bidding.evaluation.session",
    "bidding.evaluation.venues",
    "intermediary_market",
    "procurement",
    "trading.server.workdays",
)


def route_handlers(api_prefix: str) -> list[ControllerRouterHandler]:
    api = Router(
        path=api_prefix,
        route_handlers=[
            *parties_api.CONTROLLERS,
            *mandates_api.CONTROLLERS,
            *certificate_api.CONTROLLERS,
            LedgerApiController,
            LedgerCheckpointApiController,
            *tender_api.CONTROLLERS,
            *bidding_api.CONTROLLERS,
            *opening_api.CONTROLLERS,
            *award_api.CONTROLLERS,
            *award_api_gp.CONTROLLERS,
            *award_complaints_api.CONTROLLERS,
            *award_decisions_api.CONTROLLERS,
            *award_notices_api.CONTROLLERS,
            *award_contract_api.CONTROLLERS,
            *award_securities_api.CONTROLLERS,
            *pool_api.CONTROLLERS,
            *clarifications_api.CONTROLLERS,
            *scoring_api.CONTROLLERS,
            *committee_api.CONTROLLERS,
            *report_api.CONTROLLERS,
            *requirementset_web.API_CONTROLLERS,
            *venues_api.CONTROLLERS,
            opening_live.HallEventsApi,
            *market_api.CONTROLLERS,
            *notifications_api.CONTROLLERS,
            *credit_api.CONTROLLERS,
            *guarantees_public.API_CONTROLLERS,
            *guarantees_api_bidder.CONTROLLERS,
            *guarantees_api.CONTROLLERS,
            *rule_catalogue_api.CONTROLLERS,
            *requirements_api.CONTROLLERS,
            *procurement_libraries_api.CONTROLLERS,
            *procurement_projects_api.CONTROLLERS,
            *integrity_api.CONTROLLERS,
        ],
    )
    # Pages, static files and operational endpoints are not the API: they stay out of its document.
    outside_api = Router(
        path="/",
        include_in_schema=False,
        route_handlers=[
            system.healthz,
            system.metrics,
            *shell.ROUTES,
            *parties_web.CONTROLLERS,
            *mandates_web.CONTROLLERS,
            *certificate_web.CONTROLLERS,
            LedgerPages,
            *bidding_web.CONTROLLERS,
            *award_web.CONTROLLERS,
            *award_archive_web.CONTROLLERS,
            *award_web_gp.CONTROLLERS,
            *award_complaints_web.CONTROLLERS,
            *award_decisions_web.CONTROLLERS,
            *award_contract_web.CONTROLLERS,
            *award_notices_web.CONTROLLERS,
            *award_pagesign_web.CONTROLLERS,
            opening_web.OpeningPages,
            *pool_web.CONTROLLERS,
            *clarifications_web.CONTROLLERS,
            Router(
                path="/",
                route_handlers=[*scoring_web.CONTROLLERS],
                dependencies={"scoring": Provide(provide_scoring)},
            ),
            *committee_web.CONTROLLERS,
            *requirementset_web.CONTROLLERS,
            *report_web.CONTROLLERS,
            *report_web_pagesign.CONTROLLERS,
            *venues_web.CONTROLLERS,
            *session_web.CONTROLLERS,
            opening_live.HallEvents,
            *market_web.CONTROLLERS,
            *notifications_web.CONTROLLERS,
            *credit_web.CONTROLLERS,
            *guarantees_public.PAGE_CONTROLLERS,
            *guarantees_admin.CONTROLLERS,
            *guarantees_bidder.CONTROLLERS,
            *guarantees_console.CONTROLLERS,
            *guarantees_beneficiary.CONTROLLERS,
            *guarantees_supervision.CONTROLLERS,
            *workdays_web.CONTROLLERS,
            *rule_catalogue_web.CONTROLLERS,
            *requirements_web.CONTROLLERS,
            *procurement_libraries_web.CONTROLLERS,
            *procurement_projects_web.CONTROLLERS,
            *integrity_web.CONTROLLERS,
            create_static_files_router(path="/static", directories=[STATIC_DIR], name="static"),
        ],
    )
    return [api, outside_api]


def permission_guard() -> Any:
    return make_permission_guard(PUBLIC_ROUTES)


def template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    # The header's unread-notice count (layouts/base.html).
    add_context_hook(notifications_web.unread_in_header)
    environment = build_environment(TEMPLATE_PACKAGES, navigation=shell.NAVIGATION)
    # Where pages find the local certificate agent: ``data-agent-url="{{ agent_url }}"`` for pki/agent.js.
    environment.globals["agent_url"] = settings.web.agent_url
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))
