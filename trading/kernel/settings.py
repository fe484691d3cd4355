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
import fcntl
import ipaddress
import json
import os
import re
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
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
    """Addresses whose ``X-Forwarded-For`` is believed when recording the client IP (``"unix"``: a
    proxy on a Unix socket). The client is the rightmost entry that is not one of these."""
    agent_url: str = "http://127.0.0.1:17321"
    """Where users' local certificate agent (``ggzy agent``) listens: the pages may connect there
    (CSP ``connect-src``) and ``static/js/pki/agent.js`` calls it. Empty: no agent."""

    @field_validator("agent_url")
    @classmethod
    def _agent_origin(cls, value: str) -> str:
        """An origin (``http[s]://host:port``) or empty: it goes into the CSP header verbatim."""
        if value and not re.fullmatch(
            r"https?://[a-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9a-f:.]+\](:[0-9]{1,5})?", value
        ):
            msg = "must be an origin such as http://127.0.0.1:17321 (lower case, no path)"
            raise ValueError(msg)
        return value


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GGZY_AUTH_")

    session_ttl_seconds: int = 8 * 3600
    api_token_ttl_seconds: int = 30 * 24 * 3600
    login_attempts_per_window: int = 20
    """Failed logins from one client address (any usernames) within ``login_window_seconds``; then
    that address waits out the window. The defence against credential stuffing and spraying."""
    login_window_seconds: int = 300
    login_free_failures: int = 5
    """Failures of one username from one address before backoff starts; after that each failure
    doubles the pair's wait (``login_backoff_base_seconds``, 2x, … up to the maximum). Other
    addresses are never affected: the owner elsewhere can always log in."""
    login_backoff_base_seconds: int = 2
    login_backoff_max_seconds: int = 900
    login_failure_memory_seconds: int = 24 * 3600
    """How long a username-address pair's failures are counted (from the first one)."""
    public_requests_per_window: int = 30
    """Per client address, to each public endpoint that writes or signs (TSA, certificate and QR
    login challenges, registration)."""
    public_window_seconds: int = 60


