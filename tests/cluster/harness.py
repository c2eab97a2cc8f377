"""Real server processes on loopback for the cluster test: a 3-node NATS JetStream cluster,
a PostgreSQL primary with a streaming replica, and the service's own processes (API, relay,
projector) started as an operator would, with ``python -m services.cli <role>``.

Everything here starts from deploy/: nats-server runs ``-c deploy/nats/nats-cluster.conf``
(the per-node values come in the environment, exactly as the systemd unit gives them), the
primary is prepared by ``deploy/postgres/setup-primary.sh`` and the replica created by
``deploy/postgres/setup-replica.sh``. No copy of a configuration lives in the tests.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from services.embedded import (
    PG_SYSTEM_USER,
    EmbeddedPostgres,
    free_port,
    nats_server_executable,
    port_open,
    postgres_bin_dir,
)

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
NATS_CONF = DEPLOY / "nats" / "nats-cluster.conf"
PG_DEPLOY = DEPLOY / "postgres"
LOOPBACK = "127.0.0.1"


def _as_root() -> bool:
    return os.geteuid() == 0


def _open_for_others(path: Path) -> None:
    """The PostgreSQL system user must traverse to (and read) the deploy scripts."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if (mode & 0o005) != 0o005:
            parent.chmod(mode | 0o005)


