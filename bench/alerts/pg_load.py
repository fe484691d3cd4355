"""A simulated market COPied into ggzy's own tables, for the market batch's bench and its test.

    .venv/bin/python bench/alerts/pg_load.py --tenders 100000        # into ggzy_bench_alerts

Only the rows the market batch reads, with the columns their tables require: one user, the
organisations (the simulator's bidder pool and buyers), tenders, lots, bids with one submission
version each, an opening per tender (closed) with its rows (read out with a signed total price and
its number in ``total_price``, a few revoked), and per lot an evaluation and an award naming the
winner (the lowest bid, as the simulator says). The market's shape is
`bidding.integrity.simulator.iter_simulated`'s: a bidder pool, five cartels (cover bidding, a
rotation ring, copied prices …) and honest competition.

Rows go in with asyncpg's binary COPY (`copy_records_to_table`), foreign keys not checked while
loading (``session_replication_role = replica``: the rows are made consistent here). This is a
bench tool, not a way to put data into a live platform (`bidding.integrity.simulator_load` is).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bidding.integrity.simulator import iter_simulated  # noqa: E402
from bidding.opening.models import read_out_total  # noqa: E402

BENCH_DB = "ggzy_bench_alerts"
SERVER = "postgresql://postgres@127.0.0.1:5432"
_T0 = datetime(2025, 1, 1, tzinfo=UTC)

COLUMNS: dict[str, tuple[str, ...]] = {
    "parties_users": ("id", "username", "display_name", "password_hash", "locale", "active", "totp_enabled"),
    "parties_organisations": ("id", "uscc", "name", "kind", "region_code", "status"),
    "bidding_tenders": (
        "id", "project_code", "title", "category", "tender_type", "status", "tenderee_organisation_id",
        "created_by", "estimate", "bid_security_amount", "bid_security_forms", "evaluation_method",
        "evaluation_criteria", "deadline", "decryption_window_minutes", "bid_validity_days",
        "max_package_bytes", "key_holders", "extensions", "created_at", "updated_at",
    ),
    "bidding_lots": ("id", "tender_id", "code", "name", "estimate", "position"),
    "bidding_bids": (
        "id", "tender_id", "lot_id", "organisation_id", "status", "current_version_id", "versions",
        "created_at", "updated_at",
    ),
    "bidding_bid_versions": (
        "id", "bid_id", "number", "kind", "receipt_no", "received_at", "submitted_by", "receipt",
        "receipt_signature",
    ),
    "bidding_opening_sessions": (
        "id", "tender_id", "host_organisation_id", "stage", "stage_started_at", "lots", "timeline",
        "created_at", "updated_at", "closed_at",
    ),
    "bidding_opening_bids": (
        "id", "session_id", "bid_id", "version_id", "lot_id", "organisation_id", "bidder_uscc", "bidder_name",
        "price_status", "price_summary", "total_price", "price_opened_at", "package_status", "outcome",
        "failed_attempts", "updated_at",
    ),
    "evaluation_evaluations": (
        "id", "tender_id", "lot_group", "lot_ids", "host_organisation_id", "method", "method_version",
        "settings", "committee_spec", "state", "state_entered_at", "created_by", "created_at", "updated_at",
    ),
    "award_awards": (
        "id", "tender_id", "evaluation_id", "lot_group", "sector", "rules_version", "rules", "state",
        "objections_pending", "complaints_pending", "suspended", "report_sha256", "report_published_at",
        "passed_over", "chosen_organisation_id", "awarded_at", "created_at", "updated_at",
    ),
}  # fmt: skip


@dataclass
class Rows:
    """The rows of each table, in COPY order (a table's foreign keys point to earlier tables)."""

    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {name: [] for name in COLUMNS})
    tenders: int = 0
    lots: int = 0
    bids: int = 0


