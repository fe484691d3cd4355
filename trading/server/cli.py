"""The ``ggzy`` command line: serve, worker, beat, database, ledger, settings and demo data."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import click
from alembic import command
from alembic.config import Config

from certs.agent.cli import agent
from procurement.negative_list.cli import check as procurement_check
from trading.kernel.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    if url:
        config.attributes["url"] = url
    return config


class _LazyGroup(click.Group):
    """A group that imports the subcommands named in `LAZY_COMMANDS` only when one is asked for
    (run, or listed by ``--help``): ``ggzy bid`` and ``ggzy alerts`` bring in the bidder client and
    the offline screens (NumPy, datasketch, jieba), seconds of start-up every other command (``serve``,
    ``ledger``, ``db``) would pay for nothing.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module, _, name = LAZY_COMMANDS[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)


LAZY_COMMANDS = {
    "bid": "bidding.client.cli:bid",
    "alerts": "bidding.integrity.cli:alerts",
}
"""Subcommand name: ``module:attribute`` of its click command."""


@click.group(cls=_LazyGroup)
def main() -> None:
    """ggzy: public resource trading and government procurement platform."""


main.add_command(agent)


# --- settings -------------------------------------------------------------------------------


@main.group()
def config() -> None:
    """Inspect settings."""


@config.command("show")
def config_show() -> None:
    """Print the effective settings (from GGZY_* variables), secrets masked."""
    click.echo(json.dumps(get_settings().masked(), indent=2, ensure_ascii=False))


# --- database -------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION on the configured database."""
    command.upgrade(alembic_config(), revision)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    command.downgrade(alembic_config(), revision)


