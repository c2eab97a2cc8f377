"""Bad input is a 4xx, never a 500 (issue 13): sent over HTTP to a real API process, whose
log must then hold no traceback and no unhandled error."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.embedded import free_port
from tests.integration.api.flow import HOSPITAL, World, bearer, set_up


def start_api(api_settings, port: int, log: Path) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DATABASE_URL": api_settings.database_url,
        "NATS_URL": api_settings.nats_url,
        "KOMPETANSE_STREAM": api_settings.stream_name,
        "KOMPETANSE_DATA_DIR": api_settings.data_dir,
        "KOMPETANSE_PORT": str(port),
        "KOMPETANSE_RATE_LIMIT_PER_MINUTE": "1000000",
        "LOG_LEVEL": "info",
        "LOG_JSON": "true",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "api"], env=env, stdout=out, stderr=out
        )


def cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.timeout(120)
async def test_malformed_input_is_answered_4xx_and_logs_no_traceback(  # type: ignore[no-untyped-def]
    api, api_settings, issuer, tmp_path
) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    port = free_port()
    log = tmp_path / "api.log"
    process = start_api(api_settings, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "API did not start"
                await asyncio.sleep(0.2)
            org = {**world.hospital, "Content-Type": "application/json"}
            period = {
                "org_number": HOSPITAL,
                "part": 1,
                "arena": "hospital",
                "position": "LIS1",
                "fte_percent": 100,
            }
            doctor = f"/api/v1/doctors/{doctor_id}"
            attempts = [
                ("POST", "/api/v1/doctors", org, b"[" * 1000 + b"]" * 1000),
                ("POST", "/api/v1/doctors", org, b'{"a":' * 1000 + b"1" + b"}" * 1000),
                ("POST", "/api/v1/doctors", org, b'{"hpr_number": "\xff\xfe", "x": "\xc3"}'),
                ("POST", f"{doctor}/service-periods", org, b'{"org_number": "\xed\xa0\x80"}'),
                ("GET", f"{doctor}/progress?as_of=9999-12-31", world.hospital, None),
                ("GET", f"{doctor}/progress?as_of=0001-01-01", world.hospital, None),
                ("GET", "/api/v1/me/progress?as_of=9999-12-31", world.doctor, None),
                (
                    "POST",
                    f"{doctor}/service-periods",
                    org,
                    httpx.Request(
                        "POST", "/", json={**period, "start": "0001-01-01", "end": "9999-12-31"}
                    ).content,
                ),
                (
                    "POST",
                    "/api/v1/doctors",
                    org,
                    b'{"hpr_number": "1234567", "authorised_on": "9999-12-31"}',
                ),
                ("GET", f"{doctor}/events?cursor={cursor_of('p:' + '9' * 25)}", world.admin, None),
                (
                    "GET",
                    f"{doctor}/access-log?cursor={cursor_of('p:' + '9' * 25)}",
                    world.admin,
                    None,
                ),
                ("GET", f"/api/v1/applications?cursor={cursor_of('p:-1')}", world.caseworker, None),
            ]
            answers = []
            for method, path, headers, body in attempts:
                response = await client.request(method, path, headers=headers, content=body)
                answers.append((method, path[:60], response.status_code))
                assert "server" not in response.headers  # no banner from the real server
                assert response.headers["content-type"].startswith("application/problem+json"), (
                    answers[-1],
                    response.text[:300],
                )
            assert [a for a in answers if not 400 <= a[2] < 500] == []
            # Nothing of it was stored: the doctor's stream holds only what set_up wrote.
            trail = (await client.get(f"{doctor}/events", headers=world.admin)).json()
            assert all("9999" not in str(e["data"]) for e in trail["items"])
    finally:
        process.terminate()
        process.wait(10)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and "api.unhandled" not in text, text[-3000:]


async def test_a_bad_as_of_on_me_is_a_400_even_without_a_doctor_record(api, issuer) -> None:  # type: ignore[no-untyped-def]
    """The input is judged before the caller's record is looked up (as it always was): a
    date outside the range is 400 naming ``as_of``; a good date for a token with no doctor
    record is 404."""
    stranger = bearer(issuer.mint("doctor", hpr_number="1999999"))
    for path in ("/api/v1/me/progress", "/api/v1/me/progress/page"):
        bad = await api.get(f"{path}?as_of=9999-12-31", headers=stranger)
        assert bad.status_code == 400, (path, bad.text)
        assert bad.json()["field"] == "as_of"
        unknown = await api.get(f"{path}?as_of=2026-01-01", headers=stranger)
        assert unknown.status_code == 404, (path, unknown.text)
