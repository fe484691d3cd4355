"""Fixtures of the end-to-end evaluation tests: the bidding fixtures (development PKI, trust lists,
the test's own file store, recorded tasks) plus poppler's tools and a warm PDF renderer (the report)."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.evaluation.e2e.world import Story, build
from tests.trading.kernel.test_pdf import warm_renderer
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.tasks import RecordingPublisher


@pytest.fixture(scope="session", autouse=True)
def poppler() -> None:
    """pdfsig, pdftotext and certutil (poppler-utils, libnss3-tools) must be installed."""
    missing = [tool for tool in ("pdfsig", "pdftotext", "certutil") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"install poppler-utils and libnss3-tools: {', '.join(missing)} not found")
    warm_renderer()


@pytest.fixture
def make_story(  # noqa: PLR0917 - the fixtures it needs
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    publisher: RecordingPublisher,
    tmp_path: Path,
    dev_lists: None,
) -> Callable[..., Awaitable[Story]]:
    """Builds the opened tender, the pool and the venues (`world.build`); ``engineering=True`` for a
    tender with a K coefficient drawn in the hall."""
    del dev_lists

    async def make(*, engineering: bool = False) -> Story:
        return await build(
            client=client,
            session_maker=session_maker,
            settings=settings,
            store=store,
            dev_pki=dev_pki,
            dev_tsa=dev_tsa,
            publisher=publisher,
            tmp_path=tmp_path,
            engineering=engineering,
        )

    return make
