"""POST /api/v1/batch: independent items, one result each, each as its own request."""

from __future__ import annotations

from tests.integration.api.flow import HOSPITAL, VEILEDER, World, appoint, ok, set_up


async def test_batch_items_succeed_or_fail_on_their_own(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await ok(
        await api.post(
            f"{base}/service-periods",
            headers=world.hospital,
            json={
                "org_number": HOSPITAL,
                "part": 1,
                "arena": "hospital",
                "position": "LIS1",
                "fte_percent": 100,
                "start": "2024-01-01",
                "end": "2024-12-31",
            },
        )
    )
    await appoint(api, base, world.hospital, "2024-01-01")
    assessment = {
        "assessor_hpr": VEILEDER,
        "assessor_role": "veileder",
        "outcome": "achieved",
        "assessed_on": "2024-05-20",
    }
    items = [
        {
            "path": f"{base}/assessments",
            "body": {**assessment, "objective_id": "KLS-001"},
            "idempotency_key": "a-1",
        },
        {"path": f"{base}/assessments", "body": {**assessment, "objective_id": "NOPE-1"}},
        {
            "path": f"{base}/assessments",
            "body": {**assessment, "objective_id": "KLS-002", "unexpected": True},
        },
        {
            "path": "/api/v1/doctors/unknown/assessments",
            "body": {**assessment, "objective_id": "KLS-002"},
        },
        {"path": "/api/v1/catalogue/versions", "body": {}},
        {"path": f"{base}/assessments", "body": {**assessment, "objective_id": "KLS-002"}},
    ]
    response = await api.post("/api/v1/batch", headers=world.hospital, json={"items": items})
    assert response.status_code == 200, response.text
    result = response.json()
    assert [r["status"] for r in result["results"]] == [201, 422, 400, 404, 400, 201]
    assert (result["succeeded"], result["failed"]) == (2, 4)
    assert result["results"][2]["body"]["field"]
    # A retried item with its idempotency key is not stored twice.
    again = await api.post("/api/v1/batch", headers=world.hospital, json={"items": items[:1]})
    assert again.json()["results"][0] == result["results"][0]
    events = (await api.get(f"{base}/events", headers=world.caseworker)).json()["items"]
    assert [e["type"] for e in events].count("doctor.objective_assessed") == 2


async def test_batch_is_for_organisations_and_bounded(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    body = {"items": [{"path": "/api/v1/doctors/x/assessments", "body": {}}]}
    assert (await api.post("/api/v1/batch", headers=world.doctor, json=body)).status_code == 403
    too_many = {"items": [{"path": "/api/v1/doctors/x/assessments"}] * 501}
    response = await api.post("/api/v1/batch", headers=world.hospital, json=too_many)
    assert response.status_code == 400
