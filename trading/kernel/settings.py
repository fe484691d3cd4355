"""Effective settings, read from environment variables prefixed ``GGZY_``.

Two modes:

* ``embedded`` (the default): one machine, nothing to install by hand. SQLite under ``var/``,
  local file storage, Celery on a broker that lives in a SQLite file, and secrets generated once
  into ``var/secrets.json`` (mode 0600) so restarts keep sessions and signatures valid.
* ``production``: PostgreSQL, Redis (broker and pub/sub), shared storage, and every secret passed
  in through the environment. Starting production mode with a missing secret is an error, never a
  silent default.

Each group has its own prefix (``GGZY_DB_``, ``GGZY_CELERY_`` …); README.md lists them all and
``ggzy config show`` prints the effective values with secrets masked.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Mode(StrEnum):
    EMBEDDED = "embedded"
    PRODUCTION = "production"


def _default_var_dir() -> Path:
    return Path(os.environ.get("GGZY_VAR_DIR", "var")).resolve()


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GGZY_DB_")

    url: str = ""
    """SQLAlchemy async URL. Empty means SQLite at ``<var>/ggzy.sqlite3``."""
    pool_size: int = 10
    echo: bool = False
    sqlite_busy_timeout_ms: int = 30_000


class CelerySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GGZY_CELERY_")

    broker_url: str = ""
    """Empty means kombu's SQLAlchemy transport on ``<var>/celery-broker.sqlite3`` (no server)."""
    result_backend: str = ""
    sweep_interval_seconds: float = 30.0
    checkpoint_interval_seconds: float = 300.0


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GGZY_WEB_")

    host: str = "127.0.0.1"
    port: int = 8000
    secure_cookies: bool = False
    """Set in production behind TLS; the session cookie then carries ``Secure``."""
    default_locale: str = "zh_CN"
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses whose ``X-Forwarded-For`` is believed when recording the client IP."""


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GGZY_AUTH_")

    session_ttl_seconds: int = 8 * 3600
    api_token_ttl_seconds: int = 30 * 24 * 3600
    login_attempts_per_window: int = 10
    login_window_seconds: int = 300


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GGZY_")

    mode: Mode = Mode.EMBEDDED
    var_dir: Path = Field(default_factory=_default_var_dir)
    redis_url: str = ""
    """Redis for rate limits and live pages; empty in embedded mode (in-process instead)."""
    storage_dir: Path | None = None
    """Shared file storage root; defaults to ``<var>/files``."""
    log_level: str = "INFO"
    log_json: bool = False

    secret_key: SecretStr | None = None
    """Signs CSRF tokens and encrypts TOTP secrets."""
    pii_hash_key: SecretStr | None = None
    """Keys the hash that stands in for ID numbers (居民身份证号码) in the database."""
    signing_key: SecretStr | None = None
    """The platform's private key (PEM) that signs ledger checkpoints."""

    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    celery: CelerySettings = Field(default_factory=CelerySettings)
    web: WebSettings = Field(default_factory=WebSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        if not self.db.url:
            self.db.url = f"sqlite+aiosqlite:///{self.var_dir / 'ggzy.sqlite3'}"
        if not self.celery.broker_url:
            if self.mode is Mode.PRODUCTION and self.redis_url:
                self.celery.broker_url = self.redis_url
            else:
                self.celery.broker_url = f"sqla+sqlite:///{self.var_dir / 'celery-broker.sqlite3'}"
        if self.storage_dir is None:
            self.storage_dir = self.var_dir / "files"
        if self.mode is Mode.PRODUCTION:
            missing = [
                f"GGZY_{name.upper()}"
                for name in ("secret_key", "pii_hash_key", "signing_key")
                if getattr(self, name) is None
            ]
            if missing:
                msg = f"production mode needs these secrets in the environment: {', '.join(missing)}"
                raise ValueError(msg)
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.db.url.startswith("sqlite")

    def secret(self, name: str) -> bytes:
        """The raw bytes of a secret, generated once into ``var/secrets.json`` in embedded mode."""
        value: SecretStr | None = getattr(self, name)
        if value is not None:
            return value.get_secret_value().encode()
        return _embedded_secret(self.var_dir, name)

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data, every secret replaced by a mask."""
        data = self.model_dump(mode="json")
        for name in ("secret_key", "pii_hash_key", "signing_key"):
            data[name] = "********" if getattr(self, name) is not None else "(embedded: var/secrets.json)"
        data["db"]["url"] = _mask_url(data["db"]["url"])
        data["celery"]["broker_url"] = _mask_url(data["celery"]["broker_url"])
        data["celery"]["result_backend"] = _mask_url(data["celery"]["result_backend"])
        data["redis_url"] = _mask_url(data["redis_url"])
        return data


def _mask_url(url: str) -> str:
    """Hide the password in ``scheme://user:password@host``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:********@{host}"


def _embedded_secret(var_dir: Path, name: str) -> bytes:
    path = var_dir / "secrets.json"
    var_dir.mkdir(parents=True, exist_ok=True)
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if name not in stored:
        if name == "signing_key":
            # Imported here because only the embedded first start needs to create a key.
            from certs.keys import generate_private_key_pem  # noqa: PLC0415

            stored[name] = generate_private_key_pem().decode()
        else:
            stored[name] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)
    return stored[name].encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own ``Settings`` instead."""
    return Settings()
