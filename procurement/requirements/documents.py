"""The requirement as a Chinese PDF (WeasyPrint through the kernel's renderer, CJK fonts) and as
DOCX (python-docx), for the purchaser's own circulation. Both are built from the same rows:
every part and package in template order, the derived obligations and the open findings.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, select_autoescape

from procurement.requirements import content as contents
from procurement.requirements.models import Requirement
from procurement.requirements.schema import Kind, TemplateSpec

STATE_NAMES = {"draft": "草稿", "submitted": "已提交审查", "approved": "审查通过", "published": "已发布"}


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    rows: list[Row]


def _shown(spec_kind: Kind, choices: tuple[tuple[str, str], ...], value: str) -> str:
    if spec_kind in {Kind.BOOL, Kind.CHOICE}:
        return dict(choices).get(value, value)
    return value


def sections(template: TemplateSpec, content: dict[str, Any]) -> list[Section]:
    """Each part (each package its own section) with its filled fields, labels in Chinese."""
    found = []
    packages = content.get("packages") or []
    for part in template.parts:
        indexes: list[int | None] = list(range(len(packages))) if part.repeated else [None]
        for index in indexes:
            values = contents.part_values(content, part, index)
            rows = [
                Row(spec.label, _shown(spec.kind, spec.choices, values.get(spec.key, "")))
                for spec in part.fields
                if values.get(spec.key)
            ]
            suffix = f"（采购包 {index + 1}）" if index is not None else ""
            found.append(Section(f"第{'一二三四五'[part.number - 1]}部分 {part.title}{suffix}", rows))
    return found


_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
h1 { font-size: 18pt; text-align: center; }
h2 { font-size: 13pt; margin-top: 1.2em; border-bottom: 1px solid #999; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 1px solid #999; padding: 4px 6px; vertical-align: top; text-align: left; }
th { width: 30%; background: #f3f3f3; }
td { white-space: pre-wrap; }
.meta { color: #444; }
</style></head><body>
<h1>{{ title }}</h1>
<p class="meta">模板：{{ template_title }}（版本 {{ version }}）；状态：{{ state }}；修订号：{{ revision }}</p>
<p class="meta">需求调查：{{ "须开展" if survey_required else "无须开展" }}；审查方式：{{ review }}
{%- if reasons %}（{{ reasons }}）{% endif %}</p>
{% for section in sections %}
<h2>{{ section.title }}</h2>
{% if section.rows %}<table>{% for row in section.rows %}
<tr><th>{{ row.label }}</th><td>{{ row.value }}</td></tr>{% endfor %}</table>
{% else %}<p>（未填写）</p>{% endif %}
{% endfor %}
{% if findings %}<h2>负面清单检查问题</h2><table>
{% for f in findings %}<tr><th>{{ f.rule_id }}（第 {{ f.rule_version }} 版）</th>
<td>{{ f.excerpt }}\n依据：{{ f.basis }}\n建议：{{ f.suggestion }}</td></tr>{% endfor %}
</table>{% endif %}
</body></html>"""

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def _context(requirement: Requirement, template: TemplateSpec, findings: list[Any]) -> dict[str, Any]:
    duties = contents.obligations(requirement.category, requirement.content)
    return {
        "title": requirement.title,
        "template_title": template.title,
        "version": template.version,
        "state": STATE_NAMES.get(requirement.state, requirement.state),
        "revision": requirement.revision,
        "survey_required": duties.survey_required,
        "review": "重点审查" if duties.focused_review else "一般性审查",
        "reasons": "；".join(duties.reasons),
        "sections": sections(template, requirement.content),
        "findings": findings,
    }


def render_html(requirement: Requirement, template: TemplateSpec, findings: list[Any]) -> str:
    return _ENV.from_string(_HTML).render(_context(requirement, template, findings))


def render_pdf(requirement: Requirement, template: TemplateSpec, findings: list[Any]) -> bytes:
    """Blocking (WeasyPrint): call through ``asyncio.to_thread``."""
    from trading.kernel.pdf.render import render_pdf as to_pdf  # noqa: PLC0415 - heavy; only renderers need it

    return to_pdf(render_html(requirement, template, findings))


def render_docx(requirement: Requirement, template: TemplateSpec, findings: list[Any]) -> bytes:
    from docx import Document  # noqa: PLC0415 - heavy
    from docx.oxml.ns import qn  # noqa: PLC0415

    context = _context(requirement, template, findings)
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    document.add_heading(context["title"], level=0)
    document.add_paragraph(
        f"模板：{context['template_title']}（版本 {context['version']}）；状态：{context['state']}；"
        f"修订号：{context['revision']}"
    )
    document.add_paragraph(
        f"需求调查：{'须开展' if context['survey_required'] else '无须开展'}；审查方式：{context['review']}"
        + (f"（{context['reasons']}）" if context["reasons"] else "")
    )
    for section in context["sections"]:
        document.add_heading(section.title, level=1)
        if not section.rows:
            document.add_paragraph("（未填写）")
            continue
        table = document.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for row in section.rows:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = row.label, row.value
    if findings:
        document.add_heading("负面清单检查问题", level=1)
        for finding in findings:
            document.add_paragraph(
                f"{finding.rule_id}（第 {finding.rule_version} 版）：{finding.excerpt}\n依据：{finding.basis}\n"
                f"建议：{finding.suggestion}"
            )
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
