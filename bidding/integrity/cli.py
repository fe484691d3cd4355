"""``ggzy alerts``: the integrity screens' commands that need no platform.

- ``ggzy alerts simulate --seed N [--lots K] [--out package.json]``: a simulated market with planted
  cartels, written as an OCDS 1.1 release package (to ``--out``, else nowhere); prints what was planted.
  ``--load`` also writes it into the configured database's own tables (`simulator_load`; refused in
  production mode) and screens it as the platform does (each opening, then the market batch; not
  with ``--no-screen``): the one subcommand here that needs the platform.
- ``ggzy alerts ocds-inspect PACKAGE``: what the OCDS reader makes of a package, lot by lot, and the
  unusable records with their reasons.
- ``ggzy alerts screen --ocds PACKAGE [--out alerts.jsonl]``: the price and market screens over any
  platform's OCDS package: one JSON object per line (alerts, a summary of every lot screened, every
  lot that could not be screened with its reason); what could and could not be screened on stderr.
- ``ggzy alerts evaluate --simulate --seed N [--lots K]``: precision and recall per rule and for the
  combined lot flag on a freshly simulated market.

Exit status: 0 on success, 2 when the package cannot be read as JSON or the arguments are wrong.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import click
import ijson

from bidding.integrity.ocds import NOT_PRICE_COMPETITIVE, Unusable, read_lots
from bidding.integrity.offline import Tally, evaluate_simulated, screen_ocds
from bidding.integrity.screens.rules import load_catalogue
from bidding.integrity.simulator import COVER_BIDDING, KINDS, SimulatedLot, iter_simulated, party_names, to_ocds_package


class Unreadable(click.ClickException):
    exit_code = 2


@click.group()
def alerts() -> None:
    """Integrity alerts (bidding/integrity): the simulator and the OCDS reader."""


@alerts.command("simulate")
@click.option("--seed", type=int, required=True, help="The simulation's seed: the same seed, the same market.")
@click.option("--lots", type=click.IntRange(1, 1_000_000), default=400, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None)
@click.option("--load", is_flag=True, help="Also load it into the configured database (not in production).")
@click.option("--screen/--no-screen", default=True, show_default=True, help="With --load: run the platform's screens.")
def simulate_command(seed: int, lots: int, out: Path | None, load: bool, screen: bool) -> None:  # noqa: FBT001 - click flags
    """Simulate a market with planted cartels; write it as an OCDS package with --out, into the
    platform's tables with --load.

    Streams: the lots are generated, counted and written one at a time (the package carries no
    document texts, so none are generated), so a large --lots runs in flat memory.
    """
    planted: Counter[str] = Counter()
    counts = Counter[str]()

    def counted() -> Iterator[SimulatedLot]:
        for item in iter_simulated(seed, lots, texts=False):
            planted.update(item.truth.kinds)
            counts["lots"] += 1
            counts["bids"] += len(item.bids.bids)
            counts["honest"] += not item.truth.kinds
            counts["traces"] += item.truth.price_traces
            yield item

    if out is None:
        for _item in counted():
            pass
    else:
        with out.open("wb") as sink:
            for chunk in to_ocds_package(counted(), names=party_names(seed)):
                sink.write(chunk)
    click.echo(f"模拟市场（种子 {seed}）：{counts['lots']} 个标段，{counts['bids']} 份有效投标")
    click.echo(f"  诚实竞争标段：{counts['honest']}")
    for kind in KINDS:
        within = "（含轮流中标的标段：轮流中标以陪标实施）" if kind == COVER_BIDDING else ""
        click.echo(f"  {kind}: {planted.get(kind, 0)} 个标段{within}")
    click.echo(f"  留有价格痕迹的串通标段：{counts['traces']}")
    if out is not None:
        click.echo(f"OCDS 1.1 发布包（投标、标段扩展）已写入 {out}")
    if load:
        _load(seed, lots, screen=screen)


def _load(seed: int, lots: int, *, screen: bool) -> None:
    import asyncio  # noqa: PLC0415 - only --load needs the platform (the other commands run without it)

    from bidding.integrity.simulator_load import SimulationRefused, load_with_settings  # noqa: PLC0415
    from trading.kernel.settings import get_settings  # noqa: PLC0415

    try:
        report = asyncio.run(load_with_settings(seed, lots, get_settings(), screen=screen))
    except SimulationRefused as refused:
        raise click.ClickException(str(refused)) from None
    loaded = report.loaded
    click.echo(
        f"已载入数据库：{len(loaded.codes) - len(loaded.skipped)} 个项目，{loaded.bids} 份投标"
        f"（已存在而未改动的项目 {len(loaded.skipped)} 个）"
    )
    if report.screened is not None:
        failed = "、".join(sorted(set(report.screened.failed))) or "无"
        click.echo(
            f"平台筛查：{report.screened.lots} 次标段筛查，预警 {report.screened.alerts} 条，失败的筛查器：{failed}"
        )


@alerts.command("ocds-inspect")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ocds_inspect(package: Path) -> None:
    """Print what the OCDS reader finds in PACKAGE, lot by lot, and why a lot cannot be screened."""
    lots = bids = unusable = 0
    try:
        with package.open("rb") as stream:
            for result in read_lots(stream):
                if isinstance(result, Unusable):
                    unusable += 1
                    click.echo(f"不可用  {result.ocid}  标段 {result.lot or '—'}：{result.reason}")
                    continue
                lots += 1
                bids += len(result.bids)
                note = "（非价格竞争，价格筛查不适用）" if result.price_formula == NOT_PRICE_COMPETITIVE else ""
                click.echo(
                    f"标段    {result.ocid}  标段 {result.lot or '—'}：{len(result.bids)} 份有效投标，"
                    f"币种 {result.currency or '—'}，控制价 {result.estimate if result.estimate is not None else '—'}，"
                    f"中标人 {result.winner or '—'}，市场 {result.market or '—'}{note}"
                )
    except ijson.JSONError as error:
        raise Unreadable(f"{package}: not a JSON package ({error})") from error
    click.echo(f"合计：可筛查标段 {lots} 个（{bids} 份有效投标），不可用 {unusable} 个")


@alerts.command("screen")
@click.option(
    "--ocds",
    "package",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="An OCDS 1.1 release or record package (bids and lots extensions).",
)
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None)
@click.option("--no-market", is_flag=True, help="Only the per-lot screens (no market state is kept).")
def screen_command(package: Path, out: Path | None, no_market: bool) -> None:  # noqa: FBT001 - a click flag
    """Screen every lot of an OCDS package and the market it makes up; one JSON object per line.

    Streams the package (memory flat in its size). Lots that cannot be screened are reported with
    the reason, never fatal; a package that is not JSON exits with status 2.
    """
    tally = Tally()
    rules = load_catalogue()
    sink = out.open("w", encoding="utf-8") if out is not None else sys.stdout
    try:
        with package.open("rb") as stream:
            for record in screen_ocds(stream, rules, tally, with_market=not no_market):
                sink.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    except ijson.JSONError as error:
        raise Unreadable(f"{package}: not a JSON package ({error})") from error
    finally:
        if out is not None:
            sink.close()
    _report(tally)


def _report(tally: Tally) -> None:
    """What could and could not be screened, on stderr (stdout may be the alerts)."""

    def echo(text: str) -> None:
        click.echo(text, err=True)

    echo(f"已筛查标段 {tally.lots} 个（{tally.bids} 份有效投标），综合标记 {tally.flagged} 个")
    for reason, count in sorted(tally.not_screened.items()):
        echo(f"  未做价格筛查 {count} 个：{reason}")
    for reason, count in sorted(tally.unusable.items(), key=lambda item: -item[1]):
        echo(f"  无法筛查 {count} 个：{reason}")
    for reason, count in sorted(tally.market_notes.items()):
        echo(f"  市场筛查 {count} 个：{reason}")
    for rule, count in sorted(tally.alerts.items()):
        echo(f"  预警 {rule}: {count}")


@alerts.command("evaluate")
@click.option("--simulate", is_flag=True, required=True, help="Evaluate on a simulated market (the only source).")
@click.option("--seed", type=int, required=True, help="A seed not used to calibrate the thresholds.")
@click.option("--lots", type=click.IntRange(10, 100_000), default=1000, show_default=True)
def evaluate_command(simulate: bool, seed: int, lots: int) -> None:  # noqa: FBT001 - a click flag
    """Precision and recall of every screen on a simulated market with planted cartels."""
    if not simulate:
        raise click.UsageError("--simulate is required: the simulator is the only labelled source")
    evaluation = evaluate_simulated(seed, lots, load_catalogue())
    click.echo(f"模拟市场（种子 {seed}）：{evaluation.lots} 个标段，{evaluation.bids} 份有效投标")
    click.echo(evaluation.report.to_text())
