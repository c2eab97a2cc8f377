"""The operator's command line against a real database: import a catalogue file, rebuild
the read models with a progress bar, show lag per consumer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import domain.catalogues

SAMPLE = Path(domain.catalogues.__file__).parent / "annex2_sample_v1.json"


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": "nats://127.0.0.1:1",
        "LOG_LEVEL": "warning",
    }
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_rebuild_and_lag(database_url: str) -> None:
    first = cli(database_url, "import-catalogue", str(SAMPLE))
    assert first.returncode == 0, first.stderr
    assert "published sample-2020-03-01: 220 objectives" in first.stdout
    again = cli(database_url, "import-catalogue", str(SAMPLE))
    assert again.returncode == 1 and "refused" in again.stderr
    rebuilt = cli(database_url, "rebuild", "domain_states")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilding domain_states" in rebuilt.stdout and "[####" in rebuilt.stdout
    lag = cli(database_url, "lag")
    assert lag.returncode == 0, lag.stderr
    assert "domain_states" in lag.stdout and "event store head" in lag.stdout