@db.command("check")
def db_check() -> None:
    """Fail when the models and the migrations disagree (run by CI)."""
    command.check(alembic_config())


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (review it before committing)."""
    command.revision(alembic_config(), message=message, autogenerate=True)


@db.command("grant-app-role")
@click.argument("role")
def db_grant_app_role(role: str) -> None:
    """Let ROLE run the application without owning the tables (run as the owner after upgrade).

    ROLE may read and write the tables but only append to the ledger; as it owns no table it
    cannot disable the ledger's append-only triggers. PostgreSQL only.
    """
    import asyncio  # noqa: PLC0415 - only this database command runs async code

    from trading.kernel.db.engine import create_engine  # noqa: PLC0415
    from trading.server.dbroles import RoleRefused, grant_app_role  # noqa: PLC0415

    async def run() -> list[str]:
        engine = create_engine(get_settings().db.url, pool_size=1)
        try:
            if engine.dialect.name != "postgresql":
                msg = "roles are a PostgreSQL matter; SQLite has no users"
                raise RoleRefused(msg)
            async with engine.begin() as connection:
                return await grant_app_role(connection, role)
        finally:
            await engine.dispose()

    try:
        statements = asyncio.run(run())
    except RoleRefused as exc:
        raise click.ClickException(str(exc)) from None
    for statement in statements:
        click.echo(f"{statement};")
    click.echo(f"role {role} may now run the application; it cannot change or disable the ledger")


# --- audit ledger ---------------------------------------------------------------------------


@main.group()
def ledger() -> None:
    """Audit ledger: verify the hash chains and checkpoints, sign a checkpoint."""


@ledger.command("verify")
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM public key to trust for checkpoints (default: the configured platform key)",
)
@click.option(
    "--against",
    "copies",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="your own copy of a published checkpoint (CHECKPOINT.json from "
    "GET /api/v1/ledger/checkpoints/latest; also a JSON array or JSON lines of them)",
)
@click.option("--json", "as_json", is_flag=True, help="print the full report as JSON")
def ledger_verify(public_keys: tuple[Path, ...], copies: tuple[Path, ...], as_json: bool) -> None:  # noqa: FBT001 - click flag
    """Recompute every chain and checkpoint; exit 1 naming the first broken entry.

    With --against, the database must still hold the checkpoint you kept, unchanged, and every
    entry it signed: deleted tails, deleted or rewritten checkpoints and re-hashed edits fail,
    the first changed entry named at its own seq.
    """
    import asyncio  # noqa: PLC0415 - only the ledger commands run async code here

    from trading.ledger.errors import CheckpointFileInvalid  # noqa: PLC0415
    from trading.ledger.jobs import load_checkpoint_copies, verify_with_settings  # noqa: PLC0415

    against: list[dict[str, object]] = []
    for path in copies:
        try:
            against.extend(load_checkpoint_copies(path.read_bytes()))
        except CheckpointFileInvalid as exc:
            raise click.BadParameter(f"{path}: {exc}", param_hint="--against") from None
    try:
        report = asyncio.run(
            verify_with_settings(extra_public_key_pems=[path.read_bytes() for path in public_keys], against=against)
        )
    except CheckpointFileInvalid as exc:
        raise click.BadParameter(str(exc), param_hint="--against") from None
    click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) if as_json else report.summary())
    sys.exit(0 if report.ok else 1)


@ledger.command("checkpoint")
def ledger_checkpoint() -> None:
    """Sign the chain heads that moved since the last checkpoint (does nothing if none moved)."""
    import asyncio  # noqa: PLC0415 - only the ledger commands run async code here

    from trading.ledger.jobs import checkpoint_with_settings  # noqa: PLC0415
    from trading.server.wiring import use_platform_tsa  # noqa: PLC0415

    settings = get_settings()
    use_platform_tsa(settings)
    result = asyncio.run(checkpoint_with_settings(settings))
    if result["checkpoint"] is None:
        click.echo("no chain head moved since the last checkpoint; nothing signed")
    else:
        click.echo(f"checkpoint {result['checkpoint']} signed {result['chains']} chain heads")


@ledger.command("published-checkpoint")
def ledger_published_checkpoint() -> None:
    """Print the latest published checkpoint (what GET /api/v1/ledger/checkpoints/latest answers)."""
    import asyncio  # noqa: PLC0415 - only the ledger commands run async code here

    from trading.ledger.jobs import published_with_settings  # noqa: PLC0415

    published = asyncio.run(published_with_settings())
    if published is None:
        click.echo("no checkpoint has been published yet", err=True)
        sys.exit(1)
    click.echo(json.dumps(published, indent=2, ensure_ascii=False))


# --- tenders --------------------------------------------------------------------------------


@main.group()
def tender() -> None:
    """Tenders: the electronic archive (电子档案)."""


@tender.command("archive")
@click.argument("code")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="where to write a copy of the archive (ZIP); check it with python -m bidding.award.verify",
)
def tender_archive(code: str, out: Path) -> None:
    """Write the tender's next archive version: stored once, recorded in the ledger, copied to OUT."""
    import asyncio  # noqa: PLC0415 - only this command runs async code here

    from bidding.award.archive.builder import archive_with_settings  # noqa: PLC0415
    from trading.kernel.errors import DomainError  # noqa: PLC0415
    from trading.server.wiring import use_platform_tsa  # noqa: PLC0415

    settings = get_settings()
    use_platform_tsa(settings)
    try:
        built, data = asyncio.run(archive_with_settings(settings, code))
    except DomainError as exc:
        raise click.ClickException(f"{exc.message} ({exc.field}: {exc.rule})") from None
    out.write_bytes(data)
    click.echo(
        f"archive version {built.version} of {code}: {built.files} files, {built.entries} ledger entries, "
        f"{built.size} bytes, SHA-256 {built.sha256}, kept until {built.retention_until:%Y-%m-%d}; written to {out}"
    )


# --- digital certificates -------------------------------------------------------------------


@main.group()
def calendar() -> None:
    """The working-day calendar: national holiday schedules per year."""


