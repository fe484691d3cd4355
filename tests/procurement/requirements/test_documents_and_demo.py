"""The requirement's Chinese PDF (pdftotext reads the Chinese back) and DOCX (python-docx opens it),
and the demo's requirement with two findings ready to fix."""

from __future__ import annotations

import io
import subprocess

import httpx
from docx import Document
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from procurement.requirements.models import Requirement, RequirementFinding
from tests.procurement.requirements.factories import API, PAGES, filled_requirement, headers, log_in, purchasing_unit
from trading.kernel.settings import Settings
from trading.parties.service import PartiesService
from trading.server.demo import ORGANISATIONS, seed
from trading.server.demo_requirements import TITLE, seed_demo_requirement


async def test_pdf_and_docx_exports(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    unit = await purchasing_unit(session_maker, settings)
    auth = await headers(client, unit.author)
    body = await filled_requirement(client, auth)

    pdf = await client.get(f"{API}/{body['id']}/export/pdf", headers=auth)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    compact = "".join(text.split())
    assert "某医院医用设备采购项目" in compact
    assert "项目总体情况" in compact
    assert "负面清单检查问题" in compact

    await log_in(client, unit.author)
    page = await client.get(f"{PAGES}/{body['id']}")
    assert f'href="{PAGES}/{body["id"]}/export/docx"' in page.text
    docx = await client.get(f"{PAGES}/{body['id']}/export/docx")
    assert docx.status_code == 200
    document = Document(io.BytesIO(docx.content))
    words = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    assert "某医院医用设备采购项目" in words
    assert "投标人注册地须在本市行政区域内" in cells
    assert (await client.get(f"{PAGES}/{body['id']}/export/txt")).status_code == 404


async def test_the_demo_requirement_carries_two_findings(session: AsyncSession, settings: Settings) -> None:
    parties = PartiesService(session, settings)
    await seed(parties)
    usccs = {item.key: item.uscc for item in ORGANISATIONS}
    lines = await seed_demo_requirement(session, parties, usccs)
    assert lines
    assert TITLE in lines[0]
    assert await seed_demo_requirement(session, parties, usccs) == []  # nothing twice
    row = await session.scalar(select(Requirement).where(Requirement.title == TITLE))
    assert row is not None
    findings = list(
        await session.scalars(select(RequirementFinding).where(RequirementFinding.requirement_id == row.id))
    )
    assert sorted(f.rule_id for f in findings) == ["NL-QUAL-REGION", "NL-QUAL-SIZE"]
    assert {f.field_path for f in findings} == {"packages[0].qualifications"}
