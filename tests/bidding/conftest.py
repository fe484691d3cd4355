"""Fixtures for the bidding tests: the development PKI and trust lists of the certificate tests,
settings that point at them and at a file store of the test's own, and that file store; an
``owner`` (tenderee) and a ``bidder`` party.

The PKI fixtures are re-exported from the certificate tests' conftest (one PKI per session); ``w``,
the world of the visibility walks, from `tests.bidding.visibility_world`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from tests.bidding.factories import Party, bidder_party, tenderee_party
from tests.bidding.visibility_world import w
from tests.trading.parties.certificates.conftest import dev_ca, dev_lists, dev_pki, dev_tsa
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.tasks import RecordingPublisher

__all__ = ["dev_ca", "dev_lists", "dev_pki", "dev_tsa", "w"]


@pytest.fixture
def settings(settings: Settings, dev_ca: tuple[Path, dict[str, Any]], tmp_path: Path) -> Settings:
    """The certificate tests' settings (trust list, pinned operator, TSA, no revocation fetching)
    with the file store under the test's temporary directory."""
    out, _ = dev_ca
    return Settings(
        db={"url": settings.db.url},  # type: ignore[arg-type]
        var_dir=settings.var_dir,
        storage_dir=tmp_path / "files",
        certs={  # type: ignore[arg-type]
            "dev_ca_dir": out,
            "trust_list": str(out / "trust-list.json"),
            "operator_certificates": out / "pinned-operators.pem",
            "tsa_p12": out / "p12" / "tsa.p12",
            "tsa_p12_password": "dev",
            "fetch_revocation": False,
        },
    )


@pytest.fixture
def store(settings: Settings) -> FileStore:
    return FileStore(settings.storage_dir)


@pytest.fixture(autouse=True)
def _record_tasks(publisher: RecordingPublisher) -> RecordingPublisher:
    """Every bidding test records enqueued tasks: the deadline and the opening's close enqueue
    some (the record's rendering, the ledger's milestone checkpoint), and the process-wide
    default publisher refuses loudly rather than lose them."""
    return publisher


@pytest.fixture
async def owner(session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki) -> Party:
    """A tenderee organisation with a user, a token and certificates."""
    return await tenderee_party(session_maker, settings, dev_pki)


@pytest.fixture
async def bidder(session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki) -> Party:
    """A bidder organisation with a user, a token and certificates."""
    return await bidder_party(session_maker, settings, dev_pki)
