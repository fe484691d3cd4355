"""``ggzy bid seal --response``: the structured response travels sealed inside the package under its
reserved name, the platform reads it back strictly, and a package without one still opens."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bidding.client import format as fmt
from bidding.client.sdk import expected_binding, open_package
from bidding.evaluation.response.package import response_in_package
from certs.devpki.pki import DevPki
from tests.bidding.client.test_cli import DEADLINE, TENDER, inputs, pki, seal_args
from trading.server.cli import main

__all__ = ["inputs", "pki"]  # the fixtures, shared with the seal tests


def write_response(pki: DevPki, path: Path, **changes: Any) -> Path:
    doc = {
        "format": "ggzy-response/1",
        "tender": TENDER,
        "lot": "001",
        "bidder": pki.org_uscc,
        "starResponses": [{"item": "S1", "response": "complies"}],
        "bill": [{"code": "010101001001", "quantity": "120.5", "unitPrice": "356.80", "lineTotal": "42994.40"}],
        "total": "42994.40",
        "totalInWords": "肆万贰仟玖佰玖拾肆元肆角整",
    } | changes
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def opened(pki: DevPki, out: Path) -> Any:
    bound = expected_binding(TENDER, "001", pki.org_uscc, datetime.fromisoformat(DEADLINE))
    return open_package(out, pki.org_enc.key, bound)  # type: ignore[arg-type]


def test_the_response_is_sealed_in_the_package_and_read_back(
    pki: DevPki, inputs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "bid.ggzy"
    response = write_response(pki, tmp_path / "response.json")
    result = CliRunner().invoke(main, [*seal_args(pki, inputs, out), "--response", str(response)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["response"] == fmt.RESPONSE_FILE
    package = opened(pki, out)
    assert sorted(package.names()) == sorted(["技术标.pdf", fmt.RESPONSE_FILE])
    read = response_in_package(package.names(), package.read)
    assert read is not None
    assert (read.bidder, read.total, read.bill[0].unit_price) == (pki.org_uscc, Decimal("42994.40"), Decimal("356.80"))


def test_a_package_without_a_response_still_opens(pki: DevPki, inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "bid.ggzy"
    assert CliRunner().invoke(main, seal_args(pki, inputs, out)).exit_code == 0
    package = opened(pki, out)
    assert response_in_package(package.names(), package.read) is None


def test_a_response_for_another_bid_or_format_is_refused_before_sealing(
    pki: DevPki, inputs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "bid.ggzy"
    for changes, words in [({"lot": "002"}, "names"), ({"format": "ggzy-response/7"}, "format")]:
        response = write_response(pki, tmp_path / "response.json", **changes)
        result = CliRunner().invoke(main, [*seal_args(pki, inputs, out), "--response", str(response)])
        assert result.exit_code == 1
        assert words in result.output
        assert not out.exists()
    reserved = write_response(pki, tmp_path / fmt.RESPONSE_FILE)
    result = CliRunner().invoke(main, [*seal_args(pki, inputs, out), str(reserved)])
    assert result.exit_code == 1
    assert "--response" in result.output