@calendar.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def calendar_load(path: Path) -> None:
    """Check a year's schedule (JSON, the layout of trading/kernel/calendar_data/2026.json) and make
    it that year's calendar as a new version; recorded on the ledger like a load from the
    administrator's page. Refused (exit 1, field named) when malformed.
    """
    import asyncio  # noqa: PLC0415

    from trading.kernel import calendar as working_calendar  # noqa: PLC0415
    from trading.kernel import calendar_versions  # noqa: PLC0415
    from trading.kernel.auth.identity import Actor  # noqa: PLC0415
    from trading.kernel.db.engine import create_engine, create_session_maker  # noqa: PLC0415
    from trading.kernel.db.uow import transaction  # noqa: PLC0415
    from trading.server.workdays import service as workdays  # noqa: PLC0415

    settings = get_settings()
    raw = path.read_bytes()
    try:
        working_calendar.check_schedule_file(raw)  # refused before a database is opened
    except working_calendar.CalendarError as exc:
        click.echo(f"refused: {exc}", err=True)
        sys.exit(1)

    async def run() -> calendar_versions.StoredVersion:
        engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
        try:
            async with transaction(create_session_maker(engine), lock=True) as session:
                return await workdays.load_year(session, Actor.system(), raw)
        finally:
            await engine.dispose()

    version = asyncio.run(run())
    schedule = version.schedule
    click.echo(
        f"loaded {schedule.year}: {schedule.version}, version {version.number}, {len(schedule.holidays)} holidays, "
        f"{len(schedule.workdays)} adjusted working days"
    )


@calendar.command("import-files")
def calendar_import_files() -> None:
    """Bring the years this node loaded before the calendar moved into the database
    (``<storage>/calendar/``: every version and the file in force) into the shared table, each
    recorded on the ledger. Run once on every node that had loaded years; a file already imported is
    skipped, so running it again adds nothing. A file that is not a schedule is refused (exit 1) and
    nothing is imported.
    """
    import asyncio  # noqa: PLC0415

    from trading.kernel.auth.identity import Actor  # noqa: PLC0415
    from trading.kernel.db.engine import create_engine, create_session_maker  # noqa: PLC0415
    from trading.kernel.db.uow import transaction  # noqa: PLC0415
    from trading.kernel.errors import DomainError  # noqa: PLC0415
    from trading.server.workdays import service as workdays  # noqa: PLC0415

    settings = get_settings()

    async def run() -> list[workdays.ImportedFile]:
        engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
        try:
            async with transaction(create_session_maker(engine), lock=True) as session:
                return await workdays.import_files(session, settings.storage_dir, Actor.system())
        finally:
            await engine.dispose()

    try:
        imported = asyncio.run(run())
    except DomainError as exc:
        click.echo(f"refused: {exc.message}", err=True)
        sys.exit(1)
    for item in imported:
        if item.version is None:
            click.echo(f"{item.source}: already in the database")
        else:
            click.echo(f"{item.source}: {item.version.schedule.year} version {item.version.number}")
    click.echo(f"imported {sum(item.version is not None for item in imported)} of {len(imported)} files")


@main.group()
def certs() -> None:
    """Digital certificates: the development PKI, the trust list, revocation data, challenges."""


@certs.command("dev-ca")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="directory to write to (default: GGZY_CERTS_DEV_CA_DIR, <var>/dev-ca)",
)
@click.option("--password", default="dev", show_default=True, help="PKCS#12 password")
def certs_dev_ca(out: Path | None, password: str) -> None:
    """Write development CAs (Jiangsu, Anhui, platform TSA, guarantor, e-licence/e-ID issuers),
    leaf certificates with PKCS#12 files, CRLs, signed trust lists and holder-app wallets.
    """
    from certs.tools.dev_ca import write_dev_ca  # noqa: PLC0415 - only this command generates keys
    from trading.server.demo_pki import write_pinned_operator  # noqa: PLC0415

    target = out or get_settings().certs.dev_ca_dir
    assert target is not None  # noqa: S101 - Settings fills it in
    manifest = write_dev_ca(target, password=password.encode())
    pins = write_pinned_operator(target, manifest)
    click.echo(
        f"wrote {len(manifest['cas'])} CAs, {len(manifest['leaves'])} leaf certificates, CRLs, "
        f"trust-list.json/.p7s, peer-trust-list.json/.p7s and wallets to {target}\n"
        f"pinned trust-list operator: {pins}"
    )


@certs.group("trust-list")
def certs_trust_list() -> None:
    """The signed trust list the platform recognises CAs by."""


