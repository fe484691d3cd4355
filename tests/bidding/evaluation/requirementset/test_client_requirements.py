"""The bidder's side: ``ggzy bid requirements`` saves the published set after checking its SHA-256,
and ``ggzy bid seal --response … --requirements …`` refuses a response that does not answer it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bidding.client import cli as client_cli
from certs.devpki.pki import DevPki
from tests.bidding.client.test_cli import TENDER, inputs, pki, seal_args
from tests.bidding.evaluation.test_sealed_response import write_response
from trading.server.cli import main

__all__ = ["inputs", "pki"]  # the fixtures, shared with the seal tests

REQUIREMENTS = {
    "format": "ggzy-requirements/1",
    "tender": TENDER,
    "lot": "001",
    "sector": "engineering",
    "deadline": "2027-03-15T09:30:00+08:00",
    "starItems": [{"code": "S1", "text": "工期"}, {"code": "S2", "text": "质量"}],
    "bill": [{"code": "010101001001", "description": "挖一般土方", "unit": "m³", "quantity": "120.5"}],
}


def test_seal_refuses_a_response_missing_a_star_item(pki: DevPki, inputs: dict[str, Path], tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.json"
    requirements.write_text(json.dumps(REQUIREMENTS, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "bid.ggzy"
    partial = write_response(pki, tmp_path / "partial.json")  # answers S1 only
    args = [*seal_args(pki, inputs, out), "--response", str(partial), "--requirements", str(requirements)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1
    assert "★ item S2" in refused.output
    assert not out.exists()
    complete = write_response(
        pki,
        tmp_path / "complete.json",
        starResponses=[{"item": "S1", "response": "complies"}, {"item": "S2", "response": "complies"}],
    )
    args = [*seal_args(pki, inputs, out), "--response", str(complete), "--requirements", str(requirements)]
    sealed = CliRunner().invoke(main, args)
    assert sealed.exit_code == 0, sealed.output
    assert out.exists()


def test_seal_refuses_a_response_without_a_claim_for_a_qualification_requirement(
    pki: DevPki, inputs: dict[str, Path], tmp_path: Path
) -> None:
    """``qualification-claimed``: the rule the browser's sealing page checks the same way."""
    requirements = tmp_path / "requirements.json"
    qualified = REQUIREMENTS | {"qualifications": [{"code": "Q1", "kind": "business-licence", "name": "营业执照"}]}
    requirements.write_text(json.dumps(qualified, ensure_ascii=False), encoding="utf-8")
    stars = [{"item": "S1", "response": "complies"}, {"item": "S2", "response": "complies"}]
    out = tmp_path / "bid.ggzy"
    unclaimed = write_response(pki, tmp_path / "unclaimed.json", starResponses=stars)
    args = [*seal_args(pki, inputs, out), "--response", str(unclaimed), "--requirements", str(requirements)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1
    assert "qualification requirement Q1" in refused.output
    assert not out.exists()
    claim = {
        "ref": "Q1",
        "certificateNo": "91320100MA1XXXXX0X",
        "issuer": "南京市监局",
        "validFrom": "2020-01-01",
    }
    claimed = write_response(pki, tmp_path / "claimed.json", starResponses=stars, qualifications=[claim])
    args = [*seal_args(pki, inputs, out), "--response", str(claimed), "--requirements", str(requirements)]
    sealed = CliRunner().invoke(main, args)
    assert sealed.exit_code == 0, sealed.output


class FakeClient:
    content = json.dumps(REQUIREMENTS, ensure_ascii=False).encode()
    stated = hashlib.sha256(content).hexdigest()

    def __init__(self, server: str, token: str) -> None:
        self.server, self.token = server, token

    def requirements(self, code: str) -> tuple[bytes, str]:
        assert code == TENDER
        return self.content, self.stated


@pytest.mark.parametrize("tampered", [False, True])
def test_requirements_are_fetched_and_their_digest_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, tampered: bool
) -> None:
    fake: Any = type("Fake", (FakeClient,), {"stated": "0" * 64} if tampered else {})
    monkeypatch.setattr(client_cli, "SyncBidClient", fake)
    target = tmp_path / "set.json"
    args = ["bid", "requirements", "--tender", TENDER, "--server", "https://ggzy.test", "--out", str(target)]
    result = CliRunner().invoke(main, args)
    if tampered:
        assert result.exit_code == 1
        assert "SHA-256" in result.output
        assert not target.exists()
    else:
        assert result.exit_code == 0, result.output
        assert target.read_bytes() == FakeClient.content
        assert json.loads(result.stdout)["sha256"] == FakeClient.stated
