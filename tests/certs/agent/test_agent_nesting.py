"""A JSON body nested too deep for the reader (``[[[…``, within the size limit) is answered 400
``bad-json`` naming the body, like any other body that is not JSON, before anyone is asked."""

from __future__ import annotations

import httpx

from tests.certs.agent.conftest import ORIGIN, SIGN_EC, AgentProcess


def test_a_deeply_nested_body_is_a_400_naming_the_body(agent: AgentProcess) -> None:
    nested = httpx.post(
        agent.base + f"/v1/keys/{SIGN_EC}/sign",
        content=b"[" * 100_000,
        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
        timeout=30,
    )
    assert nested.status_code == 400
    assert nested.json()["field"] == "body"
    assert agent.lines.empty()
