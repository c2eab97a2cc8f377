"""Corrections and retractions by the employer that recorded the period (API.md)."""

from __future__ import annotations

from typing import Any

from tests.integration.api.flow import PERIOD, World, ok, set_up


async def test_the_employer_corrects_and_retracts_what_it_recorded(api: Any, issuer: Any) -> None:
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    period = (
        await ok(await api.post(f"{base}/service-periods", headers=world.hospital, json=PERIOD))
    )["period_id"]
    path = f"{base}/service-periods/{period}"
    absence = (
        await ok(
            await api.post(
                f"{path}/absences",
                headers=world.hospital,
                json={"kind": "sick_leave", "start": "2024-03-01", "end": "2024-03-10"},
            )
        )
    )["absence_id"]
    corrected = {**PERIOD, "fte_percent": 80, "reason": "wrong FTE"}
    await ok(await api.post(f"{path}/corrections", headers=world.hospital, json=corrected))
    # Another organisation may not touch it.
    refused = await api.post(f"{path}/corrections", headers=world.municipality, json=corrected)
    assert refused.status_code == 403, refused.text
    gone = await api.post(
        f"{path}/absences/nope/retractions", headers=world.hospital, json={"reason": "typo"}
    )
    assert gone.status_code == 404, gone.text
    await ok(
        await api.post(
            f"{path}/absences/{absence}/retractions",
            headers=world.hospital,
            json={"reason": "typo"},
        )
    )
    await ok(
        await api.post(f"{path}/retractions", headers=world.hospital, json={"reason": "error"})
    )
    events = (await api.get(f"{base}/events", headers=world.caseworker)).json()["items"]
    types = [e["type"] for e in events]
    assert types[-3:] == [
        "doctor.service_period_corrected",
        "doctor.absence_retracted",
        "doctor.service_period_retracted",
    ]
