"""Nobody reaches someone else's data: for every doctor route, an organisation where the
doctor never served, another doctor, and (for employer writes) the directorate are refused
with 403 — and an unknown doctor is 404 — for every route the app serves. The route list is
read from the app, so a new route is covered the moment it exists."""

from __future__ import annotations

from services.api.access import Access
from services.api.app import create_app
from tests.integration.api.flow import HOSPITAL, World, set_up

# Who may, per access rule (the rest must be refused).
ALLOWED = {
    Access.EMPLOYER_OF_DOCTOR: {"hospital"},
    Access.NEW_OR_CURRENT_EMPLOYER: {"hospital", "municipality", "other_org"},
    Access.DOCTOR_RECORD: {"hospital", "doctor", "caseworker", "admin"},
    Access.DOCTOR_SELF: {"doctor"},
    Access.DOCTOR_SELF_OR_DIRECTORATE: {"doctor", "caseworker", "admin"},
    Access.EMPLOYER_OR_DIRECTORATE: {"hospital", "caseworker", "admin"},
    Access.ADMIN: {"admin"},
    Access.DOCTOR_SELF_OR_EMPLOYER: {"hospital", "doctor"},  # the training year (issue 15)
    Access.ORGANISATION_RELATED: {"hospital"},
    Access.CONFIRMED_EMPLOYER: {"hospital"},
    Access.DIRECTORATE: {"caseworker", "admin"},
}
ROLES = ("hospital", "municipality", "other_org", "doctor", "other_doctor", "caseworker", "admin")


def doctor_routes(settings) -> list[tuple[str, str, Access]]:  # type: ignore[no-untyped-def]
    out = []
    for route in create_app(settings).routes:
        if "{doctor_id" not in route.path:
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods:
                if method in ("OPTIONS", "HEAD"):
                    continue  # answered by the framework, no record is reached
                out.append((method, route.path, handler.opt["access"]))
    # Erasure last: once the personal data is gone, the doctor's token no longer finds them.
    return sorted(out, key=lambda r: r[1].endswith("/erasure"))


def concrete(path: str, doctor_id: str) -> str:
    path = path.replace("{doctor_id:str}", doctor_id)
    for name in ("period_id", "objective_id", "activity_id"):
        path = path.replace("{" + name + ":str}", "KLS-001")
    return path.replace("{org_number:str}", HOSPITAL)


async def test_every_doctor_route_refuses_whoever_it_is_not_for(api, api_settings, issuer) -> None:  # type: ignore[no-untyped-def]
    world = World(issuer)
    doctor_id = await set_up(api, world)  # registered by the hospital, in service nowhere else
    routes = doctor_routes(api_settings)
    assert len(routes) >= 15
    wrong: list[tuple[object, ...]] = []
    for method, path, rule in routes:
        assert rule in ALLOWED, f"{method} {path}: no expectation for {rule}"
        for role in ROLES:
            response = await api.request(
                method, concrete(path, doctor_id), headers=getattr(world, role), json={}
            )
            refused = response.status_code in (403, 404)
            if role not in ALLOWED[rule] and not refused:
                wrong.append((role, method, path, response.status_code))
            if role in ALLOWED[rule] and response.status_code in (401, 403):
                wrong.append((role, method, path, response.status_code, "wrongly refused"))
            if response.status_code >= 400:
                assert response.headers["content-type"].startswith("application/problem+json")
        unknown = await api.request(
            method, concrete(path, "no-such-doctor"), headers=world.admin, json={}
        )
        assert unknown.status_code in (403, 404), (method, path, unknown.status_code)
    assert wrong == []
