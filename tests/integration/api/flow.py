"""Shared steps for API tests: a small catalogue, two institutions, a registered doctor."""

from __future__ import annotations

from typing import Any

HOSPITAL = "974589095"
MUNICIPALITY = "974749025"
OTHER = "983974899"
LEADER_H = "1000001"
LEADER_M = "1000002"
DELEGATE_H = "1000003"
VEILEDER = "1000010"
DOCTOR_HPR = "2000001"
OTHER_DOCTOR_HPR = "2000002"

CATALOGUE_V1: dict[str, Any] = {
    "version": "2020-03",
    "effective_from": "2020-03-01",
    "label": "SAMPLE (test)",
    "objectives": [
        {"id": "KLS-001", "part": 1, "arena": "hospital", "title": "Akutt syk pasient"},
        {"id": "KLS-002", "part": 1, "arena": "hospital", "title": "Brystsmerter"},
        {"id": "KLK-001", "part": 1, "arena": "municipal", "title": "Legevakt"},
        {"id": "FKM-001", "part": 1, "arena": "hospital", "title": "Etikk"},
        {"id": "ALM-001", "part": 3, "specialty": "allmennmedisin", "title": "Listeansvar"},
    ],
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class World:
    """Tokens for every actor of a small world, made by the test's development issuer."""

    def __init__(self, issuer: Any) -> None:
        self.admin = bearer(issuer.mint("admin"))
        self.caseworker = bearer(issuer.mint("caseworker", hpr_number="3000001"))
        self.hospital = bearer(issuer.mint("organisation", org_number=HOSPITAL))
        self.municipality = bearer(issuer.mint("organisation", org_number=MUNICIPALITY))
        self.other_org = bearer(issuer.mint("organisation", org_number=OTHER))
        self.doctor = bearer(issuer.mint("doctor", hpr_number=DOCTOR_HPR))
        self.other_doctor = bearer(issuer.mint("doctor", hpr_number=OTHER_DOCTOR_HPR))


async def ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def appoint(
    api: Any,
    base: str,
    headers: dict[str, str],
    valid_from: str,
    *,
    hpr: str = VEILEDER,
    role: str = "veileder",
    **extra: Any,
) -> str:
    """R5: the assessor is the doctor's appointed veileder (or a supervisør at the
    institution); returns the assignment id."""
    created = await ok(
        await api.post(
            f"{base}/supervisors",
            headers=headers,
            json={"hpr_number": hpr, "role": role, "valid_from": valid_from, **extra},
        )
    )
    return str(created["assignment_id"])


async def set_up(api: Any, world: World) -> str:
    """Institutions with leaders, the catalogue, and one registered doctor; returns its id."""
    for org, name, kind in [
        (HOSPITAL, "Helse Test HF", "hospital_trust"),
        (MUNICIPALITY, "Testvik kommune", "municipality"),
        (OTHER, "Annen HF", "hospital_trust"),
    ]:
        await ok(
            await api.post(
                "/api/v1/organisations",
                headers=world.admin,
                json={"org_number": org, "name": name, "kind": kind},
            )
        )
    await ok(
        await api.post(
            f"/api/v1/organisations/{HOSPITAL}/leaders",
            headers=world.hospital,
            json={"hpr_number": LEADER_H, "valid_from": "2020-01-01"},
        )
    )
    await ok(
        await api.post(
            f"/api/v1/organisations/{MUNICIPALITY}/leaders",
            headers=world.municipality,
            json={"hpr_number": LEADER_M, "valid_from": "2020-01-01"},
        )
    )
    await ok(await api.post("/api/v1/catalogue/versions", headers=world.admin, json=CATALOGUE_V1))
    registered = await ok(
        await api.post(
            "/api/v1/doctors",
            headers=world.hospital,
            json={
                "hpr_number": DOCTOR_HPR,
                "authorised_on": "2023-06-15",
                "national_id": "15076500565",
                "name": "Test Testesen",
            },
        )
    )
    await ok(
        await api.post(
            "/api/v1/doctors",
            headers=world.other_org,
            json={"hpr_number": OTHER_DOCTOR_HPR, "authorised_on": "2023-06-15"},
        )
    )
    return str(registered["doctor_id"])


async def doctor_with_veileder(api: Any, world: World, hpr: str | None = None) -> str:
    """A doctor in service at the hospital with the veileder appointed (R5)."""
    if hpr is None:
        doctor_id = await set_up(api, world)
    else:
        registered = await api.post(
            "/api/v1/doctors",
            headers=world.hospital,
            json={"hpr_number": hpr, "authorised_on": "2023-06-15"},
        )
        doctor_id = (await ok(registered))["doctor_id"]
    base = f"/api/v1/doctors/{doctor_id}"
    await ok(await api.post(f"{base}/service-periods", headers=world.hospital, json=PERIOD))
    await appoint(api, base, world.hospital, "2024-01-01")
    return str(doctor_id)


PERIOD = {
    "org_number": HOSPITAL,
    "part": 1,
    "arena": "hospital",
    "position": "LIS1",
    "fte_percent": 100,
    "start": "2024-01-01",
    "end": "2024-12-31",
}
ASSESSMENT = {
    "assessor_hpr": VEILEDER,
    "assessor_role": "veileder",
    "outcome": "achieved",
    "assessed_on": "2024-05-20",
}
