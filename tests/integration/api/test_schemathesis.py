"""schemathesis against the served OpenAPI document of a real API process (bounded in time):
no 5xx, and no response that breaks the documented schema."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.embedded import free_port


def start_api(api_settings, port: int) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DATABASE_URL": api_settings.database_url,
        "NATS_URL": api_settings.nats_url,
        "KOMPETANSE_STREAM": api_settings.stream_name,
        "KOMPETANSE_DATA_DIR": api_settings.data_dir,
        "KOMPETANSE_PORT": str(port),
        "KOMPETANSE_RATE_LIMIT_PER_MINUTE": "1000000",
        "LOG_LEVEL": "error",
    }
    return subprocess.Popen([sys.executable, "-m", "services.cli", "api"], env=env)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("role", ["admin", "organisation", "doctor", "caseworker"])
def test_no_server_errors_and_responses_match_the_schema(api_settings, issuer, role) -> None:  # type: ignore[no-untyped-def]
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert schemathesis, "schemathesis is a dev dependency"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = start_api(api_settings, port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "API did not start"
            time.sleep(0.2)
        kwargs = {
            "organisation": {"org_number": "974589095"},
            "doctor": {"hpr_number": "2000001"},
            "caseworker": {"hpr_number": "3000001"},
        }.get(role, {})
        token = issuer.mint(role, **kwargs)
        result = subprocess.run(
            [
                schemathesis,
                "run",
                f"{base}/schema/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-examples",
                "15",
                "--max-time",
                "75",
                "--workers",
                "1",
                # A fixed seed keeps CI reproducible; `make fuzz` explores with fresh seeds.
                "--seed",
                os.environ.get("KOMPETANSE_FUZZ_SEED", "20261123"),
                # /readyz answers 503 by design while no projector runs (documented).
                "--exclude-path",
                "/readyz",
                # Fresh seeds sometimes draw too few valid ids for a path with several
                # patterned parameters; that is the generator's limit, not a finding.
                "--suppress-health-check=filter_too_much",
                "--header",
                f"Authorization: Bearer {token}",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        api.terminate()
        api.wait(10)
    report = Path(__file__).resolve().parents[3] / "test-artifacts" / f"schemathesis-{role}.txt"
    report.parent.mkdir(exist_ok=True)
    report.write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"see {report}\n" + result.stdout[-3000:]
