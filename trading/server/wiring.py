"""Where the packages' declarations meet: permission grants, sweep handlers, beat schedule.

Each package declares what it contributes in its own modules (``policies.ROLE_GRANTS``,
``jobs.SWEEP_HANDLERS``, ``tasks.BEAT_SCHEDULE``); this module is the one list of them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import structlog
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.status_codes import HTTP_403_FORBIDDEN
from litestar.types import Scope
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding import jobs as bidding_jobs
from bidding import policies as bidding_policies
from bidding import rules as bidding_rules
from bidding.award import contract as award_contract  # noqa: F401 - registers the signed contract with the archive
from bidding.award import jobs as award_jobs
from bidding.award import notices as award_notices  # noqa: F401 - registers the issued notices with the archive
from bidding.award import publicity as award_publicity
from bidding.evaluation import access as evaluation_access
from bidding.evaluation import results as evaluation_results
from bidding.evaluation.clarifications import jobs as clarifications_jobs
from bidding.evaluation.clarifications import policies as clarifications_policies
from bidding.evaluation.committee import jobs as committee_jobs
from bidding.evaluation.committee import policies as committee_policies
from bidding.evaluation.methods.common import MethodCode
from bidding.evaluation.methods.serialise import settings_from_data
from bidding.evaluation.methods.settings import required_coefficients
from bidding.evaluation.models import Evaluation, SessionState
from bidding.evaluation.pool import jobs as pool_jobs
from bidding.evaluation.pool import policies as pool_policies
from bidding.evaluation.report import policies as report_policies
from bidding.evaluation.report import service as report_service
from bidding.evaluation.requirementset import assisting as requirements_assisting
from bidding.evaluation.scoring import policies as scoring_policies
from bidding.evaluation.scoring import result as scoring_result
from bidding.evaluation.session import hooks as session_hooks
from bidding.evaluation.session import jobs as session_jobs
from bidding.evaluation.session import policies as session_policies
from bidding.intake import revocation as intake_revocation
from bidding.integrity import policies as integrity_policies
from bidding.integrity import screeners as integrity_screeners
from bidding.integrity import screening as integrity_screening
from bidding.opening import coefficients as opening_coefficients
from bidding.opening import jobs as opening_jobs
from bidding.opening import revocation as opening_revocation
from bidding.opening.service import OpeningService
from intermediary_market import jobs as market_jobs
from intermediary_market import policies as market_policies
from procurement.libraries import policies as procurement_library_policies
from procurement.projects import jobs as procurement_project_jobs
from procurement.projects import policies as procurement_project_policies
from procurement.requirements import policies as requirement_policies
from procurement.rule_catalogue import policies as rule_catalogue_policies
from trading.credit import jobs as credit_jobs
from trading.credit import policies as credit_policies
from trading.guarantees import api_auth as guarantees_api_auth
from trading.guarantees import api_keys as guarantees_api_keys
from trading.guarantees import policies as guarantees_policies
from trading.guarantees import release_jobs as guarantee_release_jobs
from trading.kernel import calendar_versions, sweep
from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.permissions import Grants
from trading.kernel.errors import DomainError
from trading.kernel.settings import Settings
from trading.kernel.storage import open_store
from trading.ledger import names as ledger_names
from trading.ledger import policies as ledger_policies
from trading.ledger import timestamping as ledger_timestamping
from trading.notifications import jobs as notifications_jobs
from trading.parties import jobs as parties_jobs
from trading.parties import policies as parties_policies
from trading.parties import repository as parties_repository
from trading.parties.certificates import tsa as parties_tsa
from trading.server.workdays import policies as workdays_policies

if TYPE_CHECKING:
    from trading.kernel.settings import Settings


def check_settings(settings: Settings) -> None:
    """Domain settings the kernel cannot check itself (it does not know the domains): raise
    ``ValueError`` naming the setting, so a bad value stops the start instead of a later request.
    """
    bidding_rules.check_overrides(settings)


def grants() -> Grants:
    return Grants(
        parties_policies.ROLE_GRANTS,
        ledger_policies.ROLE_GRANTS,
        credit_policies.ROLE_GRANTS,
        guarantees_policies.ROLE_GRANTS,
        bidding_policies.ROLE_GRANTS,
        pool_policies.ROLE_GRANTS,
        clarifications_policies.ROLE_GRANTS,
        scoring_policies.ROLE_GRANTS,
        committee_policies.ROLE_GRANTS,
        report_policies.ROLE_GRANTS,
        session_policies.ROLE_GRANTS,
        market_policies.ROLE_GRANTS,
        workdays_policies.ROLE_GRANTS,
        rule_catalogue_policies.ROLE_GRANTS,
        requirement_policies.ROLE_GRANTS,
        procurement_library_policies.ROLE_GRANTS,
        procurement_project_policies.ROLE_GRANTS,
        integrity_policies.ROLE_GRANTS,
    )


def register_evaluation_hooks(settings: Settings | None = None) -> None:
    """Hand the session's state machine what it calls in the other evaluation parts, which it does
    not import (`bidding.evaluation.session.hooks`): entering ``report-signing`` runs the scoring
    part's ``result.finalise`` (it refuses with ``art64_unresolved`` while an Art. 64 finding is
    open) and, in the same transaction, enqueues the report part's rendering (it runs after the
    commit). With none registered the machine refuses to enter ``report-signing`` (rule
    ``result_finaliser``), so no report starts without a computed result.

    The finaliser registered here (`finalise_evaluation`) first hands the method the coefficients
    drawn in the opening hall (综合评估法 with F1/F4).
    """
    session_hooks.use_finaliser(finalise_evaluation)
    register_integrity_hooks(settings)
    evaluation_results.use_published_hook(_start_award())
    intake_revocation.use_revocation_hook(opening_revocation.bid_revoked)
    if settings is not None:
        session_hooks.use_entry_hook(SessionState.QUALIFICATION, _assistance(settings))


def register_integrity_hooks(settings: Settings | None = None) -> None:
    """Integrity screens each closed opening and each evaluation whose scores are in: it listens to
    their events (the stages may not import it), in web and worker processes alike, and the
    screens are registered with the moments they run at (`bidding.integrity.screeners`).
    """
    integrity_screening.plug()
    integrity_screeners.plug_screeners(settings)


def _start_award() -> evaluation_results.PublishedHook:
    """The results published: the award stage starts its award (`bidding.award.publicity.start_award`)
    in the same transaction; the evaluation may not import the award, so the server hands it over.
    The calendar is read in that transaction: the years loaded by then, whichever process loaded them.
    """

    async def run(session: AsyncSession, evaluation: Evaluation, /) -> object:
        return await award_publicity.start_award(
            session, evaluation, calendar=await calendar_versions.load_calendar(session)
        )

    return run


def _assistance(settings: Settings) -> session_hooks.EntryHook:
    """Entering ``qualification-review``: the assistance over the opened bids against the tender's
    published requirement set (advisory findings, written once each). It runs in a savepoint: a
    package that cannot be read leaves the transition (and the committee's work) untouched.
    """
    store = open_store(settings)

    async def run(session: AsyncSession, evaluation: Evaluation, /) -> object:
        # The opening reads the packages in its own sessions on the same database (engine or, in
        # tests, the connection: a savepoint there).
        maker = async_sessionmaker(bind=session.bind, expire_on_commit=False, join_transaction_mode="create_savepoint")
        opening = OpeningService(maker, settings, store)
        try:
            async with session.begin_nested():
                return await requirements_assisting.assist_evaluation(
                    session, evaluation, store=store, source=opening.hall.opened_package
                )
        except (DomainError, ValueError, OSError):
            log.warning("evaluation.assistance_skipped", evaluation_id=str(evaluation.id), exc_info=True)
            return []

    return run


async def finalise_evaluation(session: AsyncSession, evaluation: Evaluation) -> dict[str, Any]:
    """Entering ``report-signing``: the random coefficients the method needs (F1 浮动系数, F4 K)
    are taken from the opening hall's public draw (`bidding.opening.coefficients.drawn_values`; the
    evaluation may not import the opening) into the evaluation's method settings, then the scoring
    part's ``result.finalise`` computes ``Evaluation.result`` (or refuses), then the report is
    rendered after commit.
    """
    wanted = set()
    if evaluation.method == MethodCode.ENG_COMPREHENSIVE.value:  # the one method with coefficients
        wanted = {spec.name for spec in required_coefficients(settings_from_data(evaluation.settings))}
    if wanted:
        drawn = await opening_coefficients.drawn_values(session, evaluation.tender_id)
        taken = {name: value for name, value in drawn.items() if name in wanted}
        if taken:
            evaluation.settings = {
                **evaluation.settings,
                "coefficients": {
                    **(evaluation.settings.get("coefficients") or {}),
                    **{k: str(v) for k, v in taken.items()},
                },
            }
            await session.flush()
    result = await scoring_result.finalise(session, evaluation)
    report_service.schedule_render(session, evaluation)
    return result


EVALUATION_ROUTES: Final = ("/evaluation", "/api/v1/evaluation")
log = structlog.get_logger(__name__)


async def record_evaluation_refusal(exc: Exception, scope: Scope) -> None:
    """``after_exception`` hook: a request to an evaluation route refused with 403 — by the
    permission guard (the role lacks the route's permission) or by a part's own check — is recorded
    in the ledger (issue 15: before the results, every attempt by the tenderee, the agency or a
    bidder is refused and recorded). `AccessRefused` is recorded where it is raised; other routes
    and statuses record nothing here. A failure to record is logged, never turned into a 500.
    """
    if scope.get("type") != ScopeType.HTTP or isinstance(exc, evaluation_access.AccessRefused):
        return
    route = str(scope.get("path_template", ""))
    if not route.startswith(EVALUATION_ROUTES) or getattr(exc, "status_code", None) != HTTP_403_FORBIDDEN:
        return
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    try:
        actor = await current_actor(connection)
        if not actor.is_authenticated:
            return
        found = connection.path_params.get("evaluation_id")
        await evaluation_access.record_route_refusal(
            connection.app.state.session_maker,
            actor,
            found if isinstance(found, uuid.UUID) else None,
            route=route,
            rule=str(getattr(exc, "rule", None) or "permission"),
        )
    except Exception:
        log.exception("evaluation.refusal_unrecorded", route=route)


def register_sweep_handlers() -> None:
    handlers: tuple[sweep.DueHandler, ...] = (
        *parties_jobs.SWEEP_HANDLERS,
        *credit_jobs.SWEEP_HANDLERS,
        *bidding_jobs.SWEEP_HANDLERS,
        *opening_jobs.SWEEP_HANDLERS,
        *pool_jobs.SWEEP_HANDLERS,
        *clarifications_jobs.SWEEP_HANDLERS,
        *committee_jobs.SWEEP_HANDLERS,
        *session_jobs.SWEEP_HANDLERS,
        *market_jobs.SWEEP_HANDLERS,
        *notifications_jobs.SWEEP_HANDLERS,
        *award_jobs.SWEEP_HANDLERS,
        *guarantee_release_jobs.SWEEP_HANDLERS,
        *procurement_project_jobs.SWEEP_HANDLERS,
    )
    for handler in handlers:
        sweep.register(handler)


@dataclass(frozen=True)
class _SessionTsa:
    """The platform TSA in the caller's transaction (its serial row commits with the checkpoint)."""

    session: AsyncSession
    settings: Settings

    async def request(self, request_der: bytes) -> bytes:
        return await parties_tsa.timestamp(self.session, self.settings, request_der, client_ip=None)


def ledger_party_names() -> ledger_names.PartyNames:
    """How the ledger page names the organisations and users its summaries hold by id (the
    ledger sits below parties; the page finds this in the application state).
    """
    return parties_repository.party_names


def use_platform_tsa(settings: Settings) -> None:
    """Ledger checkpoints are timestamped by the platform TSA (the ledger sits below parties)."""
    ledger_timestamping.use_platform_tsa(lambda session: _SessionTsa(session, settings))


def use_guarantor_api(settings: Settings) -> None:
    """The guarantor API's key ids are looked up over onboarded guarantors, their certificates
    validated under the trust list in force (trading/guarantees/api_keys.py).
    """
    guarantees_api_auth.use_guarantor_keys(guarantees_api_keys.guarantor_keys(settings))


def beat_schedule(
    *, sweep_seconds: float, checkpoint_seconds: float, revocation_seconds: float = 3600.0
) -> dict[str, Any]:
    return {
        "kernel.sweep_due_checks": {"task": "kernel.sweep_due_checks", "schedule": timedelta(seconds=sweep_seconds)},
        "ledger.checkpoint_chains": {
            "task": "ledger.checkpoint_chains",
            "schedule": timedelta(seconds=checkpoint_seconds),
        },
        # CRLs fetched in the background before they expire (certs' RevocationChecker.refresh_due).
        "parties.refresh_revocation": {
            "task": "parties.refresh_revocation",
            "schedule": timedelta(seconds=revocation_seconds),
        },
        "parties.purge_login_challenges": {
            "task": "parties.purge_login_challenges",
            "schedule": timedelta(hours=6),
        },
        "parties.purge_pdf_signing_requests": {
            "task": "parties.purge_pdf_signing_requests",
            "schedule": timedelta(hours=6),
        },
        # The credit snapshots of every intermediary (intermediary_market/tasks.py).
        "intermediary_market.recompute_credit": {
            "task": "intermediary_market.recompute_credit",
            "schedule": timedelta(days=1),
        },
        # The guarantor API's nonces past their window and old idempotent responses (trading/guarantees/api_tasks.py).
        "guarantees.purge_api_records": {
            "task": "guarantees.purge_api_records",
            "schedule": timedelta(hours=1),
        },
        # Status changes pushed to guarantors' callback URLs, signed, retried (trading/guarantees/callbacks.py).
        "guarantees.push_callbacks": {
            "task": "guarantees.push_callbacks",
            "schedule": timedelta(seconds=30),
        },
        "integrity.recompute_market": {"task": "integrity.recompute_market", "schedule": timedelta(days=1)},
    }
