"""POST /api/v1/batch: independent items, one result each, each as its own request."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from tests.integration.api.flow import (
    ASSESSMENT,
    HOSPITAL,
    OTHER,
    PERIOD,
    VEILEDER,
    World,
    appoint,
    doctor_with_veileder,
    ok,
    set_up,
)


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


# A batch as a batch (issue 14): one transaction per doctor, a savepoint per item ----------
async def _column(url: str, query: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return [r[0] for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


def _assess(doctor_id: str, objective: str, key: str | None = None, **extra: Any) -> Any:
    item = {
        "path": f"/api/v1/doctors/{doctor_id}/assessments",
        "body": {**ASSESSMENT, "objective_id": objective},
        **extra,
    }
    return {**item, "idempotency_key": key} if key else item


async def test_one_doctors_items_commit_together_and_fail_alone(
    api: Any, issuer: Any, api_settings: Any
) -> None:
    world, url = World(issuer), api_settings.database_url
    doctor_id = await doctor_with_veileder(api, world)
    items = [
        _assess(doctor_id, "KLS-001", "m-1"),
        _assess(doctor_id, "NOPE-1", "m-2"),  # refused by the domain: 422
        _assess(doctor_id, "KLS-002", "m-3"),
        {**_assess(doctor_id, "KLS-002", "m-4"), "if_match": '"1"'},  # stale: 409
        _assess(doctor_id, "FKM-001", "m-5"),
    ]
    headers = {**world.hospital, "X-Request-Id": "batch-mixed"}
    response = await api.post("/api/v1/batch", headers=headers, json={"items": items})
    result = response.json()
    assert [r["status"] for r in result["results"]] == [201, 422, 201, 409, 201]
    # The refused items rolled back to their savepoints; the three stored ones are in the
    # stream in their order, each with its access row and key.
    versions = [r["body"]["version"] for r in result["results"] if r["status"] == 201]
    assert versions == [versions[0], versions[0] + 1, versions[0] + 2]
    stored = await _column(
        url,
        "SELECT data->>'objective_id' FROM events WHERE stream_id = $1 "
        "AND metadata->>'request_id' = 'batch-mixed' ORDER BY version",
        doctor_id,
    )
    assert stored == ["KLS-001", "KLS-002", "FKM-001"]
    statuses = await _column(
        url,
        "SELECT status::text FROM access_log WHERE request_id = 'batch-mixed' ORDER BY status",
    )
    assert statuses == ["201", "201", "201", "409", "422"]  # each item once, refused too

    # Replayed: each item's first answer again, nothing stored twice, no new key.
    again = (await api.post("/api/v1/batch", headers=headers, json={"items": items})).json()
    assert [r["status"] for r in again["results"]] == [201, 422, 201, 409, 201]
    assert [r["body"] for r in again["results"] if r["status"] == 201] == [
        r["body"] for r in result["results"] if r["status"] == 201
    ]
    count = await _column(
        url, "SELECT count(*)::text FROM events WHERE metadata->>'request_id' = 'batch-mixed'"
    )
    assert count == ["3"]
    keys = await _column(url, "SELECT count(*)::text FROM idempotency_keys WHERE key LIKE 'm-%'")
    assert keys == ["3"]


async def test_items_of_several_doctors_one_transaction_each_in_order(
    api: Any, issuer: Any, api_settings: Any
) -> None:
    world, url = World(issuer), api_settings.database_url
    first = await doctor_with_veileder(api, world)
    second = await doctor_with_veileder(api, world, hpr="2000003")
    version = (await api.get(f"/api/v1/doctors/{first}/events", headers=world.caseworker)).json()
    at = len(version["items"])
    # Interleaved; the first doctor's items chained by If-Match: they pass only in order.
    items = [
        {**_assess(first, "KLS-001"), "if_match": f'"{at}"'},
        _assess(second, "KLS-001"),
        {**_assess(first, "KLS-002"), "if_match": f'"{at + 1}"'},
        {"path": "/api/v1/doctors/unknown-doctor/assessments", "body": ASSESSMENT},
        _assess(second, "NOPE-2"),
        {**_assess(first, "FKM-001"), "if_match": f'"{at + 2}"'},
        _assess(second, "KLS-002"),
    ]
    headers = {**world.hospital, "X-Request-Id": "batch-many"}
    result = (await api.post("/api/v1/batch", headers=headers, json={"items": items})).json()
    assert [r["index"] for r in result["results"]] == list(range(7))
    assert [r["status"] for r in result["results"]] == [201, 201, 201, 404, 422, 201, 201]
    assert [result["results"][i]["body"]["version"] for i in (0, 2, 5)] == [
        at + 1,
        at + 2,
        at + 3,
    ]
    per_doctor = await _column(
        url,
        "SELECT stream_id || ':' || string_agg(data->>'objective_id', ',' ORDER BY version) "
        "FROM events WHERE metadata->>'request_id' = 'batch-many' GROUP BY stream_id ORDER BY 1",
    )
    assert sorted(per_doctor) == sorted(
        [f"{first}:KLS-001,KLS-002,FKM-001", f"{second}:KLS-001,KLS-002"]
    )


async def test_a_doctors_group_commits_or_rolls_back_as_one(
    api: Any, issuer: Any, api_settings: Any
) -> None:
    """A trigger fails, at COMMIT, any transaction that stored the second doctor's FKM-001
    assessment. That doctor's earlier item (KLS-001, savepoint released, answered 201 in the
    group) goes with it: one transaction. The first doctor's group committed before."""
    world, url = World(issuer), api_settings.database_url
    first = await doctor_with_veileder(api, world)
    second = await doctor_with_veileder(api, world, hpr="2000003")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            f"""
            CREATE FUNCTION doom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'doomed at commit'; END $$;
            CREATE CONSTRAINT TRIGGER doom AFTER INSERT ON events
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
              WHEN (NEW.stream_id = '{second}' AND NEW.data->>'objective_id' = 'FKM-001')
              EXECUTE FUNCTION doom();
            """
        )
    finally:
        await conn.close()
    items = [
        _assess(first, "KLS-001"),
        _assess(second, "KLS-001"),
        _assess(first, "KLS-002"),
        _assess(second, "FKM-001"),
    ]
    headers = {**world.hospital, "X-Request-Id": "batch-doom"}
    response = await api.post("/api/v1/batch", headers=headers, json={"items": items})
    assert response.status_code == 500
    stored = await _column(
        url,
        "SELECT stream_id || ':' || (data->>'objective_id') FROM events "
        "WHERE metadata->>'request_id' = 'batch-doom' ORDER BY position",
    )
    assert stored == [f"{first}:KLS-001", f"{first}:KLS-002"]
    logged = await _column(
        url,
        "SELECT doctor_id || ':' || status FROM access_log WHERE request_id = 'batch-doom' "
        "ORDER BY id",
    )
    # Each item once: the first doctor's with its commit, the second's as failed attempts.
    assert sorted(logged) == sorted(
        [f"{first}:201", f"{first}:201", f"{second}:500", f"{second}:500"]
    )


