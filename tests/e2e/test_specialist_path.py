"""One doctor from LIS1 to specialist approval, over HTTP with tokens from the development
issuer, with the relay and projectors running on real PostgreSQL and NATS (issue 5):

- a 12-month hospital period with 9 % sick leave, a 6-month municipal period;
- every part-1 objective assessed by the veileder and approved by a leader — one by a
  delegate, one first returned with a comment;
- part 3 in allmennmedisin (open unselected general practice, supervision hours) to
  readiness; the doctor applies and a caseworker approves;
- progress asserted after each step, and ``as_of`` a date in the middle shows that day;
- afterwards every read model rebuilt from scratch equals the live one, byte for byte.

The catalogue is the test's own (effective 2017), so the whole path lies in the past.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from domain.calendar_days import add_months
from services.processes import all_projections
from services.projector.integration import SUBJECT, publish_outbox
from services.projector.rebuild import rebuild
from services.projector.runtime import Projector
from services.relay.relay import Relay
from services.store import eventstore
from services.store.database import create_engine
from tests.e2e.pages import REASON_MORE, caseworker_pages, doctor_page

HOSPITAL, MUNICIPALITY = "974589095", "974749025"
LEADER_H, DELEGATE_H, LEADER_M = "1000001", "1000003", "1000002"
VEILEDER_H, VEILEDER_M, VEILEDER_GP = "1000010", "1000011", "1000012"
DOCTOR_HPR = "2000001"

HOSPITAL_OBJECTIVES = ["KLS-001", "KLS-002", "KLS-003", "KLP-001", "FKM-001"]
MUNICIPAL_OBJECTIVES = ["KLK-001", "KLK-002", "FKM-002"]
PART3_OBJECTIVES = ["FKM-051", "ALM-001", "ALM-002"]
CATALOGUE = {
    "version": "e2e-2017",
    "effective_from": "2017-01-01",
    "label": "SAMPLE (end-to-end test)",
    "objectives": [
        *(
            {"id": o, "part": 1, "arena": "hospital", "title": f"Sykehus {o}"}
            for o in HOSPITAL_OBJECTIVES
        ),
        *(
            {"id": o, "part": 1, "arena": "municipal", "title": f"Kommune {o}"}
            for o in MUNICIPAL_OBJECTIVES
        ),
        {"id": "FKM-051", "part": 2, "title": "Felles kompetansemål del 2-3"},
        {"id": "ALM-001", "part": 3, "specialty": "allmennmedisin", "title": "Listeansvar"},
        {"id": "ALM-002", "part": 3, "specialty": "allmennmedisin", "title": "Legevakt"},
    ],
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def status_of(progress: dict[str, Any], objective_id: str) -> str:
    for part in progress["parts"]:
        for item in part["objectives"]:
            if item["objective_id"] == objective_id:
                return str(item["status"])
    raise AssertionError(objective_id)


def block(progress: dict[str, Any], name: str) -> dict[str, Any]:
    return next(b for b in progress["time"] if b["block"] == name)


def rules_of(progress: dict[str, Any]) -> set[str]:
    return {b["rule"] for b in progress["blockers"]}


@pytest.mark.timeout(600)
async def test_lis1_to_specialist_approval(api, issuer, api_settings) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(api_settings.database_url)
    stop = asyncio.Event()
    relay = Relay(
        engine, api_settings.nats_url, stream_name=api_settings.stream_name, idle_poll_seconds=0.02
    )
    projectors = [
        Projector(engine, api_settings.nats_url, p, stream_name=api_settings.stream_name)
        for p in all_projections()
    ]
    tasks = [
        asyncio.create_task(relay.run(stop)),
        asyncio.create_task(publish_outbox(engine, api_settings.nats_url, stop)),
        *(asyncio.create_task(p.run(stop)) for p in projectors),
    ]
    try:
        doctor_id = await walk_the_path(api, issuer)
        await until_projections_caught_up(engine)
        await assert_hpr_told_once(api_settings.nats_url, doctor_id)
        await assert_rebuild_equals_live(engine)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await engine.dispose()


async def walk_the_path(api, issuer) -> str:  # type: ignore[no-untyped-def]
    admin = bearer(issuer.mint("admin"))
    caseworker = bearer(issuer.mint("caseworker", hpr_number="3000001"))
    hospital = bearer(issuer.mint("organisation", org_number=HOSPITAL))
    municipality = bearer(issuer.mint("organisation", org_number=MUNICIPALITY))
    doctor = bearer(issuer.mint("doctor", hpr_number=DOCTOR_HPR))

    # The institutions, their leaders, a delegation, the catalogue.
    await ok(await api.post("/api/v1/catalogue/versions", headers=admin, json=CATALOGUE))
    for org, name, kind in [
        (HOSPITAL, "Helse Test HF", "hospital_trust"),
        (MUNICIPALITY, "Testvik kommune", "municipality"),
    ]:
        await ok(
            await api.post(
                "/api/v1/organisations",
                headers=admin,
                json={"org_number": org, "name": name, "kind": kind},
            )
        )
    await ok(
        await api.post(
            f"/api/v1/organisations/{HOSPITAL}/leaders",
            headers=hospital,
            json={"hpr_number": LEADER_H, "valid_from": "2017-01-01"},
        )
    )
    await ok(
        await api.post(
            f"/api/v1/organisations/{MUNICIPALITY}/leaders",
            headers=municipality,
            json={"hpr_number": LEADER_M, "valid_from": "2017-01-01"},
        )
    )
    await ok(
        await api.post(
            f"/api/v1/organisations/{HOSPITAL}/delegations",
            headers=hospital,
            json={
                "leader_hpr": LEADER_H,
                "delegate_hpr": DELEGATE_H,
                "valid_from": "2017-06-01",
                "valid_to": "2018-12-31",
            },
        )
    )

    registered = await ok(
        await api.post(
            "/api/v1/doctors",
            headers=hospital,
            json={"hpr_number": DOCTOR_HPR, "authorised_on": "2017-02-15", "name": "Kari Lege"},
        )
    )
    doctor_id = registered["doctor_id"]
    base = f"/api/v1/doctors/{doctor_id}"

    async def progress(as_of: str | None = None) -> dict[str, Any]:
        query = f"?as_of={as_of}" if as_of else ""
        return await ok(await api.get(f"{base}/progress{query}", headers=doctor), 200)  # type: ignore[no-any-return]

    # LIS1, hospital: 12 months with 9 % sick leave (33 of 365 days).
    hospital_period = (
        await ok(
            await api.post(
                f"{base}/service-periods",
                headers=hospital,
                json={
                    "org_number": HOSPITAL,
                    "part": 1,
                    "arena": "hospital",
                    "position": "LIS1",
                    "fte_percent": 100,
                    "start": "2017-03-01",
                    "end": "2018-02-28",
                },
            )
        )
    )["period_id"]
    await ok(
        await api.post(
            f"{base}/service-periods/{hospital_period}/absences",
            headers=hospital,
            json={"kind": "sick_leave", "start": "2017-10-02", "end": "2017-11-03"},
        )
    )
    await ok(
        await api.post(
            f"{base}/service-periods/{hospital_period}/absences",
            headers=hospital,
            json={"kind": "vacation", "start": "2017-07-03", "end": "2017-07-28"},
        )
    )
    await ok(
        await api.post(
            f"{base}/supervisors",
            headers=hospital,
            json={"hpr_number": VEILEDER_H, "role": "veileder", "valid_from": "2017-03-01"},
        )
    )
    now = await progress()
    hospital_time = block(now, "part1_hospital")
    assert hospital_time["deductible_absence_days"] == 33  # vacation is never deducted (R8)
    assert hospital_time["absence_deducted_days"] == 0  # 9 % is within the 10 % (R8)
    assert hospital_time["met"] is True
    assert {"R1", "R6"} <= rules_of(now)

    # Every hospital objective: the veileder assesses, a leader approves. KLS-002 is
    # approved by the delegate; KLS-003 is first returned with a comment.
    for n, objective in enumerate(HOSPITAL_OBJECTIVES):
        assessed_on = f"2017-{4 + n:02d}-10"
        await ok(
            await api.post(
                f"{base}/assessments",
                headers=hospital,
                json={
                    "objective_id": objective,
                    "assessor_hpr": VEILEDER_H,
                    "assessor_role": "veileder",
                    "outcome": "achieved",
                    "assessed_on": assessed_on,
                },
            )
        )
        if objective == "KLS-003":
            await ok(
                await api.post(
                    f"{base}/approval-requests",
                    headers=doctor,
                    json={"objective_id": objective, "org_number": HOSPITAL},
                )
            )
            worklist = await ok(
                await api.get(f"/api/v1/organisations/{HOSPITAL}/worklist", headers=hospital), 200
            )
            assert [i["objective_id"] for i in worklist["approval_requests"]] == [objective]
            await ok(
                await api.post(
                    f"{base}/approval-requests/{objective}/returns",
                    headers=hospital,
                    json={"comment": "Mangler vurdering fra supervisør"},
                )
            )
            events = await ok(await api.get(f"{base}/events", headers=doctor), 200)
            assert events["items"][-1]["type"] == "doctor.approval_request_returned"
            # R5: the supervisør who assesses is assigned at the institution.
            await ok(
                await api.post(
                    f"{base}/supervisors",
                    headers=hospital,
                    json={
                        "hpr_number": "1000020",
                        "role": "clinical_supervisor",
                        "valid_from": "2017-03-01",
                    },
                )
            )
            await ok(
                await api.post(
                    f"{base}/assessments",
                    headers=hospital,
                    json={
                        "objective_id": objective,
                        "assessor_hpr": "1000020",
                        "assessor_role": "clinical_supervisor",
                        "outcome": "achieved",
                        "assessed_on": f"2017-{5 + n:02d}-01",
                    },
                )
            )
        approver = DELEGATE_H if objective == "KLS-002" else LEADER_H
        await ok(
            await api.post(
                f"{base}/approvals",
                headers=hospital,
                json={
                    "objective_id": objective,
                    "approver_hpr": approver,
                    "org_number": HOSPITAL,
                    "approved_on": f"2017-{5 + n:02d}-15",
                },
            )
        )
        assert status_of(await progress(), objective) == "approved"
    delegated = next(
        o
        for p in (await progress())["parts"]
        for o in p["objectives"]
        if o["objective_id"] == "KLS-002"
    )
    assert delegated["approved_by_hpr"] == DELEGATE_H
    assert delegated["on_behalf_of_leader_hpr"] == LEADER_H
    await ok(
        await api.post(
            f"{base}/service-periods/{hospital_period}/confirmation",
            headers=hospital,
            json={"issued_on": "2018-03-01", "signed_by_hpr": LEADER_H},
        )
    )

    # LIS1, municipality: 6 months.
    municipal_period = (
        await ok(
            await api.post(
                f"{base}/service-periods",
                headers=municipality,
                json={
                    "org_number": MUNICIPALITY,
                    "part": 1,
                    "arena": "municipal",
                    "position": "LIS1",
                    "fte_percent": 100,
                    "start": "2018-03-01",
                    "end": "2018-08-31",
                },
            )
        )
    )["period_id"]
    # The municipality's relation is claimed until the doctor confirms it (issue 13): only
    # then may it approve, which rests on the doctor's wider record.
    await ok(
        await api.post(f"/api/v1/me/organisations/{MUNICIPALITY}/confirmation", headers=doctor),
        200,
    )
    await ok(
        await api.post(
            f"{base}/supervisors",
            headers=municipality,
            json={"hpr_number": VEILEDER_M, "role": "veileder", "valid_from": "2018-03-01"},
        )
    )
    for n, objective in enumerate(MUNICIPAL_OBJECTIVES):
        await ok(
            await api.post(
                f"{base}/assessments",
                headers=municipality,
                json={
                    "objective_id": objective,
                    "assessor_hpr": VEILEDER_M,
                    "assessor_role": "veileder",
                    "outcome": "achieved",
                    "assessed_on": f"2018-0{4 + n}-10",
                },
            )
        )
        await ok(
            await api.post(
                f"{base}/approvals",
                headers=municipality,
                json={
                    "objective_id": objective,
                    "approver_hpr": LEADER_M,
                    "org_number": MUNICIPALITY,
                    "approved_on": f"2018-0{4 + n}-20",
                },
            )
        )
    await ok(
        await api.post(
            f"{base}/service-periods/{municipal_period}/confirmation",
            headers=municipality,
            json={"issued_on": "2018-09-01", "signed_by_hpr": LEADER_M},
        )
    )
    after_lis1 = await progress()
    part1 = next(p for p in after_lis1["parts"] if p["part"] == 1)
    assert part1["approved"] == part1["total"] == 8
    assert "R1" not in rules_of(after_lis1)

    # As of a day in the hospital year: only what had happened by then.
    middle = await progress("2017-06-20")
    assert middle["as_of"] == "2017-06-20"
    assert status_of(middle, "KLS-001") == "approved"  # approved 2017-05-15
    assert status_of(middle, "KLS-002") == "approved"  # by the delegate, 2017-06-15
    assert status_of(middle, "KLS-003") == "assessed_achieved"  # returned, approved in July
    assert status_of(middle, "KLK-001") == "open"
    assert block(middle, "part1_hospital")["met"] is False

    # Part 3, allmennmedisin: 5.5 years in open unselected general practice.
    gp_period = (
        await ok(
            await api.post(
                f"{base}/service-periods",
                headers=municipality,
                json={
                    "org_number": MUNICIPALITY,
                    "part": 3,
                    "position": "Fastlege",
                    "fte_percent": 100,
                    "start": "2019-03-01",
                    "end": "2024-08-31",
                    "specialty": "allmennmedisin",
                    "open_unselected_gp": True,
                },
            )
        )
    )["period_id"]
    await ok(
        await api.post(
            f"{base}/supervisors",
            headers=municipality,
            json={
                "hpr_number": VEILEDER_GP,
                "role": "veileder",
                "valid_from": "2019-03-01",
                "part": 3,
                "specialty": "allmennmedisin",
                "specialist_in": "allmennmedisin",
            },
        )
    )
    months = []
    month = date(2019, 3, 1)
    while month <= date(2024, 8, 1):
        months.append(
            {
                "path": f"{base}/supervision-hours",
                "body": {"month": f"{month:%Y-%m}", "hours": 4},
                "idempotency_key": f"hours-{month:%Y-%m}",
            }
        )
        month = add_months(month, 1)
    batch = await ok(
        await api.post("/api/v1/batch", headers=municipality, json={"items": months}), 200
    )
    assert batch["failed"] == 0 and batch["succeeded"] == 66
    for n, objective in enumerate(PART3_OBJECTIVES):
        await ok(
            await api.post(
                f"{base}/assessments",
                headers=municipality,
                json={
                    "objective_id": objective,
                    "assessor_hpr": VEILEDER_GP,
                    "assessor_role": "veileder",
                    "outcome": "achieved",
                    "assessed_on": f"2023-0{3 + n}-10",
                },
            )
        )
        await ok(
            await api.post(
                f"{base}/approvals",
                headers=municipality,
                json={
                    "objective_id": objective,
                    "approver_hpr": LEADER_M,
                    "org_number": MUNICIPALITY,
                    "approved_on": f"2023-0{3 + n}-20",
                },
            )
        )
    await ok(
        await api.post(
            f"{base}/service-periods/{gp_period}/confirmation",
            headers=municipality,
            json={"issued_on": "2024-09-02", "signed_by_hpr": LEADER_M},
        )
    )
    ready = await ok(
        await api.get(f"{base}/progress?specialty=allmennmedisin", headers=doctor), 200
    )
    # R16: part 3 at an institution not registered for the specialty is flagged until the
    # directorate registers it.
    assert {b["rule"] for b in ready["blockers"]} == {"R16", "R17"}, ready["blockers"]
    await ok(
        await api.post(
            f"/api/v1/organisations/{MUNICIPALITY}/registrations",
            headers=admin,
            json={"specialty": "allmennmedisin", "valid_from": "2019-03-01"},
        )
    )
    ready = await ok(
        await api.get(f"{base}/progress?specialty=allmennmedisin", headers=doctor), 200
    )
    # R17 (no education plan yet) is flagged in progress but does not block the application.
    assert [b["rule"] for b in ready["blockers"]] == ["R17", "R17"], ready["blockers"]

    # The doctor applies; the bundle is frozen; the caseworker approves.
    applied = await ok(
        await api.post(f"{base}/applications", headers=doctor, json={"specialty": "allmennmedisin"})
    )
    application_id = applied["application_id"]
    bundle = await ok(
        await api.get(f"/api/v1/applications/{application_id}", headers=caseworker), 200
    )
    assert bundle["status"] == "submitted"
    assert bundle["content_hash"] == applied["content_hash"]
    approved_ids = {o["objective_id"] for o in bundle["bundle"]["approved_objectives"]}
    assert approved_ids == {*HOSPITAL_OBJECTIVES, *MUNICIPAL_OBJECTIVES, *PART3_OBJECTIVES}
    assert all(p["confirmation"] for p in bundle["bundle"]["service_periods"])
    # Later events do not change the bundle.
    await ok(
        await api.post(
            f"{base}/assessments",
            headers=municipality,
            json={
                "objective_id": "ALM-001",
                "assessor_hpr": VEILEDER_GP,
                "assessor_role": "veileder",
                "outcome": "achieved",
                "assessed_on": "2024-08-30",
                "comment": "etter søknad",
            },
        )
    )
    again = await ok(
        await api.get(f"/api/v1/applications/{application_id}", headers=caseworker), 200
    )
    assert again["bundle"] == bundle["bundle"] and again["content_hash"] == bundle["content_hash"]
    queue = await wait_for(
        lambda: api.get("/api/v1/applications?status=submitted", headers=caseworker),
        lambda body: len(body["items"]) == 1,
    )
    assert queue["items"][0]["application_id"] == application_id
    tokens = {
        "admin": admin,
        "caseworker": caseworker,
        "doctor": doctor,
        "hospital": hospital,
        "municipality": municipality,
    }
    await caseworker_pages(api, tokens, application_id)  # issue 15
    # Every decision reaches the doctor with its reason (issue 13): first what is missing ...
    missing = "Attest for kurs i palliasjon mangler"
    await ok(
        await api.post(
            f"/api/v1/applications/{application_id}/decision",
            headers=caseworker,
            json={"outcome": "more_information_needed", "reason": missing},
        )
    )
    asked = await ok(await api.get(f"{base}/progress", headers=doctor), 200)
    assert asked["applications"][0]["decisions"][-1]["reason"] == missing
    page = await api.get("/api/v1/me/progress/page", headers=doctor)
    assert f"Dette mangler: {missing}" in page.text
    # ... then the approval.
    await ok(
        await api.post(
            f"/api/v1/applications/{application_id}/decision",
            headers=caseworker,
            json={"outcome": "approved", "reason": "Alle krav er oppfylt"},
        )
    )
    decided = await ok(await api.get(f"/api/v1/applications/{application_id}", headers=doctor), 200)
    assert decided["status"] == "approved"
    assert [(d["outcome"], d["reason"]) for d in decided["decisions"]] == [
        ("more_information_needed", REASON_MORE),  # the caseworker's form (issue 15)
        ("more_information_needed", missing),  # the JSON decision (issue 13)
        ("approved", "Alle krav er oppfylt"),
    ]
    final = await ok(await api.get(f"{base}/progress", headers=doctor), 200)
    assert final["applications"][0]["status"] == "approved"
    await doctor_page(api, tokens, doctor_id, VEILEDER_GP)  # issue 15
    assert final["applications"][0]["decisions"][-1]["reason"] == "Alle krav er oppfylt"
    page = await api.get("/api/v1/me/progress/page", headers=doctor)
    assert "Begrunnelse: Alle krav er oppfylt" in page.text
    # The caseworker's reads of the bundle are in the doctor's access log.
    log = await ok(await api.get(f"{base}/access-log?limit=500", headers=doctor), 200)
    reads = [
        e
        for e in log["items"]
        if e["actor_kind"] == "caseworker" and e["endpoint"].startswith("/api/v1/applications/")
    ]
    assert any(e["method"] == "GET" for e in reads) and any(e["method"] == "POST" for e in reads)
    return str(doctor_id)


async def assert_hpr_told_once(nats_url: str, doctor_id: str) -> None:
    """All part-1 objectives approved: one integration event for the HPR register."""
    import msgspec
    import nats

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        mine: list[dict[str, Any]] = []
        deadline = time.monotonic() + 20
        while not mine and time.monotonic() < deadline:
            try:
                sub = await js.subscribe(SUBJECT, ordered_consumer=True)
            except nats.js.errors.NotFoundError:  # the publisher has not created it yet
                await asyncio.sleep(0.2)
                continue
            while True:
                try:
                    msg = await sub.next_msg(timeout=0.5)
                except TimeoutError:  # nats-py raises asyncio's own when the fetch deadline passes
                    break
                body = msgspec.json.decode(msg.data)
                if body["doctor_id"] == doctor_id:
                    mine.append(body)
            await sub.unsubscribe()
        assert len(mine) == 1, mine
        assert mine[0]["approved_on"] == "2018-06-20"  # the last part-1 approval
    finally:
        await nc.close()


async def wait_for(get, condition, seconds: float = 10) -> Any:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        body = (await get()).json()
        if condition(body) or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.1)


async def until_projections_caught_up(engine) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while True:
        async with engine.connect() as conn:
            head = await eventstore.head(conn)
            behind = await conn.scalar(
                text(
                    "SELECT count(*) FROM projection_checkpoints "
                    "WHERE (transaction_id, position) < (:t, :p)"
                ),
                {"t": head.transaction_id, "p": head.position},
            )
        if behind == 0:
            return
        assert time.monotonic() < deadline, "projections did not catch up"
        await asyncio.sleep(0.1)


async def table_bytes(engine, table: str) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        rows = await conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
        return [tuple(row) for row in rows]


async def assert_rebuild_equals_live(engine) -> None:  # type: ignore[no-untyped-def]
    projections = all_projections()
    live = {p.name: {t: await table_bytes(engine, t) for t in p.tables} for p in projections}
    await rebuild(engine, *projections)  # one pass over the store for all of them
    for projection in projections:
        rebuilt = {t: await table_bytes(engine, t) for t in projection.tables}
        assert rebuilt == live[projection.name], projection.name
        assert any(live[projection.name].values()), f"{projection.name} is empty"
