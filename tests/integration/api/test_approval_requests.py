"""The doctor asks a leader to approve an objective and withdraws the request (API.md "A
doctor's record"): the withdrawal answers as the served OpenAPI document says."""

from __future__ import annotations

from tests.integration.api.flow import ASSESSMENT, HOSPITAL, World, doctor_with_veileder, ok


async def _assessed(api, world: World) -> str:  # type: ignore[no-untyped-def]
    """A doctor in a hospital post whose veileder assessed KLS-001 as achieved (R5)."""
    doctor_id = await doctor_with_veileder(api, world)
    await ok(
        await api.post(
            f"/api/v1/doctors/{doctor_id}/assessments",
            headers=world.hospital,
            json={"objective_id": "KLS-001", **ASSESSMENT},
        )
    )
    return doctor_id


async def test_the_doctor_requests_approval_and_withdraws_it(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await _assessed(api, world)
    requests = f"/api/v1/doctors/{doctor_id}/approval-requests"
    await ok(
        await api.post(
            requests, headers=world.doctor, json={"objective_id": "KLS-001", "org_number": HOSPITAL}
        )
    )
    withdrawal = await api.delete(f"{requests}/KLS-001", headers=world.doctor)
    schema = (await api.get("/schema/openapi.json")).json()
    documented = schema["paths"]["/api/v1/doctors/{doctor_id}/approval-requests/{objective_id}"]
    assert "200" in documented["delete"]["responses"]  # what an integration reads
    assert withdrawal.status_code == 200, withdrawal.text
    assert withdrawal.json()["status"] == "withdrawn"
    events = (await api.get(f"/api/v1/doctors/{doctor_id}/events", headers=world.doctor)).json()
    assert events["items"][-1]["type"] == "doctor.approval_request_withdrawn"
    # Another doctor may not withdraw it (nor see it).
    again = await api.delete(f"{requests}/KLS-001", headers=world.other_doctor)
    assert again.status_code in (403, 404), again.text