async def test_a_claim_made_by_an_earlier_item_counts_for_the_next(api: Any, issuer: Any) -> None:
    """An organisation without a relation records a period (its claim) and, in the same
    batch, appoints a veileder: the second item's access check sees the first's claim, as
    it would had they been two requests."""
    world = World(issuer)
    doctor_id = await set_up(api, world)
    base = f"/api/v1/doctors/{doctor_id}"
    items = [
        {"path": f"{base}/service-periods", "body": {**PERIOD, "org_number": OTHER}},
        {
            "path": f"{base}/supervisors",
            "body": {"hpr_number": VEILEDER, "role": "veileder", "valid_from": "2024-01-01"},
        },
    ]
    result = (
        await api.post("/api/v1/batch", headers=world.other_org, json={"items": items})
    ).json()
    assert [r["status"] for r in result["results"]] == [201, 201], result


async def test_batch_and_single_writers_of_one_doctor_at_once(
    api: Any, issuer: Any, api_settings: Any
) -> None:
    """Without If-Match nobody loses a write to the others: the batch's group and single
    requests queue on the stream, each item gets its own right result, versions stay
    gap-free."""
    world, url = World(issuer), api_settings.database_url
    doctor_id = await doctor_with_veileder(api, world)
    objectives = ["KLS-001", "KLS-002", "FKM-001"]
    batch = [_assess(doctor_id, objectives[k % 3], f"c-{k}") for k in range(12)]

    async def single(k: int) -> int:
        response = await api.post(
            f"/api/v1/doctors/{doctor_id}/assessments",
            headers=world.hospital,
            json={**ASSESSMENT, "objective_id": objectives[k % 3]},
        )
        return int(response.status_code)

    sent = api.post("/api/v1/batch", headers=world.hospital, json={"items": batch})
    answered, *singles = await asyncio.gather(sent, *(single(k) for k in range(8)))
    assert [r["status"] for r in answered.json()["results"]] == [201] * 12
    assert singles == [201] * 8
    versions = await _column(
        url, "SELECT version FROM events WHERE stream_id = $1 ORDER BY version", doctor_id
    )
    assert versions == list(range(1, len(versions) + 1))
    assessed = await _column(
        url,
        "SELECT count(*)::text FROM events WHERE stream_id = $1 "
        "AND type = 'doctor.objective_assessed'",
        doctor_id,
    )
    assert assessed == ["20"]


async def test_one_key_twice_in_a_batch_is_stored_once(
    api: Any, issuer: Any, api_settings: Any
) -> None:
    """The batch looks its keys up once, before its groups: a key an earlier item used is
    still answered from that item's result (or refused for another body), nothing twice."""
    world, url = World(issuer), api_settings.database_url
    first = await doctor_with_veileder(api, world)
    second = await doctor_with_veileder(api, world, hpr="2000003")
    items = [
        _assess(first, "KLS-001", "twice"),
        _assess(first, "KLS-001", "twice"),
        _assess(second, "KLS-001", "twice"),  # another path: another body under one key
        _assess(first, "KLS-002", "once-more"),
    ]
    headers = {**world.hospital, "X-Request-Id": "batch-twice"}
    result = (await api.post("/api/v1/batch", headers=headers, json={"items": items})).json()
    assert [r["status"] for r in result["results"]] == [201, 201, 409, 201]
    assert result["results"][0]["body"] == result["results"][1]["body"]
    stored = await _column(
        url,
        "SELECT stream_id || ':' || (data->>'objective_id') FROM events "
        "WHERE metadata->>'request_id' = 'batch-twice' ORDER BY position",
    )
    assert stored == [f"{first}:KLS-001", f"{first}:KLS-002"]
