"""Relations are granted, not self-declared (issue 13; RULES.md "Reach into a record").

An organisation with no link to a doctor learns nothing from registering the doctor's HPR
number and gets no read of the wider record from a claimed service period; the doctor sees
every claim, confirms or disputes it; a registration never blocks a later one."""

from __future__ import annotations

from typing import Any

from tests.integration.api.flow import (
    DOCTOR_HPR,
    HOSPITAL,
    MUNICIPALITY,
    OTHER,
    World,
    ok,
    set_up,
)

NATIONAL_ID = "15076500565"  # the doctor's, as set_up registers it


def one_day_period(org: str, arena: str = "hospital") -> dict[str, Any]:
    return {
        "org_number": org,
        "part": 1,
        "arena": arena,
        "position": "LIS1",
        "fte_percent": 1,
        "start": "2024-03-01",
        "end": "2024-03-01",
    }


async def relations(api, world: World) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    listed = await ok(await api.get("/api/v1/me/organisations", headers=world.doctor), 200)
    return {r["org_number"]: r for r in listed}


async def test_a_claimed_period_gives_no_read_until_the_doctor_confirms(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)  # registered by HOSPITAL
    # OTHER has no link to the doctor. Registering the (public) HPR number makes a claim.
    claim = await api.post(
        "/api/v1/doctors",
        headers=world.other_org,
        json={"hpr_number": DOCTOR_HPR, "authorised_on": "2020-01-01"},
    )
    assert claim.status_code == 200, claim.text
    assert claim.json()["relation"] == "claimed"
    assert claim.json()["doctor_id"] == doctor_id
    # Its own one-day period at 1 % is recorded ...
    await ok(
        await api.post(
            f"/api/v1/doctors/{doctor_id}/service-periods",
            headers=world.other_org,
            json=one_day_period(OTHER),
        )
    )
    # ... but the wider record stays closed.
    base = f"/api/v1/doctors/{doctor_id}"
    for path in ("/progress", "/events", "/access-log", "/education-plan"):
        refused = await api.get(base + path, headers=world.other_org)
        assert refused.status_code in (403, 404), (path, refused.status_code)
        assert refused.headers["content-type"].startswith("application/problem+json")
    refused = await api.get(base + "/progress", headers=world.other_org)
    assert "claimed, not confirmed" in refused.json()["detail"]
    assert "2000001" not in refused.text and NATIONAL_ID not in refused.text
    # It reads back exactly its own facts.
    own = await ok(await api.get(base + "/claims", headers=world.other_org), 200)
    assert own["status"] == "claimed"
    assert [p["org_number"] for p in own["periods"]] == [OTHER]
    assert own["assessments"] == [] and own["approvals"] == []
    # It may not approve either: an approval rests on the wider record.
    approval = await api.post(
        base + "/approvals",
        headers=world.other_org,
        json={
            "objective_id": "KLS-001",
            "approver_hpr": "1000009",
            "org_number": OTHER,
            "approved_on": "2024-03-01",
        },
    )
    assert approval.status_code == 403 and "claimed, not confirmed" in approval.json()["detail"]
    # Its worklist does not show the doctor either.
    worklist = await ok(
        await api.get(f"/api/v1/organisations/{OTHER}/worklist", headers=world.other_org), 200
    )
    assert doctor_id not in str(worklist)
    # The doctor sees every relation: the hospital's (registration) and OTHER's claim ...
    mine = await relations(api, world)
    assert mine[HOSPITAL]["status"] == "confirmed" and mine[HOSPITAL]["basis"] == "registration"
    assert mine[OTHER]["status"] == "claimed" and mine[OTHER]["since"]
    page = await api.get("/api/v1/me/progress/page", headers=world.doctor)
    assert "Annen HF" in page.text and "Ikke bekreftet av deg" in page.text
    # ... and confirms OTHER's: now it reads the record.
    confirmed = await ok(
        await api.post(f"/api/v1/me/organisations/{OTHER}/confirmation", headers=world.doctor),
        200,
    )
    assert confirmed["status"] == "confirmed"
    assert (await api.get(base + "/progress", headers=world.other_org)).status_code == 200
    trail = await ok(await api.get(base + "/events", headers=world.doctor), 200)
    types = [e["type"] for e in trail["items"]]
    assert types.count("doctor.organisation_related") == 2
    assert "doctor.organisation_confirmed" in types
    assert all(NATIONAL_ID not in str(e["data"]) for e in trail["items"])


