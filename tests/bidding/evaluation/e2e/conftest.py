"""Fixtures of the end-to-end evaluation tests: the bidding fixtures (development PKI, trust lists,
the test's own file store, recorded tasks) plus poppler's tools and a warm PDF renderer (the report)."""

from __future__ import annotations

import shutil

import pytest

from tests.trading.kernel.test_pdf import warm_renderer


@pytest.fixture(scope="session", autouse=True)
def poppler() -> None:
    """pdfsig, pdftotext and certutil (poppler-utils, libnss3-tools) must be installed."""
    missing = [tool for tool in ("pdfsig", "pdftotext", "certutil") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"install poppler-utils and libnss3-tools: {', '.join(missing)} not found")
    warm_renderer()
