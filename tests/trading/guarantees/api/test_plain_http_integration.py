"""A bank's own system can integrate from the OpenAPI document alone: this client reads
``/api/v1/docs/openapi.json`` for the guarantor operations, their security scheme and request examples,
and signs RFC 9421 requests by hand with plain ``cryptography`` (no ``trading.guarantees.httpsig``, no
client package): the signature base is written out as RFC 9421 §2.5 says.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.guarantees.api.conftest import Bank, Parties, apply


class BankSystem:
    """What a bank would write from the document: one signing function and an HTTP client."""

    def __init__(self, http: httpx.AsyncClient, key: ec.EllipticCurvePrivateKey, certificate_der: bytes) -> None:
        self.http = http
        self.key = key
        self.key_id = hashlib.sha256(certificate_der).hexdigest()

    def headers(self, method: str, path: str, query: str, body: bytes, extra: dict[str, str]) -> dict[str, str]:
        digest = f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"
        fields = {"content-digest": digest, **{name.lower(): value for name, value in extra.items()}}
        covered = ["@method", "@path", "@query", "content-digest"]
        if method == "POST":
            covered += ["content-type", "idempotency-key"]
        created = int(time.time())
        params = (
            "(" + " ".join(f'"{name}"' for name in covered) + ")"
            f';created={created};expires={created + 300};nonce="{secrets.token_hex(16)}"'
            f';keyid="{self.key_id}";alg="ecdsa-p256-sha256";tag="ggzy-guarantor-api"'
        )
        values = {"@method": method, "@path": path, "@query": f"?{query}", **fields}
        base = "\n".join([*(f'"{name}": {values[name]}' for name in covered), f'"@signature-params": {params}'])
        r, s = decode_dss_signature(self.key.sign(base.encode(), ec.ECDSA(hashes.SHA256())))
        raw = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
        return {**extra, "Content-Digest": digest, "Signature-Input": f"bank={params}", "Signature": f"bank=:{raw}:"}

    async def call(self, method: str, path: str, body: Any = None, query: str = "") -> httpx.Response:
        content = b"" if body is None else json.dumps(body).encode()
        extra = (
            {"Content-Type": "application/json", "Idempotency-Key": secrets.token_hex(8)} if method == "POST" else {}
        )
        url = f"{path}?{query}" if query else path
        return await self.http.request(
            method, url, content=content, headers=self.headers(method, path, query, content, extra)
        )


async def test_a_bank_integrates_from_the_openapi_document(
    client: httpx.AsyncClient, bank: Bank, parties: Parties, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    document = (await client.get("/api/v1/docs/openapi.json")).json()
    operations = {
        operation["operationId"]: (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "guarantor" in operation.get("tags", [])
    }
    assert {"guarantor_applications", "guarantor_application", "guarantor_decide", "guarantor_issue"} <= set(operations)
    scheme = document["components"]["securitySchemes"]["guarantorSignature"]
    assert "RFC 9421" in scheme["description"]
    assert all(op["security"] == [{"guarantorSignature": []}] for _, _, op in operations.values())

    application = await apply(session_maker, bank, parties)
    key = bank.identity.key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    system = BankSystem(client, key, bank.identity.certificate.public_bytes(Encoding.DER))

    method, path, _ = operations["guarantor_applications"]
    queue = await system.call(method, path, query="status=applied")
    assert queue.status_code == 200, queue.text
    assert [row["application_no"] for row in queue.json()] == [application.application_no]

    method, template, operation = operations["guarantor_decide"]
    body_doc = operation["requestBody"]["content"]["application/json"]
    schema_name = body_doc["schema"]["allOf"][0]["$ref"].rsplit("/", 1)[-1]
    assert document["components"]["schemas"][schema_name]["properties"]["decision"]["enum"] == ["approve", "refuse"]
    approve = body_doc["schema"]["examples"][0]
    path = template.replace("{application_no}", application.application_no)
    decided = await system.call(method, path, approve)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "paid"

    method, template, operation = operations["guarantor_application"]
    detail = await system.call(method, template.replace("{application_no}", application.application_no))
    documented = operation["responses"]["200"]["content"]["application/json"]["examples"]
    assert set(next(iter(documented.values()))["value"]) <= set(detail.json())  # the example shows the fields

    tampered = system.headers("GET", path, "", b"", {})
    refused = await client.get(path.replace("/decision", ""), headers=tampered)
    assert refused.status_code == 401
    assert refused.json()["type"] == "urn:ggzy:error:request_signature_invalid"
