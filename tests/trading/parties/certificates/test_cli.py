"""``ggzy certs``: write the development PKI, load a trust list, sign a challenge like middleware."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from tests.trading.parties.certificates.helpers import account

GGZY = str(Path(sys.executable).with_name("ggzy"))
DevCa = tuple[Path, dict[str, Any]]


def ggzy(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GGZY_")} | (env or {})
    return subprocess.run(
        [GGZY, *args], capture_output=True, text=True, env=environment, input=stdin, check=False, timeout=120
    )


def test_dev_ca_writes_the_development_pki(tmp_path: Path) -> None:
    out = tmp_path / "dev-ca"
    result = ggzy("certs", "dev-ca", "--out", str(out), env={"GGZY_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "pinned trust-list operator" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"jiangsu_ca", "anhui_ca", "platform_ca", "guarantor_ca", "credential_ca"} <= set(manifest["cas"])
    for relative in (
        "trust-list.json",
        "trust-list.p7s",
        "peer-trust-list.json",
        "peer-trust-list.p7s",
        "p12/org_sign.p12",
        "p12/anhui_org_sign.p12",
        "p12/tsa.p12",
        "wallets/e-licence.json",
        "wallets/e-id.json",
        "pinned-operators.pem",
    ):
        assert (out / relative).is_file(), relative
    assert (out / "pinned-operators.pem").read_text().count("BEGIN CERTIFICATE") == 1


async def test_trust_list_load_names_a_refusal_and_exits_1(fresh_db: str, dev_ca: DevCa, tmp_path: Path) -> None:
    out, _ = dev_ca
    env = {"GGZY_DB_URL": fresh_db, "GGZY_VAR_DIR": str(tmp_path), "GGZY_CERTS_DEV_CA_DIR": str(out)}
    loaded = await asyncio.to_thread(ggzy, "certs", "trust-list", "load", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded: our list, sequence 1" in loaded.stdout
    forged = tmp_path / "forged.json"
    forged.write_bytes((out / "trust-list.json").read_bytes().replace(b"granted", b"grantee", 1))
    refused = await asyncio.to_thread(
        ggzy, "certs", "trust-list", "load", str(forged), "--signature", str(out / "trust-list.p7s"), env=env
    )
    assert refused.returncode == 1
    assert "refused: trust-list-forged" in refused.stderr


@pytest.mark.usefixtures("dev_lists")
async def test_sign_challenge_plays_the_middleware(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Any,
    dev_ca: DevCa,
    dev_pki: DevPki,
) -> None:
    await account(session_maker, settings, uscc=dev_pki.org_uscc)
    out, _ = dev_ca
    issued = await client.post("/api/v1/auth/certificate/challenges")
    signed = await asyncio.to_thread(
        ggzy, "certs", "sign-challenge", "--p12", str(out / "p12" / "org_sign.p12"), stdin=issued.text
    )
    assert signed.returncode == 0, signed.stderr
    response = await client.post("/api/v1/auth/certificate/sessions", json=json.loads(signed.stdout))
    assert response.status_code == 201, response.text
