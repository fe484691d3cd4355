"""The report tests' fixtures: the development PKI with its trust list loaded, the in-process TSA,
the file store, and an evaluation at ``report-signing`` whose report has been rendered."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.report.service import publish_report
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.report.world import World, build_world
from tests.trading.kernel.test_pdf import warm_renderer
from tests.trading.parties.certificates import conftest as certificate_fixtures
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

dev_pki = certificate_fixtures.dev_pki
dev_ca = certificate_fixtures.dev_ca
dev_tsa = certificate_fixtures.dev_tsa
settings = certificate_fixtures.settings
dev_lists = certificate_fixtures.dev_lists

DevCa = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="session", autouse=True)
def poppler() -> None:
    """pdfsig, pdftotext and certutil (poppler-utils, libnss3-tools) must be installed."""
    missing = [tool for tool in ("pdfsig", "pdftotext", "certutil") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"install poppler-utils and libnss3-tools: {', '.join(missing)} not found")
    warm_renderer()


@pytest.fixture
def store(settings: Settings) -> FileStore:
    return FileStore(settings.storage_dir)


@pytest.fixture
async def world(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_pki: DevPki,
    store: FileStore,
    dev_lists: None,
) -> World:
    """The 7-member evaluation with its report rendered (the render job, run here)."""
    del dev_lists
    built = await build_world(session_maker, dev_pki)
    digest = await publish_report(session_maker, settings, store, built.evaluation_id)
    assert digest is not None
    return built
