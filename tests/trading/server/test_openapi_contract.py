"""The API keeps the promises of its OpenAPI document, tested by schemathesis over every operation.

A real server (uvicorn on a database cloned from the Alembic template, with its own engine) is
called over HTTP by schemathesis, which generates valid and invalid requests from the document
(fixed seed, bounded examples), once without credentials and once as a user of each role. Every
response must pass four checks: no 5xx, a documented status, a documented content type, and a
body that matches the documented schema.

Budget (2 cores, about two minutes): ``MAX_EXAMPLES`` (5) requests per operation an identity may
call, one per operation the guard refuses it (that shows the 401/403 is documented), no shrinking;
101 operations × 9 identities. Raise it locally (``GGZY_SCHEMATHESIS_EXAMPLES``) to search harder.
schemathesis's own pytest plugin is off (``-p no:schemathesis`` in pyproject): its
``from_fixture`` integration fails on pytest 9.2 (it sets ``Function._nodeid``), so the test
drives schemathesis's Python API (``as_strategy``, ``call``, ``validate_response``) with
Hypothesis directly.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.routes import HTTPRoute
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from certs.devpki.pki import DevPki
from tests.bidding.factories import published_tender, tenderee_party
from tests.conftest import _VAR, clone_database, drop_database
from tests.trading.parties.certificates.conftest import dev_ca, dev_pki
from tests.trading.parties.certificates.helpers import load_dev_lists
from tests.trading.parties.factories import Account, create_account
from trading.kernel.auth.permissions import PERMISSION_OPT, Grants
from trading.kernel.auth.roles import Role
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.tasks import RecordingPublisher, set_publisher

MAX_EXAMPLES = int(os.environ.get("GGZY_SCHEMATHESIS_EXAMPLES", "5"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ANONYMOUS = "anonymous"
__all__ = ["dev_ca", "dev_pki"]
IDENTITIES = [ANONYMOUS, *(role.value for role in Role)]

# The TSA takes a DER request: raw bytes, as schemathesis sends any binary body.
schemathesis.serializer.alias("application/timestamp-query", "application/octet-stream")

# Operations that end the caller's own token: they get a spare one, so the rest of the run keeps its.
SPENDS_THE_TOKEN = frozenset({"DELETE /api/v1/auth/tokens"})


@dataclass(frozen=True)
class LiveApi:
    base_url: str
    tokens: dict[str, str]
    spare_tokens: dict[str, str]
    reachable: dict[str, frozenset[str]]
    """Per identity, the operations its permissions let it past the guard."""
    known: dict[str, str]
    """Path parameters naming resources that exist."""


def reachable_operations(app: Litestar, api_prefix: str) -> dict[str, frozenset[str]]:
    grants: Grants = app.state.grants
    operations: dict[str, str | None] = {}
    for route in app.routes:
        api = route.path_format.startswith(f"{api_prefix}/") and not route.path_format.startswith(f"{api_prefix}/docs")
        if isinstance(route, HTTPRoute) and api:
            for handler in route.route_handlers:
                permission = handler.opt.get(PERMISSION_OPT)
                for method in handler.http_methods:
                    operations[f"{method} {route.path_format}"] = None if permission is None else str(permission)
    reachable = {ANONYMOUS: frozenset(label for label, permission in operations.items() if permission is None)}
    for role in Role:
        held = grants.for_roles([role])
        reachable[role.value] = frozenset(
            label for label, permission in operations.items() if permission is None or permission in held
        )
    return reachable


@pytest.fixture(scope="module")
async def live_api(
    pg_databases: None,
    dev_ca: tuple[Path, dict[str, Any]],
    dev_pki: DevPki,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LiveApi]:
    """The real application on a real socket, with its own database, the development PKI (trust
    list, TSA, receipt signer, as the embedded default has them) and one user of each role.
    """
    del pg_databases
    from trading.server.app import API_PREFIX, create_app

    name = f"ggzy_openapi_{uuid.uuid4().hex[:10]}"
    url = await clone_database(name)
    engine = create_engine(url, pool_size=2)
    accounts: dict[str, Account] = {}
    try:
        app_settings = Settings(
            db={"url": url},  # type: ignore[arg-type]
            var_dir=_VAR,
            storage_dir=tmp_path_factory.mktemp("openapi-files"),
            certs={"dev_ca_dir": dev_ca[0], "fetch_revocation": False},  # type: ignore[arg-type]
        )
        session_maker = create_session_maker(engine)
        # The development trust list in force (as the embedded default loads it), so certificates
        # are recognised and the trust-list endpoints answer it.
        await load_dev_lists(session_maker, app_settings, *dev_ca)
        for role in Role:
            accounts[role.value] = await create_account(session_maker, app_settings, role)
        # Something to find: a published tender owned by the tenderee identity, so operations on
        # `{code}` and `{lot}` also answer from a real resource, not only 404.
        owner = await tenderee_party(session_maker, app_settings, dev_pki)
        accounts[Role.TENDEREE.value] = owner.account
        tender = await published_tender(session_maker, app_settings, FileStore(app_settings.storage_dir), owner)
        known = {"code": tender.project_code, "lot": "L1"}
        await engine.dispose()

        previous = set_publisher(RecordingPublisher())
        app = create_app(app_settings, publisher=RecordingPublisher())
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        base_url = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base_url) as client:
                while not server.started:
                    await asyncio.sleep(0.05)
                tokens, spares = {}, {}
                for identity, account in accounts.items():
                    for bag in (tokens, spares):
                        response = await client.post(
                            "/api/v1/auth/tokens", json={"username": account.username, "password": account.password}
                        )
                        assert response.status_code == 201, response.text
                        bag[identity] = response.json()["token"]
                    # Each identity really is that user (a run as "anonymous with a token" proves little).
                    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens[identity]}"})
                    assert me.status_code == 200, me.text
            yield LiveApi(base_url, tokens, spares, reachable_operations(app, API_PREFIX), known)
        finally:
            server.should_exit = True
            await asyncio.to_thread(thread.join, 30)
            set_publisher(previous)
    finally:
        await engine.dispose()
        await drop_database(name)


@pytest.fixture(scope="module")
def operations(live_api: LiveApi) -> list[APIOperation]:
    schema = schemathesis.openapi.from_url(f"{live_api.base_url}/api/v1/docs/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def describe(
    failure: Failure, response: schemathesis.Response, case: schemathesis.Case, headers: dict[str, str]
) -> str:
    message = " ".join(failure.message.split())[:300]
    body = response.content[:300].decode(errors="replace")
    answer = f"{response.status_code} {body}"
    return f"{case.operation.label}: {failure.title} ({message}) -> {answer}\n    {case.as_curl_command(headers)}"


def exercise(operation: APIOperation, headers: dict[str, str], examples: int, known: dict[str, str]) -> set[str]:
    """Run ``operation`` on generated valid and invalid requests; the distinct failures it shows."""
    failures: set[str] = set()
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    path_parameters = {parameter.name for parameter in operation.path_parameters}
    if existing := {name: known[name] for name in path_parameters if name in known}:
        # Valid requests on the seeded resources too, so success answers are checked as well.
        strategies.insert(0, operation.as_strategy(GenerationMode.POSITIVE, path_parameters=existing))
    strategy = st.one_of(strategies)

    @given(case=strategy)
    @settings(
        max_examples=examples,
        derandomize=True,  # a fixed seed: the same requests on every run
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure report names the request
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers=headers, timeout=60)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as exc:
            found = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
            for failure in found:
                failures.add(describe(failure, response, case, headers))

    run()
    return failures


def test_the_run_covers_every_api_operation(live_api: LiveApi, operations: list[APIOperation]) -> None:
    served = {label for labels in live_api.reachable.values() for label in labels}
    served = {label for label in served if label.split(" ", 1)[0] not in {"OPTIONS", "HEAD"}}
    documented = {operation.label for operation in operations}
    assert served - documented == set(), "API operations missing from the OpenAPI document"
    assert len(documented) > 90


@pytest.mark.parametrize("identity", IDENTITIES)
def test_api_keeps_its_documented_contract(live_api: LiveApi, operations: list[APIOperation], identity: str) -> None:
    failures: set[str] = set()
    for operation in operations:
        headers: dict[str, str] = {}
        if identity != ANONYMOUS:
            bag = live_api.spare_tokens if operation.label in SPENDS_THE_TOKEN else live_api.tokens
            headers["Authorization"] = f"Bearer {bag[identity]}"
        # Past the guard: the full budget. Refused by it (401/403): one request shows it is documented.
        examples = MAX_EXAMPLES if operation.label in live_api.reachable[identity] else 1
        failures |= exercise(operation, headers, examples, live_api.known)
    assert sorted(failures) == [], "\n".join(sorted(failures))
