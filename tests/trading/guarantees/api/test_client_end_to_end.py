"""End to end on PostgreSQL: ``ggzy serve`` and the guarantor's client (``python -m
trading.guarantees.client``) as two separate processes. A bidder's application, made with the service,
becomes an issued guarantee through the client — approved, signed with the guarantor's own key and the
platform's TSA, uploaded, verified, recorded — and ``openssl cms -verify`` accepts the stored JSON's
signature. Then a claim is filed and a release requested; a second pass of the client answers both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from certs.devpki.pki import DevPki
from tests.bidding.live_server import ServerProcess
from tests.trading.guarantees.api.conftest import Parties, apply, onboard
from tests.trading.guarantees.factories import SYSTEM, organisation
from tests.trading.parties.certificates.helpers import load_dev_lists
from trading.guarantees import lifecycle
from trading.guarantees.models import (
    ClaimStatus,
    ClaimTrigger,
    Guarantee,
    GuaranteeApplication,
    GuaranteeRelease,
    ReleaseReason,
)
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.parties.models import OrganisationKind


class _Setup:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env


@pytest.fixture
def e2e_settings(fresh_db: str, tmp_path: Path, dev_ca: tuple[Path, dict[str, Any]]) -> Settings:
    out, _ = dev_ca
    return Settings(
        db={"url": fresh_db},  # type: ignore[arg-type]
        var_dir=tmp_path / "var",
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
def server(e2e_settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    certs = e2e_settings.certs
    env = {key: value for key, value in os.environ.items() if not key.startswith("GGZY_")}
    env |= {
        "GGZY_DB_URL": e2e_settings.db.url,
        "GGZY_VAR_DIR": str(e2e_settings.var_dir),
        "GGZY_LOG_LEVEL": "WARNING",
        "GGZY_CERTS_DEV_CA_DIR": str(certs.dev_ca_dir),
        "GGZY_CERTS_TRUST_LIST": str(certs.trust_list),
        "GGZY_CERTS_OPERATOR_CERTIFICATES": str(certs.operator_certificates),
        "GGZY_CERTS_TSA_P12": str(certs.tsa_p12),
        "GGZY_CERTS_TSA_P12_PASSWORD": "dev",
        "GGZY_CERTS_FETCH_REVOCATION": "false",
    }
    process = ServerProcess(_Setup(env), tmp_path / "server.log")  # type: ignore[arg-type]
    process.start()
    yield process
    process.stop()


def _client(base_url: str, out: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trading.guarantees.client",
            "--platform",
            base_url,
            "--p12",
            str(out / "p12" / "guarantor.p12"),
            *args,
            "once",
        ],
        env={**os.environ, "GUARANTOR_KEY_PASSWORD": "dev"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "dev" not in [line.split()[-1] for line in result.stderr.splitlines() if line.strip()]  # no password in logs
    tally: dict[str, Any] = json.loads(result.stdout)
    return tally


async def test_the_client_process_issues_answers_and_acknowledges(
    e2e_settings: Settings, server: ServerProcess, dev_ca: tuple[Path, dict[str, Any]], dev_pki: DevPki, tmp_path: Path
) -> None:
    out, manifest = dev_ca
    engine = create_engine(e2e_settings.db.url)
    session_maker = create_session_maker(engine)
    try:
        await load_dev_lists(session_maker, e2e_settings, out, manifest)
        async with session_maker() as session, session.begin():
            bank = await onboard(session, e2e_settings, dev_pki.guarantor)
            parties = Parties(
                await organisation(session, e2e_settings),
                await organisation(session, e2e_settings, OrganisationKind.PURCHASER_UNIT),
            )
        application = await apply(session_maker, bank, parties)
        too_large = await apply(session_maker, bank, parties, amount=Decimal("9000000.00"))

        first = _client(server.base_url, out, "--approve-up-to", "5000000")
        assert first["approved"] == [application.application_no]
        assert first["refused"] == [too_large.application_no]
        assert len(first["issued"]) == 1
        async with session_maker() as session:
            guarantee = (
                await session.execute(select(Guarantee).where(Guarantee.application_id == application.id))
            ).scalar_one()
            refused = await session.get(GuaranteeApplication, too_large.id)
            assert refused is not None
            assert refused.status.value == "refused"
        assert guarantee.guarantee_no == first["issued"][0]
        store = FileStore(e2e_settings.storage_dir)
        json_file, cades_file = store.path(guarantee.json_key), store.path(guarantee.cades_key)
        ca = tmp_path / "guarantor-ca.pem"
        ca.write_bytes(dev_pki.guarantor_ca.identity.cert_pem)
        verified = subprocess.run(
            [
                "openssl",
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                str(cades_file),
                "-content",
                str(json_file),
                "-CAfile",
                str(ca),
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert verified.returncode == 0, verified.stderr
        assert "Verification successful" in verified.stderr

        async with session_maker() as session, session.begin():
            claim = await lifecycle.file_claim(
                session,
                SYSTEM,
                guarantee.id,
                trigger=ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE,
                claimant_organisation_id=parties.tenderee.id,
                amount=Decimal("80000.00"),
                statement="投标截止后撤回投标文件",
            )
        second = _client(server.base_url, out)
        assert second["claims_answered"] == [str(claim.id)]
        async with session_maker() as session:
            assert (await session.get(type(claim), claim.id)).status == ClaimStatus.PAID  # type: ignore[union-attr]
        other = await apply(session_maker, bank, parties)
        third = _client(server.base_url, out)
        async with session_maker() as session, session.begin():
            issued = (await session.execute(select(Guarantee).where(Guarantee.application_id == other.id))).scalar_one()
            await lifecycle.request_release(session, SYSTEM, issued.id, ReleaseReason.NOT_AWARDED)
        assert third["issued"] == [issued.guarantee_no]
        fourth = _client(server.base_url, out)
        assert fourth["releases_acknowledged"] == [issued.guarantee_no]
        async with session_maker() as session:
            release = (
                await session.execute(select(GuaranteeRelease).where(GuaranteeRelease.guarantee_id == issued.id))
            ).scalar_one()
            assert release.acknowledged_at is not None
    finally:
        await engine.dispose()
