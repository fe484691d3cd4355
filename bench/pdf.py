"""PDF rendering: Chinese records with the kernel's cached CJK subsets against a Latin floor.

Floor: WeasyPrint rendering a one-page Latin document (its default fonts, no kernel stylesheet),
measured in the same run. Measured with `trading.kernel.pdf.render.render_pdf`: a one-page
Chinese document, and an opening-record-like document (a table of 300 bidders: name, price,
duration, status; ~9 pages); its Latin twin through the same renderer separates table layout
from font cost. Cold = the first render in a fresh font cache (the subsets are built); warm =
medians of ``--runs`` renders after that. Aim (issue 5): the Chinese opening record under 3× the
Latin floor.

Last, the real opening record: `bidding.opening.record.render_record` (its template and the kernel
renderer) on a `record_data`-shaped record of ``--bids`` synthetic bids (`record_fixture`:
Chinese company names, prices, decrypted/revoked/withdrawn/escrow outcomes with their causes, two
objections with answers, confirmations), median of ``--runs``, with its page count and its
ratio to the Latin floor measured again next to it.

    .venv/bin/python bench/pdf.py [--runs 7] [--bids 300] [--cache DIR]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

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


CITIES = ("南京", "苏州", "无锡", "常州", "扬州", "徐州", "南通", "盐城", "淮安", "镇江")
FIRMS = ("恒达", "宏远", "中建", "华泰", "金陵", "汇通", "永固", "通达")
TRADES = ("建设工程", "市政工程", "路桥建设", "建筑安装", "水利水电", "交通工程")
SUFFIXES = ("有限公司", "集团有限公司", "股份有限公司")
HOST = "南京市某某招标代理有限公司"
INCIDENT = "平台解密服务故障（主持人已记录）"


def record_fixture(bids: int = 300) -> dict[str, Any]:
    """A `bidding.opening.record.record_data`-shaped record: one lot of ``bids`` bids, most
    decrypted, some revoked, withdrawn or opened via escrow (each with its Chinese cause), two
    objections with their answers, confirmations (three in four confirmed), the full timeline.
    """
    from bidding.opening.record import OUTCOME_LABELS, money, outcome_text, stage_times

    key_holders = {"n": 5, "k": 3, "remedy": True}
    start = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)

    def at(minutes: int) -> str:
        return (start + timedelta(minutes=minutes)).isoformat()

    outcomes = ("decrypted",) * 7 + ("revoked", "escrow", "withdrawn")
    lot_bids, confirmations = [], []
    for i in range(1, bids + 1):
        name = f"江苏{CITIES[i % 10]}{FIRMS[i % 8]}{TRADES[i % 6]}{SUFFIXES[i % 3]}"
        uscc = f"91320{100000 + i:06d}MA{i:04d}X"
        outcome = outcomes[i % 10]
        read_out = outcome in {"decrypted", "escrow"}
        bid: dict[str, Any] = {
            "lot": "001",
            "bidder": uscc,
            "bidderName": name,
            "outcome": outcome,
            "cause": "escrow incomplete" if outcome == "withdrawn" and i % 20 == 9 else None,
            "incident": {"cause": INCIDENT} if outcome in {"escrow", "withdrawn"} else None,
            "priceOpenedAt": at(20) if outcome != "revoked" or i % 20 else None,
            "totalPrice": str(Decimal(10_000_000 + i * 13_579)) if read_out else None,
            "durationDays": 300 + i % 90 if read_out else None,
            "guarantee": {"form": "保函", "reference": f"BH-2026-{i:04d}"}
            if i % 3
            else {"form": "现金（转账）", "reference": ""},
            "receiptNo": f"R-2026-{i:06d}",
        }
        bid["outcomeLabel"] = OUTCOME_LABELS[outcome]
        bid["outcomeText"] = outcome_text(bid, key_holders)
        bid["price"] = money(bid["totalPrice"])
        bid["duration"] = "" if bid["durationDays"] is None else str(bid["durationDays"])
        lot_bids.append(bid)
        confirmed = i % 4 != 0
        confirmations.append(
            {"bidder": uscc, "bidderName": name, "confirmed": confirmed, "confirmedAt": at(55) if confirmed else None}
        )
    timeline = [
        {"event": "created", "at": at(0)},
        {"event": "stage", "stage": "decryption", "previous": "sign-in", "at": at(15)},
        {"event": "stage", "stage": "price-reading", "previous": "decryption", "at": at(45)},
        {"event": "stage", "stage": "confirmation", "previous": "price-reading", "at": at(50)},
        {"event": "stage", "stage": "closed", "previous": "confirmation", "at": at(80)},
    ]
    events = [
        (0, "投标截止，开标开始，进入签到", "系统（数据库时钟）"),
        (15, "签到阶段结束，进入解密阶段", "系统（数据库时钟）"),
        (25, "主持人暂停（解密阶段，剩余 1200 秒）：网络波动，稍后继续", HOST),
        (30, "主持人恢复（解密阶段，暂停 300 秒）", HOST),
        (45, "解密时限届满，未解密的投标按原因确定结果", "系统（数据库时钟）"),
        (45, "解密阶段结束，进入唱标阶段", "系统（数据库时钟）"),
        (50, "唱标阶段结束，进入确认及异议阶段", HOST),
        (80, "确认及异议阶段结束，进入结束阶段", "系统（数据库时钟）"),
    ]
    objections = [
        {
            "bidder": lot_bids[0]["bidderName"],
            "text": "我单位对第三名投标人的报价有异议：其工期明显短于招标文件要求，请主持人核实。",
            "filedAt": at(52),
            "answer": "经核实，该投标人工期满足招标文件要求，唱标内容以开标一览表为准，异议不成立。",
            "answeredAt": at(60),
        },
        {
            "bidder": lot_bids[1 % bids]["bidderName"],
            "text": "解密阶段平台出现短暂故障，请说明是否影响我单位的解密结果。",
            "filedAt": at(53),
            "answer": "故障期间开标已暂停并顺延解密时限，贵单位已在时限内成功解密，结果不受影响。",
            "answeredAt": at(62),
        },
    ]
    return {
        "tender": {
            "code": "JS-2026-0001",
            "title": "某某市政道路改造工程施工",
            "category": "engineering",
            "deadline": at(0),
            "tenderee": "南京市某某区住房和城乡建设局",
            "agency": HOST,
            "keyHolders": key_holders,
        },
        "lots": [
            {"code": "001", "name": "施工一标段", "estimate": "50000000.00", "bids": bids, "status": "opened"},
        ],
        "host": {"organisation": HOST, "uscc": "91320100MA1XXXXX0A"},
        "stage": "closed",
        "failedReason": None,
        "createdAt": at(0),
        "closedAt": at(80),
        "timeline": timeline,
        "bids": lot_bids,
        "objections": objections,
        "confirmations": sorted(confirmations, key=lambda c: c["bidderName"]),
        "ledger": {"chain": "project:JS-2026-0001", "head": "ab" * 32, "sequence": 4321},
        "priceTableSha256": "cd" * 32,
        "lotBids": {"001": lot_bids},
        "stageTimes": stage_times(timeline, at(80)),
        "events": [{"at": local(at(m)), "text": text, "by": by} for m, text, by in events],
        "categoryLabel": "工程",
        "dataSha256": "ef" * 32,
    }


def local(value: str) -> str:
    from bidding.opening.record import local_time

    return local_time(value)


def page_count(pdf: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(pdf), strict=False).root["/Pages"]["/Count"])


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


def cpu_median(fn: Callable[[], bytes], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--bids", type=int, default=300, help="bids in the real opening record (default 300)")
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

    # The real record: bidding/opening/record.py's template and renderer on record_data-shaped data.
    from bidding.opening.record import render_record

    data, generated_at = record_fixture(args.bids), datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    pdf = render_record(data, generated_at=generated_at)  # warm (template compilation)
    floor, _ = median(latin, args.runs)  # again, next to the record
    cpu_floor = cpu_median(latin, args.runs)
    seconds, size = median(lambda: render_record(data, generated_at=generated_at), args.runs)
    cpu = cpu_median(lambda: render_record(data, generated_at=generated_at), args.runs)
    print(
        f"opening record (render_record), {args.bids} bids: {seconds * 1000:.0f} ms, {page_count(pdf)} pages,"
        f" {size / 1024:.0f} kB; Latin floor {floor * 1000:.0f} ms; {seconds / floor:.1f}× floor"
        f" (aim under 3×: {'met' if seconds < 3 * floor else 'NOT met'})"
    )
    # On a shared machine wall time varies with the neighbours' load; CPU time of this process less so.
    print(
        f"  same in CPU time: record {cpu * 1000:.0f} ms, Latin floor {cpu_floor * 1000:.0f} ms,"
        f" {cpu / cpu_floor:.1f}× floor"
    )


if __name__ == "__main__":
    main()
