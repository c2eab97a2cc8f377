"""All configuration in one typed place, read from the environment.

Nothing else in the code reads ``os.environ``. Unset servers mean "the embedded default":
the run command starts PostgreSQL and NATS from the wheels and fills the URLs in.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None = None
    database_replica_url: str | None = None  # read-model queries may go to a replica
    replica_max_lag_seconds: float = 5.0
    nats_url: str | None = None
    data_dir: str = "var"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # The URL clients address (DPoP's htu is checked against it); None: the address the
    # service is started on, http://<http_host>:<http_port>.
    public_base_url: str | None = None
    log_level: str = "info"
    log_json: bool | None = None  # None: JSON when stdout is not a terminal
    stream_name: str = "KOMPETANSE_EVENTS"
    stream_replicas: int = 1
    db_pool_size: int = 10
    relay_batch_size: int = 500
    relay_idle_poll_seconds: float = 0.05
    projector_batch_size: int = 256
    readiness_max_lag_events: int = 1000
    # A stream's snapshot is written every this many events (services.aggregates).
    snapshot_every: int = 32
    # Computed progress answers kept per API process (services.read_models.progress_cache);
    # about 56 KiB each for a doctor on a full path, so ~110 MB at the default.
    progress_cache_size: int = 2_000
    # Liveness: a relay or projector with work pending and nothing moving this long while
    # NATS answers ends itself, for its supervisor to restart (services/watchdog.py).
    stall_seconds: float = 30.0
    # Identity
    token_issuer: str | None = None  # None: the development issuer under data_dir
    token_audience: str = "kompetanse"
    jwks_url: str | None = None
    accept_bearer_tokens: bool = True
    token_leeway_seconds: int = 30
    # Request limits
    max_body_bytes: int = 1_048_576
    rate_limit_per_minute: int = 6000
    # Operations: /metrics answers only with this bearer token (None: a token generated once
    # in <data_dir>/metrics-token).
    metrics_token: str | None = None
    # Reads of a doctor's record are logged in multi-row inserts at most this long after
    # the read (services/application/access_log.py); a crash loses at most this window.
    access_log_flush_seconds: float = 1.0

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).resolve()

    @property
    def embedded(self) -> bool:
        return self.database_url is None or self.nats_url is None

    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.http_host}:{self.http_port}"


_ENV = {
    "database_url": "DATABASE_URL",
    "database_replica_url": "DATABASE_REPLICA_URL",
    "replica_max_lag_seconds": "KOMPETANSE_REPLICA_MAX_LAG_SECONDS",
    "nats_url": "NATS_URL",
    "data_dir": "KOMPETANSE_DATA_DIR",
    "http_host": "KOMPETANSE_HOST",
    "http_port": "KOMPETANSE_PORT",
    "public_base_url": "KOMPETANSE_PUBLIC_URL",
    "log_level": "LOG_LEVEL",
    "log_json": "LOG_JSON",
    "stream_name": "KOMPETANSE_STREAM",
    "stream_replicas": "KOMPETANSE_STREAM_REPLICAS",
    "db_pool_size": "KOMPETANSE_DB_POOL_SIZE",
    "relay_batch_size": "KOMPETANSE_RELAY_BATCH",
    "projector_batch_size": "KOMPETANSE_PROJECTOR_BATCH",
    "readiness_max_lag_events": "KOMPETANSE_READY_MAX_LAG",
    "snapshot_every": "KOMPETANSE_SNAPSHOT_EVERY",
    "progress_cache_size": "KOMPETANSE_PROGRESS_CACHE_SIZE",
    "stall_seconds": "KOMPETANSE_STALL_SECONDS",
    "token_issuer": "TOKEN_ISSUER",
    "token_audience": "TOKEN_AUDIENCE",
    "jwks_url": "JWKS_URL",
    "accept_bearer_tokens": "ACCEPT_BEARER_TOKENS",
    "token_leeway_seconds": "TOKEN_LEEWAY_SECONDS",
    "max_body_bytes": "KOMPETANSE_MAX_BODY_BYTES",
    "rate_limit_per_minute": "KOMPETANSE_RATE_LIMIT_PER_MINUTE",
    "metrics_token": "KOMPETANSE_METRICS_TOKEN",
    "access_log_flush_seconds": "KOMPETANSE_ACCESS_LOG_FLUSH_SECONDS",
}


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    raw = {field: env[name] for field, name in _ENV.items() if env.get(name, "") != ""}
    return msgspec.convert(raw, Settings, strict=False)


def with_servers(settings: Settings, *, database_url: str, nats_url: str) -> Settings:
    return msgspec.structs.replace(settings, database_url=database_url, nats_url=nats_url)


def to_environ(settings: Settings) -> dict[str, str]:
    """The settings as environment variables, for child processes started by ``run``."""
    out: dict[str, str] = {}
    for field, name in _ENV.items():
        value = getattr(settings, field)
        if value is None:
            continue
        out[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return out
