"""A new catalogue version in the read model (R4): approvals of objectives that did not become
stricter carry over; a stricter objective must be assessed and approved again."""

from __future__ import annotations

import json
from pathlib import Path

import domain.catalogues
from tests.integration.api.flow import (
    HOSPITAL,
    LEADER_H,
    LEADER_M,
    MUNICIPALITY,
    World,
    appoint,
    ok,
)

SAMPLES = Path(domain.catalogues.__file__).parent


def as_api_body(name: str) -> dict:  # type: ignore[type-arg]
    raw = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return {
        "version": raw["version"],
        "effective_from": raw["effective_from"],
        "label": raw["label"][:200],
        "objectives": [{k: v for k, v in o.items() if v is not None} for o in raw["objectives"]],
        "carry_over": raw.get("changes", []),
    }


def objective(progress: dict, objective_id: str) -> dict:  # type: ignore[type-arg]
    return next(
        o for p in progress["parts"] for o in p["objectives"] if o["objective_id"] == objective_id
    )


async def test_carry_over_after_a_revision_R4(api, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    await ok(
        await api.post(
            "/api/v1/catalogue/versions",
            headers=world.admin,
            json=as_api_body("annex2_sample_v1.json"),
        )
    )
    for org, kind, leader, headers in [
        (HOSPITAL, "hospital_trust", LEADER_H, world.hospital),
        (MUNICIPALITY, "municipality", LEADER_M, world.municipality),
    ]:
        await ok(
            await api.post(
                "/api/v1/organisations",
                headers=world.admin,
                json={"org_number": org, "name": org, "kind": kind},
            )
        )
        await ok(
            await api.post(
                f"/api/v1/organisations/{org}/leaders",
                headers=headers,
                json={"hpr_number": leader, "valid_from": "2020-01-01"},
            )
        )
    doctor_id = (
        await ok(
            await api.post(
                "/api/v1/doctors",
                headers=world.hospital,
                json={"hpr_number": "2000001", "authorised_on": "2023-01-10"},
            )
        )
    )["doctor_id"]
    base = f"/api/v1/doctors/{doctor_id}"
    for org, arena, headers, start, end in [
        (HOSPITAL, "hospital", world.hospital, "2023-02-01", "2024-01-31"),
        (MUNICIPALITY, "municipal", world.municipality, "2024-02-01", "2024-07-31"),
    ]:
        await ok(
            await api.post(
                f"{base}/service-periods",
                headers=headers,
                json={
                    "org_number": org,
                    "part": 1,
                    "arena": arena,
                    "position": "LIS1",
                    "fte_percent": 100,
                    "start": start,
                    "end": end,
                },
            )
        )
    # The municipality's claimed relation, confirmed by the directorate (issue 13).
    await ok(
        await api.post(f"{base}/organisations/{MUNICIPALITY}/confirmation", headers=world.admin),
        200,
    )
    # R5: the appointed veileder assesses, inside the service at each institution.
    await appoint(api, base, world.hospital, "2023-02-01", hpr="1000010")
    for objective_id, org, leader, headers, assessed_on, approved_on in [
        ("KLS-003", HOSPITAL, LEADER_H, world.hospital, "2024-01-10", "2024-01-20"),
        ("KLK-012", MUNICIPALITY, LEADER_M, world.municipality, "2024-05-02", "2024-05-03"),
    ]:
        await ok(
            await api.post(
                f"{base}/assessments",
                headers=headers,
                json={
                    "objective_id": objective_id,
                    "assessor_hpr": "1000010",
                    "assessor_role": "veileder",
                    "outcome": "achieved",
                    "assessed_on": assessed_on,
                },
            )
        )
        await ok(
            await api.post(
                f"{base}/approvals",
                headers=headers,
                json={
                    "objective_id": objective_id,
                    "approver_hpr": leader,
                    "org_number": org,
                    "approved_on": approved_on,
                },
            )
        )
    before = (await api.get(f"{base}/progress", headers=world.doctor)).json()
    assert objective(before, "KLK-012")["status"] == "approved"

    await ok(
        await api.post(
            "/api/v1/catalogue/versions",
            headers=world.admin,
            json=as_api_body("annex2_sample_v2.json"),
        )
    )
    after = (await api.get(f"{base}/progress", headers=world.doctor)).json()
    assert after["catalogue_version"] == "sample-2024-09-01"
    assert objective(after, "KLS-003")["status"] == "approved"  # reworded, not stricter
    stricter = objective(after, "KLK-012")
    assert stricter["status"] != "approved" and stricter["needs_reapproval"] is True
    # As of a day before the revision, the old version and its approval still stand.
    then = (await api.get(f"{base}/progress?as_of=2024-08-31", headers=world.doctor)).json()
    assert then["catalogue_version"] == "sample-2020-03-01"
    assert objective(then, "KLK-012")["status"] == "approved"
