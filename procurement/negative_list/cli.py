"""``ggzy procurement check FILE [--json]``: the negative-list checker on a file, without the platform.

FILE is a ``.txt`` (every line a clause of its own), ``.docx`` or ``.pdf`` (text extracted, one line
per paragraph / table cell / sentence; ``extract``). The rules are the shipped catalogue
(``catalogue.toml``), or ``--rules FILE`` in the same shape.

Without ``--json`` a report in Chinese: each finding with its line, the words found, the rule, its
basis and the suggested fix, then the totals. With ``--json`` one JSON object per line of the
document, in order (lines without findings too, so the output zips with the input)::

    {"line": 3, "text": "投标人注册地须在本市行政区域内。", "findings": [{"rule": "NL-QUAL-REGION",
     "ruleVersion": 1, "severity": "blocking", "start": 3, "end": 14, "basis": "…", "suggestion": "…"}]}

``start``/``end`` are character offsets into that line's ``text``.

Exit status: 0 when no finding blocks publication (warnings alone are 0), 1 when at least one
blocking finding is present, 2 when the file cannot be read (unknown suffix, encoding, no text
layer) or the arguments are wrong.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from procurement.negative_list.catalogue import default_rules, load_rules
from procurement.negative_list.extract import ExtractionError, LineResult, check_document, has_blocking
from procurement.negative_list.model import Rule, Severity

EXIT_CLEAN = 0
EXIT_BLOCKING = 1
EXIT_UNREADABLE = 2

_SEVERITY = {Severity.BLOCKING: "禁止", Severity.WARNING: "提示"}


class Unreadable(click.ClickException):
    exit_code = EXIT_UNREADABLE


def report(path: Path, results: Sequence[LineResult], rules: Sequence[Rule]) -> str:
    """The readable Chinese report of ``results``."""
    names = {rule.id: rule.name for rule in rules}
    out = [f"负面清单检查：{path.name}（{len(results)} 行，{sum(1 for r in rules if r.patterns)} 条文字规则）", ""]
    counts = {Severity.BLOCKING: 0, Severity.WARNING: 0}
    for result in results:
        for finding in result.findings:
            counts[finding.severity] += 1
            out += [
                (
                    f"第 {result.line} 行 【{_SEVERITY[finding.severity]}】{finding.rule}"
                    f"（第 {finding.rule_version} 版）{names.get(finding.rule, '')}"
                ),
                f"  原文：{result.text.strip()}",
                f"  命中：「{result.text[finding.start : finding.end]}」（第 {finding.start + 1}–{finding.end} 字）",
                f"  依据：{finding.basis}",
                f"  建议：{finding.suggestion}",
                "",
            ]
    blocking, warning = counts[Severity.BLOCKING], counts[Severity.WARNING]
    if not blocking and not warning:
        out.append("未发现负面清单问题。")
    else:
        out.append(f"合计：禁止项 {blocking} 处，提示项 {warning} 处。")
    out.append("存在禁止项，发布前须修改或经审核同意的说明。" if blocking else "没有禁止项。")
    return "\n".join(out)


@click.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line of the document")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a catalogue file in catalogue.toml's shape instead of the shipped one",
)
def check(file: Path, as_json: bool, rules_file: Path | None) -> None:  # noqa: FBT001 - click flag
    """Check FILE (.txt, .docx, .pdf) against the negative list (负面清单).

    Exit 0: no blocking finding; 1: at least one blocking finding; 2: the file cannot be read.
    """
    rules = load_rules(rules_file) if rules_file else default_rules()
    try:
        results = check_document(file, rules)
    except (ExtractionError, OSError) as exc:
        raise Unreadable(str(exc)) from exc
    if as_json:
        for result in results:
            click.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        click.echo(report(file, results, rules))
    sys.exit(EXIT_BLOCKING if has_blocking(results) else EXIT_CLEAN)