class MetricsSettings(BaseSettings):
    """Who may read ``/metrics`` (``GGZY_METRICS_``): the counters are operational data, not public."""

    model_config = SettingsConfigDict(env_prefix="GGZY_METRICS_", validate_assignment=True)

    allow: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(
        default_factory=lambda: [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    )
    """Client networks (CIDR, JSON list) that may scrape without a token; the address is the one
    ``GGZY_WEB_TRUSTED_PROXIES`` makes believable. Empty: only the token opens it. Parsed once, at
    start-up: a malformed entry stops the start naming it, instead of being skipped on each scrape."""
    token: SecretStr | None = None
    """A bearer token that opens ``/metrics`` from any address (``Authorization: Bearer …``)."""

    @field_validator("allow", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        """Each entry as a network; host bits are allowed (``10.0.0.1/8`` means ``10.0.0.0/8``)."""
        if not isinstance(value, list):
            return value  # pydantic names the expected type
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in value:
            if isinstance(entry, ipaddress.IPv4Network | ipaddress.IPv6Network):
                networks.append(entry)
                continue
            try:
                networks.append(ipaddress.ip_network(str(entry), strict=False))
            except ValueError:
                msg = f"GGZY_METRICS_ALLOW: {entry!r} is not a network in CIDR notation (such as 10.0.0.0/8)"
                raise ValueError(msg) from None
        return networks


class CertsSettings(BaseSettings):
    """Digital certificates (``certs`` wired into the platform): trust list, revocation, login, TSA.

    In embedded mode the empty paths default to the development PKI that the first start writes
    to ``<var>/dev-ca`` (``ggzy certs dev-ca``); production names its own list, pins and TSA key.
    """

    model_config = SettingsConfigDict(env_prefix="GGZY_CERTS_")

    dev_ca_dir: Path | None = None
    """The development PKI written on first start; defaults to ``<var>/dev-ca``."""
    trust_list: str = ""
    """Our signed trust list: a path or an http(s) URL of the JSON document. Its detached signature
    has the same name with the suffix ``.p7s``. Embedded: ``<dev-ca>/trust-list.json``."""
    operator_certificates: Path | None = None
    """PEM file with the pinned trust-list operator certificate(s), configured out of band and never
    taken from a list. Embedded: ``<dev-ca>/pinned-operators.pem``."""
    validation_policy_sha256: str = ""
    """When set, a list naming another validation policy is refused."""
    acceptable_policies: list[str] = Field(default_factory=list)
    """Certificate policy OIDs the platform accepts (RFC 5280's user-initial-policy-set). Empty: any
    policy, none required. Set: every accepted chain must end with one of them (explicit policy)."""
    origins: list[str] = Field(default_factory=list)
    """The site's origins (``https://ggzy.example.cn``) that login challenges may be bound to; the
    first is used when a request names none. Empty: ``http://<web host>:<web port>`` (and
    ``http://localhost:<port>`` when the host is 127.0.0.1)."""
    challenge_ttl_seconds: int = 120
    fetch_revocation: bool = True
    """Fetch CRLs and OCSP answers over HTTP. Off: only cached CRLs count (fail closed without)."""
    fetch_timeout_seconds: float = 10.0
    revocation_refresh_seconds: float = 3600.0
    """How often the ``parties.refresh_revocation`` job runs."""
    revocation_refresh_margin_seconds: float = 6 * 3600.0
    """A cached CRL is fetched again when its nextUpdate is closer than this."""
    tsa_p12: Path | None = None
    """PKCS#12 file with the platform TSA's key and certificate. Embedded: ``<dev-ca>/p12/tsa.p12``."""
    tsa_p12_password: SecretStr | None = None
    """Its password. Embedded: the development password ``dev``."""
    receipt_p12: Path | None = None
    """PKCS#12 with the platform's signing key and certificate for bid receipts (回执) and other
    platform-signed records. Embedded: ``<dev-ca>/p12/platform_signer.p12``."""
    receipt_p12_password: SecretStr | None = None
    """Its password. Embedded: the development password ``dev``."""


class BiddingSettings(BaseSettings):
    """Sealed electronic bidding (``GGZY_BIDDING_``)."""

    model_config = SettingsConfigDict(env_prefix="GGZY_BIDDING_")

    upload_ttl_seconds: int = 24 * 3600
    """An upload not completed within this time is abandoned (it never counted as a bid)."""
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Overrides of the per-tender-type rule sets (`bidding.rules.DEFAULT_RULES`), as JSON:
    ``{"engineering-mandatory": {"publication_to_deadline_days_min": 25}}``. Checked when the
    application is built: an unknown tender type or rule stops the start with its name."""
    record_location: str = "公共资源交易中心 不见面开标大厅"
    """The place named in the PAdES signatures of opening records (开标记录): the centre's name."""


class StorageSettings(BaseSettings):
    """Where files live (``GGZY_STORAGE_``): the local disk under ``storage_dir`` (the default) or
    a bucket on an S3 server (SeaweedFS, MinIO, Ceph RGW, AWS) shared by every web process and
    node. ``docs/storage.md`` describes both.
    """

    model_config = SettingsConfigDict(env_prefix="GGZY_STORAGE_", hide_input_in_errors=True)

    backend: str = Field(default="local", pattern="^(local|s3)$")
    endpoint: str = ""
    """The S3 server's URL, e.g. ``http://seaweed-s3:8333``; empty means AWS itself."""
    bucket: str = ""
    region: str = "us-east-1"
    access_key: str = ""
    secret_key: SecretStr | None = None
    prefix: str = ""
    """A folder inside the bucket for this platform's objects (empty: the bucket's root)."""
    lock_lease_seconds: int = Field(default=60, ge=1, le=3600)
    """How long an upload's hold outlives its last renewal before another request may take it
    over (a web process killed mid-request leaves its hold behind; a live writer renews it every
    third of this while bytes arrive)."""
    part_bytes: int = 8 * 1024 * 1024
    """An upload request's bytes are stored as objects of at most this size (memory per request)."""


class SmtpTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"
    """Implicit TLS from the first byte (SMTPS, usually port 465)."""


class SmtpSettings(BaseSettings):
    """Outgoing e-mail for notices (``GGZY_SMTP_``). No host (the embedded default): messages are
    appended to ``<var>/mail/outbox.mbox`` instead of being sent.
    """

    # hide_input_in_errors: a refusal must not print the password it refuses.
    model_config = SettingsConfigDict(env_prefix="GGZY_SMTP_", hide_input_in_errors=True)

    host: str = ""
    port: int = 25
    tls: SmtpTls = SmtpTls.NONE
    username: str = ""
    password: SecretStr | None = None
    """From the environment only (``GGZY_SMTP_PASSWORD``); never logged or shown."""
    sender: str = "ggzy <noreply@ggzy.localhost>"
    """The ``From`` of every notice; its domain also names the ``Message-ID``s."""
    timeout_seconds: float = 30.0
    allow_plaintext_auth: bool = False
    """``true``: log in with ``tls=none`` although the password then crosses the network in clear
    (a relay on the same host or a trusted link). Otherwise credentials need TLS or STARTTLS."""

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> SmtpSettings:
        if (self.username or self.password is not None) and self.tls is SmtpTls.NONE and not self.allow_plaintext_auth:
            msg = (
                "GGZY_SMTP_USERNAME/GGZY_SMTP_PASSWORD with GGZY_SMTP_TLS=none would send the password in clear: "
                "set GGZY_SMTP_TLS to starttls or tls (or GGZY_SMTP_ALLOW_PLAINTEXT_AUTH=true for a trusted link)"
            )
            raise ValueError(msg)
        return self


class TestingSettings(BaseSettings):
    """Hooks for the test suite only (``GGZY_TESTING_``); production mode refuses them."""

    model_config = SettingsConfigDict(env_prefix="GGZY_TESTING_")

    enabled: bool = False
    """Test mode: a process the test suite started. Without it every hook below is refused."""
    clock_offset_file: Path | None = None
    """A file holding seconds added to the database clock, read at every reading
    (`trading.kernel.clock.OffsetFileClock`): a test moves a live server's time instead of sleeping."""

    @model_validator(mode="after")
    def _only_in_test_mode(self) -> TestingSettings:
        if self.clock_offset_file is not None and not self.enabled:
            msg = "GGZY_TESTING_CLOCK_OFFSET_FILE shifts the platform clock: only in test mode (GGZY_TESTING_ENABLED)"
            raise ValueError(msg)
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GGZY_")

    mode: Mode = Mode.EMBEDDED
    var_dir: Path = Field(default_factory=_default_var_dir)
    redis_url: str = ""
    """Redis for rate limits and live pages; empty in embedded mode (in-process instead)."""
    storage_dir: Path = Field(default_factory=lambda data: data["var_dir"] / "files")
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
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    certs: CertsSettings = Field(default_factory=CertsSettings)
    bidding: BiddingSettings = Field(default_factory=BiddingSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    testing: TestingSettings = Field(default_factory=TestingSettings)

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        if not self.db.url:
            self.db.url = f"sqlite+aiosqlite:///{self.var_dir / 'ggzy.sqlite3'}"
        if not self.celery.broker_url:
            if self.mode is Mode.PRODUCTION and self.redis_url:
                self.celery.broker_url = self.redis_url
            else:
                self.celery.broker_url = f"sqla+sqlite:///{self.var_dir / 'celery-broker.sqlite3'}"
        if self.mode is Mode.PRODUCTION and self.testing.enabled:
            msg = "GGZY_TESTING_ENABLED: production mode never runs in test mode"
            raise ValueError(msg)
        if self.mode is Mode.PRODUCTION:
            missing = [
                f"GGZY_{name.upper()}"
                for name in ("secret_key", "pii_hash_key", "signing_key")
                if getattr(self, name) is None
            ]
            if missing:
                msg = f"production mode needs these secrets in the environment: {', '.join(missing)}"
                raise ValueError(msg)
        if self.storage.backend == "s3":
            absent = [
                f"GGZY_STORAGE_{name.upper()}"
                for name in ("bucket", "access_key", "secret_key")
                if not getattr(self.storage, name)
            ]
            if absent:
                msg = f"the s3 storage backend needs: {', '.join(absent)}"
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _fill_certs_defaults(self) -> Settings:
        certs = self.certs
        if certs.dev_ca_dir is None:
            certs.dev_ca_dir = self.var_dir / "dev-ca"
        if not certs.origins:
            certs.origins = [f"http://{self.web.host}:{self.web.port}"]
            if self.web.host == "127.0.0.1":
                certs.origins.append(f"http://localhost:{self.web.port}")
        if self.mode is Mode.EMBEDDED:
            if not certs.trust_list:
                certs.trust_list = str(certs.dev_ca_dir / "trust-list.json")
            if certs.operator_certificates is None:
                certs.operator_certificates = certs.dev_ca_dir / "pinned-operators.pem"
            if certs.tsa_p12 is None:
                certs.tsa_p12 = certs.dev_ca_dir / "p12" / "tsa.p12"
                if certs.tsa_p12_password is None:
                    certs.tsa_p12_password = SecretStr("dev")
            self._fill_receipt_key_default()
        return self

    def _fill_receipt_key_default(self) -> None:
        """Embedded: receipts are signed by the development PKI's platform signer."""
        certs = self.certs
        assert certs.dev_ca_dir is not None  # noqa: S101 - filled before this is called
        if certs.receipt_p12 is None:
            certs.receipt_p12 = certs.dev_ca_dir / "p12" / "platform_signer.p12"
            if certs.receipt_p12_password is None:
                certs.receipt_p12_password = SecretStr("dev")

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
        data["certs"]["tsa_p12_password"] = "********" if self.certs.tsa_p12_password is not None else None
        data["metrics"]["token"] = "********" if self.metrics.token is not None else None
        data["storage"]["secret_key"] = "********" if self.storage.secret_key is not None else None
        data["certs"]["receipt_p12_password"] = "********" if self.certs.receipt_p12_password is not None else None
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
    """The secret ``name`` from ``var/secrets.json``, generated on first use.

    Several processes may start at once on a fresh var directory (``ggzy serve --workers N``
    forks its workers before any of them has read a secret): the read-generate-write runs under
    an exclusive lock on ``secrets.lock``, and the file is read again inside it, so every process
    ends up with the one value the first writer stored. Without the lock two workers could each
    keep a key of their own (a CSRF token issued by one refused by the other).
    """
    path = var_dir / "secrets.json"
    var_dir.mkdir(parents=True, exist_ok=True)
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        if name in stored:
            return stored[name].encode()
    lock_fd = os.open(var_dir / "secrets.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        stored = json.loads(path.read_text()) if path.exists() else {}
        if name not in stored:
            if name == "signing_key":
                # Imported here because only the embedded first start needs to create a key.
                from certs.keys import generate_private_key_pem  # noqa: PLC0415

                stored[name] = generate_private_key_pem().decode()
            else:
                stored[name] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(stored, indent=2))
            tmp.chmod(0o600)
            tmp.replace(path)
        return stored[name].encode()
    finally:
        os.close(lock_fd)  # releases the lock


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own ``Settings`` instead."""
    return Settings()
