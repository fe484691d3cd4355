"""Running the assistance (`bidding.evaluation.assistance.assess`) over the opened bids' structured
responses and keeping its findings as advisory `Finding` rows (`findings.record_assistance`).

`assist` is the public entry: whoever starts the review (the session part, or the host) calls it
with the tender's published requirement set; it reads each opened package's ``ggzy-response.json``
(bids sealed without one are skipped), and writes what the assistance found, with its evidence.
Nothing here changes a score: the committee reads the findings and acknowledges them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.assistance.assess import assess
from bidding.evaluation.assistance.checks import CreditFact
from bidding.evaluation.models import Evaluation, Finding
from bidding.evaluation.response.requirements import RequirementSet
from bidding.evaluation.scoring import documents
from bidding.evaluation.scoring.documents import PackageSource
from bidding.evaluation.scoring.findings import record_assistance
from bidding.evaluation.scoring.repository import ScoringRepository
from trading.kernel.auth.identity import Actor
from trading.kernel.storage import Store


async def assist(
    session: AsyncSession,
    evaluation: Evaluation,
    requirements: RequirementSet,
    *,
    store: Store,
    source: PackageSource,
    credit: Mapping[str, Sequence[CreditFact]] | None = None,
    actor: Actor | None = None,
) -> list[Finding]:
    """The assistance's findings on every opened bid with a structured response, written once each."""
    repo = ScoringRepository(session)
    tender = await repo.tender(evaluation.tender_id)
    bids = [b for b in await repo.bids(evaluation) if b.package_opened]
    responses = []
    for bid in bids:
        package = await documents.package_bytes(store, source, tender.project_code, bid)
        response = documents.structured_response(package)
        if response is not None:
            responses.append(response)
    if not responses:
        return []
    assessment = assess(requirements, responses, credit=credit)
    return await record_assistance(
        repo, evaluation, tender.project_code, bids=bids, advisory=assessment.findings, actor=actor or Actor.system()
    )