async def test_a_disputed_claim_is_flagged_for_the_directorate(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    await ok(
        await api.post(
            base + "/service-periods",
            headers=world.municipality,
            json=one_day_period(MUNICIPALITY, "municipal"),
        )
    )
    disputed = await ok(
        await api.post(
            f"/api/v1/me/organisations/{MUNICIPALITY}/dispute",
            headers=world.doctor,
            json={"reason": "Jeg har aldri arbeidet i Testvik kommune"},
        ),
        200,
    )
    assert disputed["status"] == "disputed"
    # The disputed organisation records nothing more, and is told why.
    refused = await api.post(
        base + "/service-periods",
        headers=world.municipality,
        json=one_day_period(MUNICIPALITY, "municipal"),
    )
    assert refused.status_code == 403 and "disputes" in refused.json()["detail"]
    # The directorate sees the flag, with the facts' owner, and may confirm after all.
    flags = await ok(await api.get("/api/v1/flags", headers=world.caseworker), 200)
    assert [(f["doctor_id"], f["org_number"]) for f in flags["disputed_relations"]] == [
        (doctor_id, MUNICIPALITY)
    ]
    assert (await api.get("/api/v1/flags", headers=world.municipality)).status_code == 403
    await ok(
        await api.post(
            f"{base}/organisations/{MUNICIPALITY}/confirmation", headers=world.caseworker
        ),
        200,
    )
    assert (await api.get(base + "/progress", headers=world.municipality)).status_code == 200
    mine = await relations(api, world)
    assert mine[MUNICIPALITY]["status"] == "confirmed"
    # An unknown relation is a 404 naming the field.
    unknown = await api.post(
        "/api/v1/me/organisations/999999999/confirmation", headers=world.doctor
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "org_number"


async def test_registration_conflicts_reveal_nothing_and_never_block(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    await set_up(api, world)  # the doctor, with NATIONAL_ID, registered by the hospital
    # Squatting: OTHER registers the doctor's national ID under a made-up HPR number.
    squat = await api.post(
        "/api/v1/doctors",
        headers=world.other_org,
        json={"hpr_number": "7654321", "authorised_on": "2020-01-01", "national_id": NATIONAL_ID},
    )
    assert squat.status_code == 201, squat.text  # nothing says the number is known
    assert set(squat.json()) == {"doctor_id", "version"}
    # A later registration by the real employer is not blocked either.
    real = await api.post(
        "/api/v1/doctors",
        headers=world.municipality,
        json={"hpr_number": "2000009", "authorised_on": "2020-01-01", "national_id": NATIONAL_ID},
    )
    assert real.status_code == 201, real.text
    # The directorate sees the conflicting identities and resolves them.
    flags = await ok(await api.get("/api/v1/flags", headers=world.admin), 200)
    conflicts = flags["identity_conflicts"]
    assert {c["doctor_id"] for c in conflicts} == {
        squat.json()["doctor_id"],
        real.json()["doctor_id"],
    }
    assert all(c["field"] == "national_id" for c in conflicts)
    resolved = await ok(
        await api.post(
            f"/api/v1/identity-conflicts/{conflicts[0]['conflict_id']}/resolution",
            headers=world.caseworker,
            json={"reason": "Feil fødselsnummer fra Annen HF"},
        ),
        200,
    )
    assert resolved["status"] == "resolved"
    flags = await ok(await api.get("/api/v1/flags", headers=world.admin), 200)
    assert len(flags["identity_conflicts"]) == len(conflicts) - 1
    # The doctor's own token still finds their own record (the HPR number decides).
    assert (await api.get("/api/v1/me/progress", headers=world.doctor)).status_code == 200


async def test_who_may_learn_that_a_doctor_is_registered(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)
    body = {"hpr_number": DOCTOR_HPR, "authorised_on": "2023-06-15"}
    # The directorate and the registering hospital may read the record: a 409 naming it.
    for who in (world.admin, world.hospital):
        again = await api.post("/api/v1/doctors", headers=who, json=body)
        assert again.status_code == 409 and doctor_id in again.json()["detail"]
        assert again.json()["field"] == "hpr_number"
    # A national ID conflict on an HPR number's claim tells the claimant nothing.
    claim = await api.post(
        "/api/v1/doctors",
        headers=world.municipality,
        json={**body, "national_id": "01017010006"},
    )
    assert claim.status_code == 200, claim.text
    assert set(claim.json()) == {"doctor_id", "version", "relation"}
    flags = await ok(await api.get("/api/v1/flags", headers=world.admin), 200)
    assert [c["doctor_id"] for c in flags["identity_conflicts"]] == [doctor_id]
