"""The OpenAPI document states what the server enforces: who may call, what errors look like, which
statuses each operation answers, and only the API (not the pages) is in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from trading.kernel.api.errors import PROBLEM_JSON
from trading.kernel.auth.permissions import PERMISSION_OPT
from trading.server.routing import PUBLIC_ROUTES

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/docs/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def declared_permissions(app: Litestar) -> dict[tuple[str, str], object]:
    found: dict[tuple[str, str], object] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    found[method, route.path_format] = handler.opt.get(PERMISSION_OPT)
    return found


def test_the_bearer_scheme_is_declared(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"


def test_every_operation_needing_a_permission_requires_the_bearer_token(
    app: Litestar, document: dict[str, Any]
) -> None:
    permissions = declared_permissions(app)
    wrong = []
    for method, path, operation in operations(document):
        public = permissions[method, path] is None and path in PUBLIC_ROUTES
        requires_token = operation.get("security") == [{"bearer": []}]
        if public == requires_token:
            wrong.append(f"{method} {path}: public={public}, security={operation.get('security')}")
    assert wrong == []


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    wrong = [
        f"{method} {path} {status}: {sorted(response.get('content', {}))}"
        for method, path, operation in operations(document)
        for status, response in operation["responses"].items()
        if status.startswith(("4", "5")) and set(response.get("content", {})) != {PROBLEM_JSON}
    ]
    assert wrong == []
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert set(problem["required"]) == {"type", "title", "status"}


def test_operations_document_the_refusals_they_can_answer(document: dict[str, Any]) -> None:
    ops = {f"{method} {path}": operation for method, path, operation in operations(document)}

    def statuses(label: str) -> set[str]:
        return set(ops[label]["responses"])

    # Guarded: no token (401) and the wrong role (403); a path naming a resource: 404.
    assert {"400", "401", "403", "404", "422"} <= statuses("GET /api/v1/parties/organisations/{organisation_id}")
    # A write meets states that forbid it (409) and may carry too big a body (413).
    assert {"409", "413"} <= statuses("POST /api/v1/bidding/tenders/{code}/publication")
    # A resource named in the path may be at a stage that forbids reading it yet (no opening yet).
    assert "409" in statuses("GET /api/v1/bidding/opening/{code}")
    # Public: no 401/403 from the guard; a public writer is throttled (429); a login refuses (401).
    assert not {"401", "403"} & statuses("GET /api/v1/bidding/tenders")
    assert {"401", "429"} <= statuses("POST /api/v1/auth/tokens")
    assert "429" in statuses("POST /api/v1/tsa")


def test_only_the_api_is_documented(document: dict[str, Any]) -> None:
    assert [path for path in document["paths"] if not path.startswith("/api/v1/")] == []
    assert not any(path.startswith("/api/v1/docs") for path in document["paths"])


def test_the_trust_list_is_documented_as_the_json_document_it_is(document: dict[str, Any]) -> None:
    trust_list = document["paths"]["/api/v1/certs/trust-list"]["get"]["responses"]
    schema = trust_list["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/TrustListDocument"}
    fields = document["components"]["schemas"]["TrustListDocument"]["properties"]
    assert {"schemaVersion", "sequenceNumber", "nextUpdate", "entities"} <= set(fields)
    assert "404" in trust_list  # before any list is loaded
    signature = document["paths"]["/api/v1/certs/trust-list/signature"]["get"]["responses"]["200"]
    assert set(signature["content"]) == {"application/pkcs7-signature"}


def test_the_tsa_documents_its_der_request_body(document: dict[str, Any]) -> None:
    tsa = document["paths"]["/api/v1/tsa"]["post"]
    assert set(tsa["requestBody"]["content"]) == {"application/timestamp-query"}
    assert "415" in tsa["responses"]