@certs_trust_list.command("load")
@click.argument("location", required=False)
@click.option("--signature", default=None, help="the detached signature (default: LOCATION with .p7s)")
@click.option("--peer", is_flag=True, help="a peer platform's list, recognised through a pointer in ours")
def certs_trust_list_load(location: str | None, signature: str | None, peer: bool) -> None:  # noqa: FBT001 - click flag
    """Verify and load a signed trust list (a path or an http(s) URL; default: GGZY_CERTS_TRUST_LIST).

    Refused (exit 1, reason named, refusal on the ledger) when forged, rolled back, expired or,
    for a peer list, not pinned by a pointer of our list.
    """
    import asyncio  # noqa: PLC0415 - only the certificate commands run async code here

    from trading.kernel.db.engine import create_engine, create_session_maker  # noqa: PLC0415
    from trading.parties.jobs import load_trust_list_source  # noqa: PLC0415

    settings = get_settings()
    source = location or settings.certs.trust_list
    if not source:
        raise click.UsageError("name the list to load, or set GGZY_CERTS_TRUST_LIST")

    async def run() -> int:
        engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
        try:
            outcome = await load_trust_list_source(
                create_session_maker(engine), settings, source, signature=signature, peer=peer
            )
        finally:
            await engine.dispose()
        if outcome.refusal is not None:
            click.echo(f"refused: {outcome.refusal.reason}: {outcome.refusal.text}", err=True)
            return 1
        assert outcome.version is not None  # noqa: S101
        state = "loaded" if outcome.created else "already loaded"
        click.echo(
            f"{state}: {outcome.version.peer_name or 'our list'}, sequence {outcome.version.sequence}, "
            f"next update {outcome.version.next_update.isoformat()}"
        )
        return 0

    sys.exit(asyncio.run(run()))


@certs.command("refresh-revocation")
def certs_refresh_revocation() -> None:
    """Fetch the CRLs that are due now (what the parties.refresh_revocation beat job does)."""
    import asyncio  # noqa: PLC0415

    from trading.kernel.db.engine import create_engine, create_session_maker  # noqa: PLC0415
    from trading.parties.jobs import refresh_revocation  # noqa: PLC0415

    settings = get_settings()

    async def run() -> dict[str, object]:
        engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
        try:
            return await refresh_revocation(create_session_maker(engine), settings)
        finally:
            await engine.dispose()

    click.echo(json.dumps(asyncio.run(run()), indent=2, ensure_ascii=False))


@certs.command("sign-challenge")
@click.option("--p12", "p12_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--password", default="dev", show_default=True)
@click.argument("challenge", required=False)
def certs_sign_challenge(p12_path: Path, password: str, challenge: str | None) -> None:
    """Play a certificate's middleware: sign a login or binding CHALLENGE (its JSON, or stdin) with
    the key in a PKCS#12 file, and print the answer to post (``/login/certificate`` or the API).
    """
    from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: PLC0415

    from certs.auth.challenge import Challenge, sign_challenge  # noqa: PLC0415
    from certs.providers.pyca import PycaSigner  # noqa: PLC0415

    text = challenge if challenge is not None else sys.stdin.read()
    data = json.loads(text)
    if "challenge" in data:  # the API's answer to POST …/challenges
        data = data["challenge"]
    key, certificate, chain = pkcs12.load_key_and_certificates(p12_path.read_bytes(), password.encode())
    if key is None or certificate is None:
        raise click.UsageError(f"{p12_path} holds no key and certificate")
    intermediates = [c for c in chain if c.issuer != c.subject]  # the root is the trust list's business
    signer = PycaSigner(key)  # type: ignore[arg-type]
    response = sign_challenge(Challenge.from_dict(data), signer, certificate, intermediates)
    click.echo(json.dumps(response.to_dict()))


# --- credit records -------------------------------------------------------------------------


@main.group()
def credit() -> None:
    """Credit records shared by every domain (trading/credit/AGENTS.md)."""


