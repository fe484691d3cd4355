"""The ``ggzy`` command line: serve, worker, beat, database, ledger, settings and demo data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import click
from alembic import command
from alembic.config import Config

from trading.kernel.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    if url:
        config.attributes["url"] = url
    return config


@click.group()
def main() -> None:
    """ggzy: public resource trading and government procurement platform."""


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


# --- processes ------------------------------------------------------------------------------


@main.command()
@click.option("--host", default=None, help="defaults to GGZY_WEB_HOST")
@click.option("--port", default=None, type=int, help="defaults to GGZY_WEB_PORT")
@click.option("--workers", default=1, show_default=True)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the web app and API (uvicorn)."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    settings = get_settings()
    uvicorn.run(
        "trading.server.asgi:app",
        host=host or settings.web.host,
        port=port or settings.web.port,
        workers=workers,
        proxy_headers=False,
        log_level="warning",
    )


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
    try:
        click.echo(f"ggzy: http://{settings.web.host}:{settings.web.port}/  (Ctrl-C stops)")
        serve.callback(host=None, port=None, workers=1)  # type: ignore[misc]
    finally:
        worker_proc.send_signal(signal.SIGTERM)
        worker_proc.wait(timeout=30)
