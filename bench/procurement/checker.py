"""Negative-list checker benchmark: a 200-page tender document (issue 18's aim: < 2 s).

Pure CPU, no database: ``procurement.negative_list.checker.check_text`` with the shipped catalogue
(``default_rules()``) on one synthetic tender document built before timing — 200 pages of about
1,500 characters, each page a run of clauses in the style of a Chinese government-procurement
tender document (qualification conditions, technical parameters with full-width digits and
Chinese numbers, commercial terms, scoring tables), one page in four carrying a prohibited clause
somewhere in it. The whole document is checked as one text (normalisation, clauses, every rule's
patterns and negations, offsets mapped back).

Floor, in the same run on the same text: one plain regular-expression scan of the text for one
literal (``re.compile("最低限价").findall``) — the least any checker does, reading every character
once. The ratio (checker time / floor time) is what to compare across machines; wall and CPU time
are both printed (on a shared machine the wall time includes waiting for a core).

    .venv/bin/python bench/procurement/checker.py [--pages 200] [--runs 7] [--seed 18]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from procurement.negative_list.catalogue import default_rules  # noqa: E402
from procurement.negative_list.checker import check_text  # noqa: E402
from procurement.negative_list.model import Severity  # noqa: E402

CHECK_AIM_S = 2.0
PAGE_CHARS = 1500

ITEMS = [
    "台式计算机",
    "便携式计算机",
    "激光打印机",
    "交换机",
    "服务器",
    "空调",
    "监护仪",
    "彩色超声诊断仪",
    "办公桌椅",
    "物业管理服务",
]
FULL_WIDTH = str.maketrans("0123456789%", "０１２３４５６７８９％")

ALLOWED = [
    "{item}的处理器主频不低于{n}.{m}GHz，内存不少于{n}GB，硬盘容量不低于{k}GB。",
    "★{item}须符合国家标准GB {k}-20{n}{m}的要求，提供产品说明书。",
    "交货期：合同签订后{n}{m}日内交货至采购人指定地点，并完成安装调试。",
    "付款方式：验收合格后{n}{m}个工作日内支付合同总价的百分之九十五，余款于质保期满后付清。",
    "质保期不少于{cn}年，质保期内免费上门维修，响应时间不超过{n}小时。",
    "投标人应当具有独立承担民事责任的能力，具有良好的商业信誉和健全的财务会计制度。",
    "投标人参加政府采购活动前三年内，在经营活动中没有重大违法记录。",
    "所投{item}属于强制性产品认证目录的，须提供CCC认证证书。",
    "技术参数每有一项负偏离扣{n}分，扣完为止；★项不满足的，投标无效。",
    "落实政府采购政策，对小型和微型企业的报价给予百分之十的价格扣除。",
    "投标报价超过最高限价的，投标无效；本项目最高限价为人民币{cn}百万元。",
    "近三年具有同类项目业绩的，每提供一个得{n}分，最高得{k}分（以合同复印件为准）。",
    "售后服务响应时间在{n}小时以内的得{m}分，其余不得分。",
    "供应商可通过电子交易平台免费下载采购文件，无需报名。",
    "不得以供应商注册地或者所在地限制其参加本项目。",
    "中标人应在合同签订后{n}日内在本市设立售后服务站。",
    "{item}参考品牌：三个及以上品牌均可满足，品牌不限。",
    "投标文件应按招标文件规定的格式编制，并由法定代表人或其授权代表签字。",
    "采购人组织验收，验收标准按国家有关规定及本采购文件的技术要求执行。",
    "因中标人原因导致检测不合格的，检测费用由中标人承担。",
]
PROHIBITED = [
    "投标人注册地须在本市行政区域内。",
    "投标人注册资本不低于{cn}百万元。",
    "投标人须成立{cn}年以上。",
    "投标人须具有ISO9001质量管理体系认证证书。",
    "所投{item}须为联想品牌。",
    "具有本省业绩的，每个加{n}分。",
    "评标时将去掉最高报价和最低报价。",
    "本项目最低限价为{n}{m}万元。",
    "技术方案由评委酌情打分。",
    "投标人须提供制造商出具的针对本项目的授权书。",
]
CN = "一二三四五六七八九"


def clause(rng: random.Random, template: str) -> str:
    text = template.format(
        item=rng.choice(ITEMS), n=rng.randint(1, 9), m=rng.randint(0, 9), k=rng.randint(10, 999), cn=rng.choice(CN)
    )
    return text.translate(FULL_WIDTH) if rng.random() < 0.3 else text


def document(rng: random.Random, pages: int) -> tuple[str, set[int]]:
    """The tender document and the (0-based) numbers of the lines holding a prohibited clause."""
    out: list[str] = []
    prohibited: set[int] = set()
    line_count = 0
    for page in range(pages):
        lines = [f"第{page + 1}页　第三章　采购需求（续）"]
        bad_at = rng.randrange(6) if page % 4 == 0 else -1
        while sum(map(len, lines)) < PAGE_CHARS:
            if len(lines) == bad_at:
                prohibited.add(line_count + len(lines))
                lines.append(clause(rng, rng.choice(PROHIBITED)))
            else:
                lines.append(f"{len(lines)}. " + clause(rng, rng.choice(ALLOWED)))
        out.append("\n".join(lines))
        line_count += len(lines)
    return "\n".join(out), prohibited


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU time of ``runs`` calls of ``fn`` (after one warm-up call), in seconds."""
    fn()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()

    rng = random.Random(args.seed)  # noqa: S311 - a reproducible synthetic document
    text, prohibited = document(rng, args.pages)
    rules = default_rules()
    findings = check_text(text, rules)
    blocking = sum(1 for f in findings if f.severity is Severity.BLOCKING)
    found_lines = {text.count("\n", 0, f.start) for f in findings}
    print(
        f"document: {args.pages} pages, {len(text):,} characters, {text.count(chr(10)) + 1:,} lines, "
        f"{len(prohibited)} prohibited clauses planted; {len(rules)} rules "
        f"({sum(1 for r in rules if r.patterns)} text, {sum(len(r.patterns) for r in rules)} patterns)"
    )
    print(
        f"findings: {len(findings)} ({blocking} blocking); planted clauses found {len(prohibited & found_lines)}"
        f"/{len(prohibited)}, lines found that hold no planted clause: {len(found_lines - prohibited)}"
    )

    literal = re.compile("最低限价")
    floor = median_time(lambda: literal.findall(text), args.runs)
    checked = median_time(lambda: check_text(text, rules), args.runs)
    name = "floor: one regular-expression scan for a literal"
    print(f"  {name:<50} {floor[0] * 1000:>9,.2f} ms (CPU {floor[1] * 1000:,.2f} ms)")
    name = "check_text, whole catalogue"
    print(
        f"  {name:<50} {checked[0] * 1000:>9,.2f} ms (CPU {checked[1] * 1000:,.2f} ms)"
        f"  {checked[0] / floor[0]:,.0f}x floor (CPU {checked[1] / max(floor[1], 1e-9):,.0f}x)"
        f"  (aim < {CHECK_AIM_S:.0f} s: {'met' if checked[0] < CHECK_AIM_S else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
