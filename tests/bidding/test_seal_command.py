"""The ``ggzy bid seal`` line the sealing page shows: with ``--response``/``--requirements`` only for a
tender that publishes a requirement set (the page's flag), never otherwise."""

from __future__ import annotations

from datetime import UTC, datetime

from bidding.models import Tender
from bidding.web.bidder import seal_command


def _tender() -> Tender:
    return Tender(
        project_code="E3201000001000000042", deadline=datetime(2027, 3, 15, 1, 30, tzinfo=UTC), key_holders={}
    )


def test_the_seal_line_names_the_response_when_the_tender_publishes_a_requirement_set() -> None:
    line = seal_command(_tender(), "001", "91320100MA1XXXXX0X", with_response=True)
    assert "--response response.json --requirements requirements.json" in line
    # The response's options come before the output and the files, like every other option.
    assert line.index("--requirements") < line.index("--out bid.zip") < line.index("技术标.pdf")


def test_the_seal_line_has_no_response_without_a_requirement_set() -> None:
    line = seal_command(_tender(), "001", "91320100MA1XXXXX0X")
    assert "--response" not in line
    assert "--requirements" not in line
    assert line.startswith("ggzy bid seal \\\n  --tender E3201000001000000042")