def market_rows(seed: int, tenders: int, *, bidders: int = 5000, buyers: int = 500, odd_prices: bool = False) -> Rows:
    """The rows of a simulated market of ``tenders`` tenders (about 1.6 lots and 11 bids each).

    ``odd_prices``: also rows the batch must read as the opening does — revoked bids, a total
    price missing, zero, unparseable, a JSON number, written with an underscore (Python reads it).
    """
    whole = Rows()
    for part in iter_market_rows(seed, tenders, bidders=bidders, buyers=buyers, odd_prices=odd_prices):
        for name, records in part.tables.items():
            whole.tables[name].extend(records)
        whole.tenders += part.tenders
        whole.lots += part.lots
        whole.bids += part.bids
    return whole


def iter_market_rows(  # noqa: PLR0915 - one row builder per table, kept together
    seed: int,
    tenders: int,
    *,
    bidders: int = 5000,
    buyers: int = 500,
    odd_prices: bool = False,
    chunk: int = 10_000,
) -> Iterator[Rows]:
    """`market_rows` in parts of ``chunk`` tenders (a full market's rows would take gigabytes)."""
    rows = Rows()
    t = rows.tables
    done = 0
    user = uuid.uuid4()
    t["parties_users"].append((user, f"bench-{user.hex[:8]}", "bench", "!", "zh_CN", True, False))
    orgs: dict[str, tuple[uuid.UUID, str, str]] = {}

    def org(name: str) -> tuple[uuid.UUID, str, str]:
        found = orgs.get(name)
        if found is None:
            found = (uuid.uuid4(), f"91{uuid.uuid4().hex[:16].upper()}", f"{name} {seed}")
            orgs[name] = found
            kind = "purchaser_unit" if name.startswith("SIM-P") else "enterprise"
            t["parties_organisations"].append((found[0], found[1], found[2], kind, "320100", "active"))
        return found

    host = org("SIM-HOST")
    tender_of: dict[str, tuple[uuid.UUID, uuid.UUID, list[Any]]] = {}
    simulated = iter_simulated(seed, tenders * 2, bidders=bidders, buyers=buyers, texts=False)
    odd = iter(_odd_summaries()) if odd_prices else None
    for item in simulated:
        lot = item.bids
        if lot.ocid not in tender_of:
            if done + rows.tenders == tenders:
                break
            if rows.tenders == chunk:
                yield rows
                done += rows.tenders
                rows = Rows()
                t = rows.tables
                tender_of.clear()
            tender_id, session_id = uuid.uuid4(), uuid.uuid4()
            deadline = datetime(lot.date.year, lot.date.month, lot.date.day, 9, 30, tzinfo=UTC) if lot.date else _T0
            category = (lot.market or "engineering|").split("|")[0].split(":")[0]
            category = category if category in {"engineering", "goods", "services"} else "engineering"
            row = [
                tender_id, lot.ocid, f"bench {lot.ocid}", category, "open", "closed", org(lot.buyer or "SIM-P0")[0],
                user, lot.estimate or 1e6, 0, "[]", "comprehensive", "[]", deadline, 60, 90, 1 << 30, "[]", 0,
                deadline, deadline,
            ]  # fmt: skip
            t["bidding_tenders"].append(tuple(row))
            t["bidding_opening_sessions"].append(
                (session_id, tender_id, host[0], "closed", deadline, "{}", "{}", deadline, deadline, deadline)
            )
            tender_of[lot.ocid] = (tender_id, session_id, row)
            rows.tenders += 1
        tender_id, session_id, tender_row = tender_of[lot.ocid]
        deadline = tender_row[13]
        lot_id = uuid.uuid4()
        code = lot.lot or "1"
        t["bidding_lots"].append((lot_id, tender_id, code, f"lot {code}", lot.estimate or 1e6, int(code)))
        rows.lots += 1
        for bid in lot.bids:
            bidder = org(bid.bidder)
            bid_id, version_id = uuid.uuid4(), uuid.uuid4()
            at = bid.submitted_at or deadline
            t["bidding_bids"].append((bid_id, tender_id, lot_id, bidder[0], "submitted", version_id, 1, at, at))
            t["bidding_bid_versions"].append((version_id, bid_id, 1, "submission", version_id.hex, at, user, b"", b""))
            summary: str | None = json.dumps({"currency": "CNY", "totalPrice": f"{bid.amount:.2f}"})
            outcome = "decrypted"
            if odd is not None and rows.bids % 7 == 3:
                outcome, summary = next(odd)
            t["bidding_opening_bids"].append(
                (uuid.uuid4(), session_id, bid_id, version_id, lot_id, bidder[0], bidder[1], bidder[2], "opened",
                 summary, _total(summary), deadline, "opened", outcome, 0, deadline)
            )  # fmt: skip
            rows.bids += 1
        if lot.winner is not None:
            evaluation_id = uuid.uuid4()
            group = "all" if lot.lot is None else code
            t["evaluation_evaluations"].append(
                (evaluation_id, tender_id, group, json.dumps({"ids": [str(lot_id)]}), host[0], "comprehensive", "1",
                 "{}", "{}", "completed", deadline, user, deadline, deadline)
            )  # fmt: skip
            t["award_awards"].append(
                (uuid.uuid4(), tender_id, evaluation_id, group, "engineering", "1", "{}", "awarded", 0, 0, False,
                 "0" * 64, deadline, "[]", org(lot.winner)[0], deadline, deadline, deadline)
            )  # fmt: skip
    yield rows


