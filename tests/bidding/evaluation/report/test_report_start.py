"""The seam with the session part: when the chair moves the session into ``report-signing``, the
wired finaliser computes the result (the scoring part's, stubbed here) and enqueues the report's
rendering for after the commit; the job then renders the first revision."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import Evaluation, SessionState
from bidding.evaluation.report.service import RENDER_TASK, publish_report
from bidding.evaluation.scoring import result as scoring_result
from bidding.evaluation.session import hooks
from bidding.evaluation.session.machine import enter
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.report.world import build_world
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.tasks import RecordingPublisher
from trading.server import wiring


async def test_entering_report_signing_enqueues_the_render_and_the_job_renders_it(  # noqa: PLR0917 - the fixtures it needs
    publisher: RecordingPublisher,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await build_world(session_maker, dev_pki, state=SessionState.SCORING)

    async def finalise(session: AsyncSession, evaluation: Evaluation) -> dict[str, Any]:
        return dict(evaluation.result or {})  # the world's result stands for the scoring part's

    monkeypatch.setattr(scoring_result, "finalise", finalise)
    previous = hooks.finaliser()
    wiring.register_evaluation_hooks()
    try:
        async with transaction(session_maker, lock=True) as session:
            evaluation = await session.get_one(Evaluation, world.evaluation_id)
            await enter(session, evaluation, SessionState.REPORT_SIGNING, actor=world.signers[0].actor)
    finally:
        hooks.use_finaliser(previous)
    assert [(m.name, m.kwargs) for m in publisher.published] == [
        (RENDER_TASK, {"evaluation_id": str(world.evaluation_id)}),
        # the scores are in: integrity screens the experts' behaviour (after commit, advisory)
        ("integrity.screen_evaluation", {"evaluation_id": str(world.evaluation_id)}),
    ]
    digest = await publish_report(session_maker, settings, store, world.evaluation_id)
    assert digest is not None
    assert await publish_report(session_maker, settings, store, world.evaluation_id) == digest  # idempotent
    async with session_maker() as session:
        evaluation = await session.get_one(Evaluation, world.evaluation_id)
        assert evaluation.state is SessionState.REPORT_SIGNING
        assert evaluation.report_sha256 == digest
        assert store.path(evaluation.report_storage_key or "").read_bytes().startswith(b"%PDF-")