@credit.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--label", help="the batch's name (default: the file's name); records get source import:LABEL")
@click.option("--kind", help="the kind of rows without a 信用记录类别 column (e.g. administrative_penalty)")
def credit_import(path: Path, label: str | None, kind: str | None) -> None:
    """Import credit records from a CSV or JSON file (by its suffix). A file with any bad row is
    refused whole (exit 1, every bad row, field and rule listed) and nothing is written.
    """
    import asyncio  # noqa: PLC0415

    from trading.credit.errors import CreditImportRefused  # noqa: PLC0415
    from trading.credit.importing import ImportFormat, ImportResult, import_records  # noqa: PLC0415
    from trading.credit.models import CreditKind  # noqa: PLC0415
    from trading.kernel.auth.identity import Actor  # noqa: PLC0415
    from trading.kernel.db.engine import create_engine, create_session_maker  # noqa: PLC0415
    from trading.kernel.db.uow import transaction  # noqa: PLC0415

    suffix = path.suffix.lower().lstrip(".")
    if suffix not in {f.value for f in ImportFormat}:
        raise click.ClickException("the file's name ends in .csv or .json")
    if kind is not None and kind not in {k.value for k in CreditKind}:
        raise click.ClickException(f"--kind is one of {', '.join(k.value for k in CreditKind)}")
    settings = get_settings()
    data = path.read_bytes()

    async def run() -> ImportResult:
        engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
        try:
            async with transaction(create_session_maker(engine), lock=True) as session:
                return await import_records(
                    session,
                    data,
                    ImportFormat(suffix),
                    actor=Actor.system(),
                    label=label or path.name,
                    default_kind=CreditKind(kind) if kind else None,
                )
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(run())
    except CreditImportRefused as exc:
        click.echo(f"refused: {exc.message}", err=True)
        for error in exc.extra.get("errors", []):
            click.echo(f"  row {error['row']}: {error['field']} ({error['rule']}): {error['message']}", err=True)
        sys.exit(1)
    click.echo(
        f"imported {result.rows} rows as {result.source}: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged (sha256 {result.sha256})"
    )


@credit.command("backfill")
def credit_backfill() -> None:
    """Publish the market's listings decided before the credit records existed (the sweep does the
    same with its first run; running it again changes nothing).
    """
    import asyncio  # noqa: PLC0415

    from intermediary_market.jobs import BlacklistCreditBackfill  # noqa: PLC0415
    from trading.kernel.db.engine import create_engine, create_session_maker  # noqa: PLC0415
    from trading.kernel.sweep import run_sweep  # noqa: PLC0415

    settings = get_settings()
    handler = BlacklistCreditBackfill()

    async def run() -> int:
        engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
        published = 0
        try:
            while True:  # in batches, until nothing is left to publish
                report = await run_sweep(create_session_maker(engine), [handler])
                if report.failed:
                    raise click.ClickException(f"{report.failed[handler.name]} listings failed; see the log")
                changed = report.changed.get(handler.name, 0)
                if not changed:
                    return published
                published += changed
        finally:
            await engine.dispose()

    click.echo(f"published {asyncio.run(run())} listings into the credit records")


# --- processes ------------------------------------------------------------------------------


WORKER_HEALTHCHECK_SECONDS = 60


@main.command()
@click.option("--host", default=None, help="defaults to GGZY_WEB_HOST")
@click.option("--port", default=None, type=int, help="defaults to GGZY_WEB_PORT")
@click.option("--workers", default=1, show_default=True)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the web app and API (uvicorn); ``--workers N`` forks N web processes on one port.

    Several processes (here or on other machines) need Redis (``GGZY_REDIS_URL``): rate limits,
    the live pages' events and the actor cache's invalidations are per process without it
    (``docs/scale-out.md``), so more than one worker without it is refused.
    """
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    settings = get_settings()
    if workers > 1:
        if not settings.redis_url:
            msg = (
                f"--workers {workers} needs GGZY_REDIS_URL: without Redis each web process keeps its own "
                "rate limits, live-page events and actor cache (see docs/scale-out.md)"
            )
            raise click.UsageError(msg)
        for name in ("secret_key", "pii_hash_key", "signing_key"):
            settings.secret(name)  # embedded: var/secrets.json exists before the workers fork
        _metrics_across_workers(settings)
    uvicorn.run(
        "trading.server.asgi:app",
        host=host or settings.web.host,
        port=port or settings.web.port,
        workers=workers,
        # A worker that does not answer the supervisor's ping in time is killed and replaced; at
        # uvicorn's 5 s a worker still starting on a busy machine is killed again and again.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        proxy_headers=False,
        log_level="warning",
    )


def _metrics_across_workers(settings: Settings) -> None:
    """``/metrics`` of several workers on one port: each worker keeps its counters in files of a
    directory of this node (``<var>/prometheus``, emptied at start as prometheus_client requires)
    and a scrape sums them; without it each scrape would report whichever worker answered.
    """
    from trading.server.system import MULTIPROCESS_DIR  # noqa: PLC0415 - only several workers need it

    if os.environ.get(MULTIPROCESS_DIR):
        return  # the operator chose the directory (and empties it)
    directory = settings.var_dir / "prometheus"
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_DIR] = str(directory)  # inherited by the workers uvicorn starts


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "trading.server.celery_app:celery", *args]


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (extra arguments go to celery)."""
    os.execv(sys.executable, _celery("worker", "--loglevel=INFO", *celery_args))  # noqa: S606


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def beat(celery_args: tuple[str, ...]) -> None:
    """Run the Celery beat scheduler (exactly one per deployment)."""
    settings = get_settings()
    schedule = str(settings.var_dir / "celerybeat-schedule")
    os.execv(sys.executable, _celery("beat", "--loglevel=INFO", f"--schedule={schedule}", *celery_args))  # noqa: S606


