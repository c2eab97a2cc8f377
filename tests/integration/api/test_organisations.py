"""Organisations over HTTP: registration by the directorate, leaders and delegations by the
organisation itself, and nobody else."""

from __future__ import annotations

from sqlalchemy import text

from services.store.database import create_engine

ORG = "974589095"
OTHER_ORG = "974749025"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def event_count(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text("SELECT count(*) FROM events")))
    finally:
        await engine.dispose()


async def test_register_appoint_delegate_and_end(api, issuer, database_url) -> None:  # type: ignore[no-untyped-def]
    admin = bearer(issuer.mint("admin"))
    org = bearer(issuer.mint("organisation", org_number=ORG))
    response = await api.post(
        "/api/v1/organisations",
        headers=admin,
        json={"org_number": ORG, "name": "Helse Test HF", "kind": "hospital_trust"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'
    response = await api.post(
        f"/api/v1/organisations/{ORG}/leaders",
        headers=org,
        json={"hpr_number": "1000001", "valid_from": "2024-01-01"},
    )
    assert response.status_code == 201, response.text
    response = await api.post(
        f"/api/v1/organisations/{ORG}/delegations",
        headers=org,
        json={"leader_hpr": "1000001", "delegate_hpr": "1000002", "valid_from": "2024-02-01"},
    )
    assert response.status_code == 201, response.text
    delegation_id = response.json()["delegation_id"]
    response = await api.delete(
        f"/api/v1/organisations/{ORG}/delegations/{delegation_id}", headers=org
    )
    assert response.status_code == 200, response.text
    assert await event_count(database_url) == 4


async def test_only_the_directorate_registers_and_only_the_org_appoints(  # type: ignore[no-untyped-def]
    api, issuer, database_url
) -> None:
    body = {"org_number": ORG, "name": "Helse Test HF", "kind": "hospital_trust"}
    for role, kwargs in [
        ("organisation", {"org_number": ORG}),
        ("caseworker", {}),
        ("doctor", {"hpr_number": "1234567"}),
    ]:
        response = await api.post(
            "/api/v1/organisations", json=body, headers=bearer(issuer.mint(role, **kwargs))
        )
        assert response.status_code == 403, (role, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    await api.post("/api/v1/organisations", json=body, headers=bearer(issuer.mint("admin")))
    other = bearer(issuer.mint("organisation", org_number=OTHER_ORG))
    response = await api.post(
        f"/api/v1/organisations/{ORG}/leaders",
        headers=other,
        json={"hpr_number": "1000001", "valid_from": "2024-01-01"},
    )
    assert response.status_code == 403
    assert await event_count(database_url) == 1


async def test_bad_input_is_a_problem_naming_the_field_and_stores_nothing(  # type: ignore[no-untyped-def]
    api, issuer, database_url
) -> None:
    admin = bearer(issuer.mint("admin"))
    cases = [
        ({"org_number": "974589096", "name": "X", "kind": "hospital_trust"}, "org_number"),
        ({"org_number": "97458909", "name": "X", "kind": "hospital_trust"}, "org_number"),
        ({"org_number": ORG, "name": "X", "kind": "hospital"}, "kind"),
        ({"org_number": ORG, "name": "X", "kind": "hospital_trust", "extra": 1}, "extra"),
        ({"org_number": ORG, "kind": "hospital_trust"}, "name"),
    ]
    for body, field in cases:
        response = await api.post("/api/v1/organisations", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in problem["detail"] or problem.get("field") == field, problem
    assert await event_count(database_url) == 0


async def test_idempotent_retry_and_conflicting_reuse(api, issuer, database_url) -> None:  # type: ignore[no-untyped-def]
    headers = {**bearer(issuer.mint("admin")), "Idempotency-Key": "reg-1"}
    body = {"org_number": ORG, "name": "Helse Test HF", "kind": "hospital_trust"}
    first = await api.post("/api/v1/organisations", headers=headers, json=body)
    second = await api.post("/api/v1/organisations", headers=headers, json=body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.content == second.content
    different = await api.post(
        "/api/v1/organisations", headers=headers, json={**body, "name": "Another"}
    )
    assert different.status_code == 409
    assert await event_count(database_url) == 1
    duplicate = await api.post(
        "/api/v1/organisations", json=body, headers=bearer(issuer.mint("admin"))
    )
    assert duplicate.status_code == 409
