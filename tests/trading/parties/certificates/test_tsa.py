"""The platform TSA at ``POST /api/v1/tsa``: queries from ``openssl ts -query``, replies that
``openssl ts -verify`` accepts, strictly increasing serial numbers, rejections for bad queries."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.tsa.asn1 import TimeStampResp
from trading.parties.models import TimestampToken

DevCa = tuple[Path, dict[str, Any]]


def openssl(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=False)


async def timestamp(client: httpx.AsyncClient, query: bytes) -> httpx.Response:
    return await client.post("/api/v1/tsa", content=query, headers={"Content-Type": "application/timestamp-query"})


async def test_tokens_verify_with_openssl_and_serials_increase(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], dev_ca: DevCa, tmp_path: Path
) -> None:
    out, _ = dev_ca
    serials = []
    for number, text in enumerate(("开标记录 第一份", "中标通知书 第二份")):
        data = tmp_path / f"data{number}.txt"
        data.write_text(text, encoding="utf-8")
        query = tmp_path / f"req{number}.tsq"
        created = openssl("ts", "-query", "-data", data, "-sha256", "-cert", "-out", query)
        assert created.returncode == 0, created.stderr
        response = await timestamp(client, query.read_bytes())
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/timestamp-reply"
        reply = tmp_path / f"resp{number}.tsr"
        reply.write_bytes(response.content)
        verified = openssl(
            "ts", "-verify", "-queryfile", query, "-in", reply,
            "-CAfile", out / "ca" / "platform_root.pem", "-untrusted", out / "ca" / "platform_ca.pem",
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "Verification: OK" in verified.stdout
        verified = openssl(
            "ts", "-verify", "-data", data, "-in", reply,
            "-CAfile", out / "ca" / "platform_root.pem", "-untrusted", out / "ca" / "platform_ca.pem",
        )  # fmt: skip
        assert "Verification: OK" in verified.stdout
        shown = openssl("ts", "-reply", "-in", reply, "-text")
        serials.append(int(shown.stdout.split("Serial number: ")[1].split()[0], 16))
    assert serials[1] > serials[0]
    async with session_maker() as session:
        rows = (await session.scalars(select(TimestampToken).order_by(TimestampToken.serial))).all()
    assert [row.serial for row in rows][-2:] == serials
    assert all(row.digest_algorithm == "sha256" and row.token_sha256 for row in rows)


async def test_bad_queries_are_rejected_without_a_serial(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    response = await timestamp(client, b"\x30\x03\x02\x01\x01 not a query")
    assert response.status_code == 200
    assert TimeStampResp.load(response.content)["status"]["status"].native == "rejection"
    async with session_maker() as session:
        assert (await session.scalars(select(TimestampToken))).all() == []
    wrong_type = await client.post("/api/v1/tsa", content=b"x", headers={"Content-Type": "application/octet-stream"})
    assert wrong_type.status_code == 415
    assert wrong_type.headers["content-type"].startswith("application/problem+json")


async def test_without_a_key_the_tsa_answers_503(client: httpx.AsyncClient, tmp_path: Path, app: Any) -> None:
    app.state.settings.certs.tsa_p12 = tmp_path / "missing.p12"
    query = tmp_path / "q.tsq"
    (tmp_path / "d").write_bytes(b"x")
    openssl("ts", "-query", "-data", tmp_path / "d", "-sha256", "-out", query)
    response = await timestamp(client, query.read_bytes())
    assert response.status_code == 503
    assert response.json()["type"] == "urn:ggzy:error:timestamp_service_unavailable"