def _total(summary: str | None) -> float | None:
    """``total_price`` as the opening sets it with the summary (`OpeningBid._total_with_summary`)."""
    return read_out_total(json.loads(summary)) if summary is not None else None


def _odd_summaries() -> Iterator[tuple[str, str | None]]:
    """What the opening may have read: each is left out of the market except the last three."""
    while True:
        yield "revoked", json.dumps({"totalPrice": "1000.00"})
        yield "withdrawn", None
        yield "decrypted", None
        yield "decrypted", json.dumps({"currency": "CNY"})
        yield "decrypted", json.dumps({"totalPrice": "0"})
        yield "decrypted", json.dumps({"totalPrice": "-5"})
        yield "decrypted", json.dumps({"totalPrice": "abc"})
        yield "decrypted", json.dumps({"totalPrice": "NaN"})
        yield "decrypted", json.dumps({"totalPrice": True})
        yield "escrow", json.dumps({"totalPrice": 1234567.5})  # a JSON number
        yield "decrypted", json.dumps({"totalPrice": "1_000.5"})  # Decimal reads it
        yield "decrypted", json.dumps({"totalPrice": " 2500.75 "})


async def copy_rows(connection: asyncpg.Connection, rows: Rows) -> None:
    """COPY every table's rows, foreign keys unchecked (the rows are consistent by construction)."""
    await connection.execute("SET session_replication_role = replica")
    try:
        for table, records in rows.tables.items():
            if records:
                await connection.copy_records_to_table(table, records=records, columns=list(COLUMNS[table]))
    finally:
        await connection.execute("SET session_replication_role = DEFAULT")


async def ensure_database(name: str, *, fresh: bool) -> str:
    """The bench database (created from the migrations when missing, or ``fresh``); its URL."""
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and fresh:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
            created = True
        else:
            created = False
    finally:
        await admin.close()
    if created:
        from alembic import command

        from trading.server.cli import alembic_config

        await asyncio.to_thread(
            command.upgrade, alembic_config(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"), "head"
        )
    return f"{SERVER}/{name}"


async def loaded_tenders(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM bidding_opening_sessions"))
    finally:
        await connection.close()


async def load(url: str, tenders: int, seed: int) -> Rows:
    connection = await asyncpg.connect(url)
    try:
        total = Rows()
        for rows in iter_market_rows(seed, tenders):
            await copy_rows(connection, rows)
            total.tenders += rows.tenders
            total.lots += rows.lots
            total.bids += rows.bids
            print(f"  {total.tenders:,} tenders, {total.bids:,} bids", flush=True)
        await connection.execute("ANALYZE")
        return total
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--db", default=BENCH_DB)
    parser.add_argument("--fresh", action="store_true", help="drop and re-create the database first")
    args = parser.parse_args()
    url = asyncio.run(ensure_database(args.db, fresh=args.fresh))
    began = time.perf_counter()
    rows = asyncio.run(load(url, args.tenders, args.seed))
    took = time.perf_counter() - began
    print(f"loaded {rows.tenders:,} tenders, {rows.lots:,} lots, {rows.bids:,} bids in {took:.0f} s")


if __name__ == "__main__":
    main()