@main.command()
def demo() -> None:
    """Create the demo centre, organisations and users (idempotent) and list the accounts."""
    from trading.server.demo import seed_demo_data  # noqa: PLC0415 - only this command seeds

    click.echo(seed_demo_data(get_settings()))


@main.command()
@click.option("--demo/--no-demo", default=True, show_default=True, help="seed demo data on first start")
def run(demo: bool) -> None:  # noqa: FBT001 - click flag
    """Everything on one machine: migrate, seed demo data, then web + worker + beat."""
    settings = get_settings()
    for name in ("secret_key", "pii_hash_key", "signing_key"):
        settings.secret(name)  # create var/secrets.json once, before several processes race for it
    command.upgrade(alembic_config(), "head")
    if demo:
        from trading.server.demo import seed_demo_data  # noqa: PLC0415 - only the embedded start seeds

        click.echo(seed_demo_data(settings))
    env = dict(os.environ)
    worker_proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        _celery(
            "worker",
            "--beat",
            "--pool=solo",
            "--loglevel=INFO",
            f"--schedule={settings.var_dir / 'celerybeat-schedule'}",
        ),
        env=env,
    )
    guarantor_proc = _demo_guarantor_client(settings, env) if demo else None
    # uvicorn shuts down on SIGTERM, puts the previous handler back and raises the signal again:
    # with the default handler that would end this process on the spot, leaving the worker and the
    # client running without it. As SystemExit it comes here and the `finally` stops them.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        click.echo(f"ggzy: http://{settings.web.host}:{settings.web.port}/  (Ctrl-C stops)")
        serve.callback(host=None, port=None, workers=1)  # type: ignore[misc]
    finally:
        for proc in (worker_proc, guarantor_proc):
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
        worker_proc.wait(timeout=30)
        if guarantor_proc is not None:
            guarantor_proc.wait(timeout=30)


def _exit_on_signal(signum: int, _frame: object) -> NoReturn:
    raise SystemExit(128 + signum)  # the shell's status for a process ended by that signal


def _demo_guarantor_client(settings: Settings, env: dict[str, str]) -> subprocess.Popen[bytes] | None:
    """The demo bank's own system, the same program a guarantor runs (``python -m
    trading.guarantees.client run``), as a separate process with the development PKI's guarantor key;
    it polls the platform, approves up to 5,000,000 yuan, issues, answers claims, acknowledges releases.
    """
    out = settings.certs.dev_ca_dir
    p12 = out / "p12" / "guarantor.p12" if out is not None else None
    if p12 is None or not p12.exists():
        return None
    base = f"http://{settings.web.host}:{settings.web.port}"
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "trading.guarantees.client",
            "--platform",
            base,
            "--p12",
            str(p12),
            "--approve-up-to",
            "5000000",
            "--poll-seconds",
            "5",
            "run",
        ],
        env={**env, "GUARANTOR_KEY_PASSWORD": "dev"},
    )


# --- government procurement -----------------------------------------------------------------


@main.group()
def procurement() -> None:
    """Government procurement (procurement/AGENTS.md); `check` runs the negative list on a file."""


procurement.add_command(procurement_check)
