"""Fixtures for the certificate tests: one development PKI per session, written once as ``ggzy
certs dev-ca`` writes it, and settings that point the platform at it (trust list, pinned operator,
TSA key). Revocation fetching is off unless a test turns it on, so only cached CRLs count.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki, build_dev_pki
from certs.tools.dev_ca import build_dev_ca, write_files
from certs.tsa.client import LocalTsa
from certs.tsa.server import TimeStampAuthority
from tests.trading.parties.certificates.helpers import load_dev_lists
from trading.kernel.settings import Settings
from trading.server.demo_pki import write_pinned_operator


@pytest.fixture(scope="session")
def dev_pki() -> DevPki:
    return build_dev_pki()


@pytest.fixture(scope="session")
async def dev_ca(dev_pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The development PKI's files (``ggzy certs dev-ca`` layout) and manifest."""
    out = tmp_path_factory.mktemp("dev-ca")
    files, manifest = await build_dev_ca(pki=dev_pki)
    write_files(out, files)
    write_pinned_operator(out, manifest)
    return out, manifest


@pytest.fixture(scope="session")
def dev_tsa(dev_pki: DevPki) -> LocalTsa:
    """The development TSA in-process, for publishing further lists in tests."""
    serials = itertools.count(1000)
    return LocalTsa(
        TimeStampAuthority(
            dev_pki.tsa.signing(),
            clock=lambda: datetime.now(UTC).replace(microsecond=0),
            serials=lambda: next(serials),
        )
    )


@pytest.fixture
def settings(settings: Settings, dev_ca: tuple[Path, dict[str, Any]]) -> Settings:
    out, _ = dev_ca
    return Settings(
        db={"url": settings.db.url},  # type: ignore[arg-type]
        var_dir=settings.var_dir,
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
async def dev_lists(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_ca: tuple[Path, dict[str, Any]]
) -> None:
    """Our development list and the Anhui peer list loaded, and the development CRLs cached."""
    await load_dev_lists(session_maker, settings, *dev_ca)