def run_as_pg(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """Run a deploy script as the PostgreSQL system user (as root), else as ourselves."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    kwargs: dict[str, object] = {}
    if _as_root():
        kwargs = {"user": PG_SYSTEM_USER, "group": PG_SYSTEM_USER, "extra_groups": []}
    result = subprocess.run(args, env=full_env, capture_output=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout.decode(errors='replace')}\n{result.stderr.decode(errors='replace')}"
        )
    return result  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- NATS


@dataclass
class NatsNode:
    name: str
    client_port: int
    cluster_port: int
    monitor_port: int
    store_dir: Path
    log_path: Path
    routes: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.client_port}"

    def environment(self) -> dict[str, str]:
        """The per-node values deploy/nats/nats-cluster.conf reads (what
        /etc/kompetanse/nats-N.env holds under systemd)."""
        env = {
            "NATS_SERVER_NAME": self.name,
            "NATS_HOST": LOOPBACK,
            "NATS_CLIENT_PORT": str(self.client_port),
            "NATS_CLUSTER_PORT": str(self.cluster_port),
            "NATS_MONITOR_PORT": str(self.monitor_port),
            "NATS_STORE_DIR": str(self.store_dir),
        }
        for i, route in enumerate(self.routes, start=1):
            env[f"NATS_ROUTE_{i}"] = route
        return env

    def start(self) -> None:
        if self.alive():
            return
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(nats_server_executable()), "-c", str(NATS_CONF)],
            env={"PATH": os.environ.get("PATH", ""), **self.environment()},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while not port_open(self.client_port):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not open its port")
            time.sleep(0.05)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no lame duck, no flush (sync_interval: always makes acks durable)."""
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def healthy(self) -> bool:
        url = f"http://{LOOPBACK}:{self.monitor_port}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False


class NatsCluster:
    def __init__(self, base: Path, size: int = 3) -> None:
        self.nodes = [
            NatsNode(
                name=f"nats-{i}",
                client_port=free_port(),
                cluster_port=free_port(),
                monitor_port=free_port(),
                store_dir=base / f"nats-{i}" / "store",
                log_path=base / f"nats-{i}.log",
            )
            for i in range(1, size + 1)
        ]
        routes = [f"nats://{LOOPBACK}:{n.cluster_port}" for n in self.nodes]
        for node in self.nodes:
            node.routes = routes

    def start(self) -> None:
        for node in self.nodes:
            node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def node(self, name: str) -> NatsNode:
        return next(n for n in self.nodes if n.name == name)

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def live_urls(self) -> list[str]:
        return [n.url for n in self.nodes if n.alive()]

    def service_url(self, index: int = 0) -> str:
        """NATS_URL for a service process: every node, comma-separated, as an operator
        configures it (every connection splits it: services/natsconn.py). ``index`` is kept
        for callers that once rotated single nodes."""
        return ",".join(self.urls)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(n.healthy() for n in self.nodes if n.alive()):
            if time.monotonic() > deadline:
                raise RuntimeError("NATS cluster not healthy")
            time.sleep(0.2)


# --------------------------------------------------------------------------- PostgreSQL


def primary_conf() -> dict[str, str]:
    """deploy/postgres/primary.conf as settings (the file setup-primary.sh installs)."""
    out = {}
    for line in (PG_DEPLOY / "primary.conf").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            out[key] = value
    return out


class PgPair:
    """A primary (EmbeddedPostgres, the embedded default's way of starting PostgreSQL) and a
    streaming replica made by deploy/postgres/setup-replica.sh."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.primary = EmbeddedPostgres(base / "pg-primary", free_port())
        self.replica_parent = base / "pg-replicas"
        self.replica_dir = self.replica_parent / "replica1"
        self.replica_port = free_port()

    @property
    def primary_url(self) -> str:
        return self.primary.url

    @property
    def replica_url(self) -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.replica_port}/postgres"

    def _script_env(self) -> dict[str, str]:
        return {"PGBIN": str(postgres_bin_dir())}

    def start_primary(self) -> None:
        self.primary.initialise()
        _open_for_others(PG_DEPLOY)
        run_as_pg(
            ["sh", str(PG_DEPLOY / "setup-primary.sh")],
            {
                "PGDATA": str(self.primary.data_dir),
                "REPLICATION_USER": "postgres",
                "REPLICA_CIDR": f"{LOOPBACK}/32",
                "REPLICATION_AUTH": "trust",
            },
        )
        self.primary.start()

    def start_replica(self) -> None:
        self.replica_parent.mkdir(parents=True, exist_ok=True)
        if _as_root():
            entry = pwd.getpwnam(PG_SYSTEM_USER)
            os.chown(self.replica_parent, entry.pw_uid, entry.pw_gid)
        run_as_pg(
            ["sh", str(PG_DEPLOY / "setup-replica.sh")],
            {
                **self._script_env(),
                "PRIMARY_HOST": LOOPBACK,
                "PRIMARY_PORT": str(self.primary.port),
                "REPLICATION_USER": "postgres",
                "REPLICA_DATA": str(self.replica_dir),
                "REPLICA_PORT": str(self.replica_port),
                "REPLICA_SLOT": "replica1",
                "REPLICA_LISTEN": LOOPBACK,
            },
        )

    def restart_primary(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, the server is back in
        about a second (RUNBOOK.md: a PostgreSQL restart under load)."""
        run_as_pg(
            [
                str(postgres_bin_dir() / "pg_ctl"),
                "-D",
                str(self.primary.data_dir),
                "-l",
                str(self.primary.data_dir / "server.log"),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "restart",
            ],
            {},
        )

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            run_as_pg(
                [
                    str(postgres_bin_dir() / "pg_ctl"),
                    "-D",
                    str(self.replica_dir),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                {},
            )
        self.primary.stop(mode="immediate")


# --------------------------------------------------------------------------- services


@dataclass
class Service:
    role: str
    index: int
    env: dict[str, str]
    log_path: Path
    args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def label(self) -> str:
        return f"{self.role}-{self.index}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", self.role, *self.args],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def local_ports(self) -> set[int]:
        """The local TCP ports of this process's sockets (to tell which relay holds the
        PostgreSQL advisory lock: pg_stat_activity.client_port is one of them)."""
        if not self.alive():
            return set()
        assert self.process is not None
        inodes = set()
        fd_dir = Path(f"/proc/{self.process.pid}/fd")
        with contextlib.suppress(OSError):
            for fd in fd_dir.iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
        ports = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    parts = line.split()
                    if parts[9] in inodes:
                        ports.add(int(parts[1].rsplit(":", 1)[1], 16))
        return ports


def service_env(
    *,
    database_url: str,
    nats_url: str,
    stream: str,
    data_dir: Path,
    port: int | None = None,
) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "KOMPETANSE_STREAM": stream,
        "KOMPETANSE_STREAM_REPLICAS": "3",
        "KOMPETANSE_DATA_DIR": str(data_dir),
        "KOMPETANSE_RATE_LIMIT_PER_MINUTE": "1000000",
        "KOMPETANSE_DB_POOL_SIZE": "4",
        # Each API instance runs two worker processes (the setting ``make run`` uses too,
        # whose default is the number of cores): the scenario reads a write back through
        # the other worker (tests/api_workers.py).
        "KOMPETANSE_API_WORKERS": "2",
        "LOG_LEVEL": "info",
        "LOG_JSON": "true",
    }
    if port is not None:
        env["KOMPETANSE_HOST"] = LOOPBACK
        env["KOMPETANSE_PORT"] = str(port)
    return env
