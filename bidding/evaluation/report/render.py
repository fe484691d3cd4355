"""The report's HTML (Chinese) and PDF, from `data.report_data`; the kernel renderer does the fonts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bidding.evaluation.report.data import CHINA

TEMPLATE: Final = "evaluation/report/report_pdf.html"

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_report_html(data: Mapping[str, Any], *, generated_at: datetime) -> str:
    return _env.get_template(TEMPLATE).render(
        report=data, generated_at=generated_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    )


def render_report(data: Mapping[str, Any], *, generated_at: datetime) -> bytes:
    """The unsigned PDF (blocking: call it in a thread or a worker)."""
    # Imported here: WeasyPrint is heavy, and web processes import this module for its routes.
    from trading.kernel.pdf.render import render_pdf  # noqa: PLC0415

    return render_pdf(render_report_html(data, generated_at=generated_at))
