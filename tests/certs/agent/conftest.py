"""The agent's own tests: one SoftHSM2 token for the session holding development-PKI keys, and
``ggzy agent`` serving it (the machinery is in ``support.py``, shared with the browser flows)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from certs.devpki.pki import DevPki
from tests.certs.agent.support import ORIGIN, PIN, TOKEN_LABEL, AgentProcess, init_token, running_agent, softhsm_module

__all__ = ["ORIGIN", "PIN", "TOKEN_LABEL", "AgentProcess", "softhsm_module"]  # what the tests here import

# key ids on the token: the Jiangsu organisation's signing and encryption keys (EC P-256) and the
# Anhui organisation's (RSA 2048); the Jiangsu CA and root ride along without keys, as on a real key
SIGN_EC, ENC_EC, SIGN_RSA, ENC_RSA = "01", "02", "03", "04"
ALLOWED = (ORIGIN, "http://127.0.0.1:8000")


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory, pki: DevPki) -> dict[str, str]:
    """Environment for a SoftHSM2 with one initialised token holding the keys named above."""
    return init_token(
        tmp_path_factory.mktemp("softhsm"),
        [(SIGN_EC, pki.org_sign), (ENC_EC, pki.org_enc), (SIGN_RSA, pki.anhui_org_sign), (ENC_RSA, pki.anhui_org_enc)],
        [("a1", pki.jiangsu_ca.identity.cert_pem), ("a2", pki.jiangsu_root.identity.cert_pem)],
    )


@pytest.fixture(scope="session")
def agent(softhsm: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    with running_agent(softhsm, ALLOWED, tmp_path_factory.mktemp("agent")) as running:
        yield running
