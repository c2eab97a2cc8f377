"""The benchmark suite's quick mode runs end to end and writes well-formed results.

A smoke test only: it asserts that every section completed and that results.json has the
agreed shape. It never judges a timing (benchmarks print figures; tests never time things).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_quick_benchmark_writes_well_formed_results(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=220,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["quick"] is True
    assert results["failed_sections"] == []
    assert results["machine"]["nproc"] >= 1
    assert results["versions"]["postgresql"]
    names = {f["name"] for f in results["figures"]}
    expected_names = [
        "raw_asyncpg_append_1c",
        "store_append_1c",
        "projection_lag_p99",
        "projection_lag_relay_p99",
        "write_cost_1000_events",
        "write_cost_1000_events_uncached",
        "bytes_per_event",
        "http_append_1c",
        "http_batch100_4c",
        "progress_query_32r_p99",
        "progress_query_32r_cache_hit_rate",
        "progress_query_32r_cold_p99",
        "progress_query_32r_hot_p99",
        "progress_sql_32r_p99",
        "rebuild_events_per_s",
        "rebuild_peak_rss",
    ]
    if importlib.util.find_spec("eventsourcing") is not None:
        expected_names.append("eventsourcing_append_1c")
    for expected in expected_names:
        assert expected in names, expected
    for figure in results["figures"]:
        assert set(figure) >= {"name", "value", "unit", "goal", "met", "median", "spread", "runs"}
        assert isinstance(figure["value"], (int, float)) and math.isfinite(figure["value"])
        assert figure["value"] >= 0
        assert figure["met"] is None  # quick mode judges no goal
    assert (tmp_path / "RESULTS.md").read_text().startswith("# Benchmark results")
