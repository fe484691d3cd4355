"""PDF rendering: Chinese records with the kernel's cached CJK subsets against a Latin floor.

Floor: WeasyPrint rendering a one-page Latin document (its default fonts, no kernel stylesheet),
measured in the same run. Measured with `trading.kernel.pdf.render.render_pdf`: a one-page
Chinese document, and an opening-record-like document (a table of 300 bidders: name, price,
duration, status; ~9 pages); its Latin twin through the same renderer separates table layout
from font cost. Cold = the first render in a fresh font cache (the subsets are built); warm =
medians of ``--runs`` renders after that. Aim (issue 5): the Chinese opening record under 3× the
Latin floor.

    .venv/bin/python bench/pdf.py [--runs 7] [--cache DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import weasyprint

from trading.kernel.pdf import render

PARAGRAPH_ZH = (
    "开标记录：招标项目名称某某市政道路工程施工，投标人南京示例建设工程有限公司，"
    "投标报价人民币壹佰贰拾万元整，工期三百六十五日历天。"
)
PARAGRAPH_LA = (
    "Opening record: tender for municipal road works, bidder Nanjing Example Construction Ltd, "
    "price one million two hundred thousand yuan, 365 days."
)
STATUSES_ZH = ("已解密", "已解密", "已解密", "解密失败（撤销）", "通过密钥托管开启")
STATUSES_LA = ("decrypted", "decrypted", "decrypted", "failed (revoked)", "opened via escrow")


def one_page(paragraph: str, title: str) -> str:
    body = "".join(f"<p>{paragraph}</p>" for _ in range(18))
    return f"<!doctype html><html><head><meta charset='utf-8'></head><body><h1>{title}</h1>{body}</body></html>"


def opening_record(*, chinese: bool, bidders: int = 300) -> str:
    rows = []
    for i in range(1, bidders + 1):
        if chinese:
            name = f"{'南京苏州无锡常州扬州'[i % 5 * 2 : i % 5 * 2 + 2]}示例建设工程有限公司第{i}分公司"
            duration, status = f"{300 + i % 90} 日历天", STATUSES_ZH[i % 5]
        else:
            name = f"Example Construction Company Branch {i}"
            duration, status = f"{300 + i % 90} days", STATUSES_LA[i % 5]
        price = f"{10_000_000 + i * 13_579:,}.00"
        rows.append(
            f"<tr><td class='center'>{i}</td><td>{name}</td><td class='number'>{price}</td>"
            f"<td class='center'>{duration}</td><td class='center'>{status}</td></tr>"
        )
    if chinese:
        title, head = "开标记录", ("序号", "投标人", "投标报价（元）", "工期", "解密状态")
        ref = "项目编号：JS-2026-0001 示例市政道路工程施工"
    else:
        title, head = "Opening record", ("No.", "Bidder", "Price (CNY)", "Duration", "Decryption")
        ref = "Project JS-2026-0001 municipal road works"
    header = "".join(f"<th>{h}</th>" for h in head)
    return (
        "<!doctype html><html><head><meta charset='utf-8'></head><body>"
        f"<h1>{title}</h1><p class='doc-ref'>{ref}</p>"
        f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<div class='signatures'></div></body></html>"
    )


def timed(fn: Callable[[], bytes]) -> tuple[float, bytes]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def median(fn: Callable[[], bytes], runs: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        elapsed, pdf = timed(fn)
        times.append(elapsed)
        size = len(pdf)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cache", type=Path, help="font cache (default: a fresh one, so the cold time is real)")
    args = parser.parse_args()
    cache = args.cache or Path(tempfile.mkdtemp(prefix="ggzy-bench-fonts-"))

    latin_html = one_page(PARAGRAPH_LA, "Opening record")
    latin = lambda: weasyprint.HTML(string=latin_html).write_pdf()  # noqa: E731
    timed(latin)  # warm WeasyPrint's own imports and caches

    zh_page = one_page(PARAGRAPH_ZH, "开标记录")
    start = time.perf_counter()
    render.warm_up(cache)
    build = time.perf_counter() - start
    cold, _ = timed(lambda: render.render_pdf(zh_page))

    floor, floor_size = median(latin, args.runs)
    zh_record, la_record = opening_record(chinese=True), opening_record(chinese=False)
    system_html = zh_page.replace("<head>", "<head><style>body { font-family: 'Noto Sans CJK SC' }</style>")
    system = lambda: weasyprint.HTML(string=system_html).write_pdf()  # noqa: E731
    figures = [
        ("Latin one page, WeasyPrint (floor)", floor, floor_size),
        ("Chinese one page", *median(lambda: render.render_pdf(zh_page), args.runs)),
        ("Latin one page, kernel renderer", *median(lambda: render.render_pdf(latin_html), args.runs)),
        ("Chinese opening record, 300 bidders", *median(lambda: render.render_pdf(zh_record), args.runs)),
        ("Latin opening record, 300 bidders", *median(lambda: render.render_pdf(la_record), args.runs)),
        ("Chinese one page, full system Noto CJK", *median(system, args.runs)),
    ]
    print(f"font subsets built (cold, once per cache): {build:.2f} s; first Chinese page after that: {cold:.3f} s")
    print(f"{'figure':<42} {'median':>9} {'PDF':>9} {'× floor':>8}")
    for name, seconds, size in figures:
        print(f"{name:<42} {seconds * 1000:7.0f} ms {size / 1024:7.0f} kB {seconds / floor:7.1f}×")
    record, latin_record = figures[3][1], figures[4][1]
    print(f"Chinese/Latin, same 300-bidder record through the kernel renderer: {record / latin_record:.2f}×")
    print(f"aim: Chinese one page under 3× the Latin floor: {'met' if figures[1][1] < 3 * floor else 'NOT met'}")


if __name__ == "__main__":
    main()
