"""Settings come from GGZY_* variables; production refuses to start without its secrets."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from trading.kernel.settings import Mode, Settings


def test_embedded_defaults_live_under_var(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    assert settings.mode is Mode.EMBEDDED
    assert settings.db.url == f"sqlite+aiosqlite:///{tmp_path / 'ggzy.sqlite3'}"
    assert settings.celery.broker_url == f"sqla+sqlite:///{tmp_path / 'celery-broker.sqlite3'}"
    assert settings.storage_dir == tmp_path / "files"


def test_embedded_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(var_dir=tmp_path).secret("secret_key")
    second = Settings(var_dir=tmp_path).secret("secret_key")
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    assert Settings(var_dir=tmp_path).secret("signing_key").startswith(b"-----BEGIN PRIVATE KEY-----")


_RACER = """
import json, os, sys, time
from pathlib import Path
from trading.kernel.settings import Settings
gate = Path(sys.argv[2])
while not gate.exists():
    time.sleep(0.001)
settings = Settings(var_dir=Path(sys.argv[1]))
print(json.dumps({name: settings.secret(name).decode() for name in ("pii_hash_key", "secret_key", "signing_key")}))
"""


def test_processes_starting_at_once_on_a_fresh_var_agree_on_every_secret(tmp_path: Path) -> None:
    """``ggzy serve --workers N`` forks workers that may all read a secret first at the same moment:
    each must end up with the one value stored, not one it generated itself."""
    var, gate = tmp_path / "var", tmp_path / "go"
    env = {key: value for key, value in os.environ.items() if not key.startswith("GGZY_")}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(var), str(gate)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    gate.touch()
    answers = [json.loads(racer.communicate(timeout=120)[0]) for racer in racers]
    assert all(racer.returncode == 0 for racer in racers)
    assert all(answer == answers[0] for answer in answers)
    assert json.loads((var / "secrets.json").read_text()) == answers[0]
    assert not list(var.glob("*.tmp"))


def test_a_secret_is_generated_under_the_var_directory_lock(tmp_path: Path) -> None:
    """Deterministically, what the race above depends on: while another process holds the lock
    (and is writing the secrets), a process asking for a secret waits, then takes the stored one."""
    var = tmp_path / "var"
    var.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GGZY_")}
    lock = os.open(var / "secrets.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        gate = tmp_path / "go"
        gate.touch()
        waiting = subprocess.Popen(
            [sys.executable, "-c", _RACER, str(var), str(gate)], env=env, stdout=subprocess.PIPE, text=True
        )
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=5)  # well past its start-up: it waits for the lock
        (var / "secrets.json").write_text(
            json.dumps({"pii_hash_key": "p-stored", "secret_key": "s-stored", "signing_key": "k-stored"})
        )
    finally:
        os.close(lock)
    answer = json.loads(waiting.communicate(timeout=60)[0])
    assert answer == {"pii_hash_key": "p-stored", "secret_key": "s-stored", "signing_key": "k-stored"}


def test_production_without_secrets_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="GGZY_SECRET_KEY, GGZY_PII_HASH_KEY, GGZY_SIGNING_KEY"):
        Settings(mode=Mode.PRODUCTION, var_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0")


def test_production_broker_defaults_to_redis(tmp_path: Path) -> None:
    settings = Settings(
        mode=Mode.PRODUCTION,
        var_dir=tmp_path,
        redis_url="redis://127.0.0.1:6379/0",
        secret_key="s" * 32,
        pii_hash_key="p" * 32,
        signing_key="k",
    )
    assert settings.celery.broker_url == "redis://127.0.0.1:6379/0"


def test_config_show_masks_every_secret(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GGZY_VAR_DIR": str(tmp_path),
        "GGZY_DB_URL": "postgresql+asyncpg://ggzy:hunter2-db@db.internal/ggzy",
        "GGZY_SECRET_KEY": "very-secret-value-1",
        "GGZY_REDIS_URL": "redis://:hunter2-redis@cache.internal:6379/0",
    }
    result = subprocess.run(
        [str(Path(sys.executable).with_name("ggzy")), "config", "show"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    shown = json.loads(result.stdout)
    assert "hunter2" not in result.stdout
    assert "very-secret-value-1" not in result.stdout
    assert shown["secret_key"] == "********"
    assert shown["db"]["url"] == "postgresql+asyncpg://ggzy:********@db.internal/ggzy"


def test_a_malformed_metrics_network_stops_the_start_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The /metrics allow list is parsed once, at start-up, not on every scrape (where a bad entry
    used to be skipped with a warning each time)."""
    monkeypatch.setenv("GGZY_METRICS_ALLOW", json.dumps(["10.0.0.0/8", "10.0.0.0/33"]))
    with pytest.raises(ValidationError, match=r"GGZY_METRICS_ALLOW: '10\.0\.0\.0/33' is not a network in CIDR"):
        Settings(var_dir=tmp_path)
    monkeypatch.setenv("GGZY_METRICS_ALLOW", json.dumps(["10.0.0.1/8", "2001:db8::/32"]))
    allow = Settings(var_dir=tmp_path).metrics.allow
    assert [str(network) for network in allow] == ["10.0.0.0/8", "2001:db8::/32"]


def test_smtp_credentials_without_tls_stop_the_start_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AUTH over a plain connection sends the password in clear: refused unless explicitly allowed."""
    monkeypatch.setenv("GGZY_SMTP_HOST", "mail.example.cn")
    monkeypatch.setenv("GGZY_SMTP_USERNAME", "notices")
    monkeypatch.setenv("GGZY_SMTP_PASSWORD", "hunter2-smtp")
    with pytest.raises(ValidationError, match="GGZY_SMTP_TLS=none") as refused:
        Settings(var_dir=tmp_path)
    assert "GGZY_SMTP_ALLOW_PLAINTEXT_AUTH" in str(refused.value)
    assert "hunter2-smtp" not in str(refused.value)
    monkeypatch.delenv("GGZY_SMTP_USERNAME")
    with pytest.raises(ValidationError, match="GGZY_SMTP_TLS=none"):
        Settings(var_dir=tmp_path)  # a password alone is refused too

    monkeypatch.setenv("GGZY_SMTP_USERNAME", "notices")
    monkeypatch.setenv("GGZY_SMTP_TLS", "starttls")
    assert Settings(var_dir=tmp_path).smtp.username == "notices"
    monkeypatch.setenv("GGZY_SMTP_TLS", "none")
    monkeypatch.setenv("GGZY_SMTP_ALLOW_PLAINTEXT_AUTH", "true")
    assert Settings(var_dir=tmp_path).smtp.allow_plaintext_auth
    # No credentials: an open relay on tls=none stays the default it was.
    for name in ("GGZY_SMTP_USERNAME", "GGZY_SMTP_PASSWORD", "GGZY_SMTP_ALLOW_PLAINTEXT_AUTH"):
        monkeypatch.delenv(name)
    assert Settings(var_dir=tmp_path).smtp.host == "mail.example.cn"
