"""All configuration in one typed place, read from the environment.

Nothing else in the code reads ``os.environ``. Unset servers mean "the embedded default":
the run command starts PostgreSQL and NATS from the wheels and fills the URLs in.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

RELAY_AND_PROJECTOR_CONNECTIONS = 2 * 3 + 2 * 4  # their pool sizes, services/processes.py
TOOL_CONNECTIONS = 20


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
    # API worker processes behind one port (None: one per core this process may run on).
    # Each has its own pool of up to 2 x db_pool_size connections (services/embedded.py
    # sizes the embedded server's max_connections from this).
    api_workers: int | None = None
    relay_batch_size: int = 500
    relay_idle_poll_seconds: float = 0.05
    projector_batch_size: int = 256
    readiness_max_lag_events: int = 1000
    # A stream's snapshot is written every this many events (services.aggregates).
    snapshot_every: int = 32
    # Computed progress answers kept per API process (services.read_models.progress_cache);
    # about 56 KiB each for a doctor on a full path, so ~110 MB at the default.
    progress_cache_size: int = 2_000
    state_cache_size: int = 256  # streams whose loaded state a process keeps (writes)
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
    # prometheus_client's own variable: set by ``kompetanse api`` for its workers (a fresh
    # directory per start), whose counters /metrics then sums, whichever worker answers.
    metrics_dir: str | None = None

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).resolve()

    @property
    def embedded(self) -> bool:
        return self.database_url is None or self.nats_url is None

    def api_worker_count(self) -> int:
        if self.api_workers is not None:
            return max(1, self.api_workers)
        return cpu_count()

    def database_connections_needed(self) -> int:
        """At most this many connections to the primary when ``run`` starts everything: each
        API worker's pool (pool + overflow), the relay's and projector's (services/processes.py),
        and room for operator tools, the seed and psql."""
        api = self.api_worker_count() * 2 * self.db_pool_size
        return api + RELAY_AND_PROJECTOR_CONNECTIONS + TOOL_CONNECTIONS

    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.http_host}:{self.http_port}"


def cpu_count() -> int:
    """The cores this process may run on (a container's CPU set, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


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
    "api_workers": "KOMPETANSE_API_WORKERS",
    "relay_batch_size": "KOMPETANSE_RELAY_BATCH",
    "relay_idle_poll_seconds": "KOMPETANSE_RELAY_POLL_SECONDS",
    "projector_batch_size": "KOMPETANSE_PROJECTOR_BATCH",
    "readiness_max_lag_events": "KOMPETANSE_READY_MAX_LAG",
    "snapshot_every": "KOMPETANSE_SNAPSHOT_EVERY",
    "progress_cache_size": "KOMPETANSE_PROGRESS_CACHE_SIZE",
    "state_cache_size": "KOMPETANSE_STATE_CACHE_SIZE",
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
    "metrics_dir": "PROMETHEUS_MULTIPROC_DIR",
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
