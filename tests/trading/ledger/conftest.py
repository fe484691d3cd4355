"""Ledger fixtures: the platform TSA plugged in as production wires it (development PKI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.trading.parties.certificates.conftest import dev_ca, dev_pki
from trading.kernel.settings import Settings
from trading.ledger import timestamping

__all__ = ["dev_ca", "dev_pki"]


@pytest.fixture
def platform_tsa(settings: Settings, dev_ca: tuple[Path, dict[str, Any]]) -> Iterator[Settings]:
    """Checkpoints timestamped by the platform TSA (the development PKI's TSA key)."""
    from trading.server.wiring import use_platform_tsa

    out, _ = dev_ca
    with_tsa = settings.model_copy(
        update={
            "certs": settings.certs.model_copy(
                update={"tsa_p12": out / "p12" / "tsa.p12", "tsa_p12_password": SecretStr("dev")}
            )
        }
    )
    previous = timestamping.use_platform_tsa(None)
    use_platform_tsa(with_tsa)
    yield with_tsa
    timestamping.use_platform_tsa(previous)
