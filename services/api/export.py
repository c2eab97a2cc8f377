""" "Last ned min utdanning" (issue 15): the doctor's whole record, for data portability, as
JSON (``/api/v1/me/export``) and as a printable HTML page in bokmål
(``/api/v1/me/export/page``): every event of the record, progress, learning activities,
supervision meetings with their notes, the education plan and the access log."""

from __future__ import annotations

from html import escape
from typing import Any

import msgspec
from litestar import Controller, Response

from services.api.access import Access
from services.api.access_log import access_log_middleware
from services.api.dependencies import MyDoctorIdDep, ServicesDep
from services.api.progress_page import STATUS_NB, STYLE
from services.api.route import get
from services.api.training_page import KIND_NB, MEETING_NB
from services.bootstrap import Services
from services.clock import today
from services.read_models.training import NotesReader

PAGE = 500


async def _all_events(services: Services, doctor_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    while True:
        rows = await services.records.audit_trail(doctor_id, after, PAGE)
        for row in rows[:PAGE]:
            metadata = msgspec.json.decode(row.metadata)
            out.append(
                {
                    "version": row.version,
                    "type": row.type,
                    "schema_version": row.schema_version,
                    "recorded_at": row.recorded_at.isoformat(),
                    "actor": metadata.get("actor", {}),
                    "on_behalf_of": metadata.get("on_behalf_of"),
                    "data": msgspec.json.decode(row.data),
                }
            )
        if len(rows) <= PAGE:
            return out
        after = rows[PAGE - 1].version


async def _access_log(services: Services, doctor_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    await services.access_log.flush()  # this process's buffered reads first (access_log.py)
    while True:
        rows = await services.records.access_log(doctor_id, after, PAGE)
        out += [
            {
                "at": row.at.isoformat(),
                "actor_kind": row.actor_kind,
                "actor_hpr": row.actor_hpr,
                "client_id": row.client_id,
                "org_number": row.org_number,
                "action": row.action,
                "method": row.method,
                "endpoint": row.endpoint,
                "status": row.status,
            }
            for row in rows[:PAGE]
        ]
        if len(rows) <= PAGE:
            return out
        after = rows[PAGE - 1].id


async def whole_record(services: Services, doctor_id: str) -> dict[str, Any]:
    view = await services.queries.progress(doctor_id, today(), None, None)
    plan = await services.training_reads.plan(doctor_id, None)
    return {
        "doctor_id": doctor_id,
        "name": await services.queries.name_of(doctor_id),
        "exported_on": today().isoformat(),
        "progress": msgspec.to_builtins(view.progress),
        "applications": await services.queries.applications_of(doctor_id),
        "activities": msgspec.to_builtins(await services.training_reads.activities(doctor_id)),
        "meetings": msgspec.to_builtins(
            await services.training_reads.meetings(doctor_id, NotesReader(doctor=True))
        ),
        "education_plan": msgspec.to_builtins(plan) if plan is not None else None,
        "events": await _all_events(services, doctor_id),
        "access_log": await _access_log(services, doctor_id),
    }


def _table(headers: list[str], rows: list[list[str]]) -> str:
    e = escape
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


PRINT_STYLE = """
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #e3e6ea;padding:.3rem;text-align:left;vertical-align:top}
.scroll{overflow-x:auto}
@media print{body{background:#fff}section{box-shadow:none;break-inside:avoid}.noprint{display:none}}
"""


def _section(title: str, headers: list[str], rows: list[list[str]]) -> str:
    return f"<section><h2>{title}</h2>{_table(headers, rows)}</section>"


def _objectives(progress: dict[str, Any]) -> str:
    headers = ["Læringsmål", "Tittel", "Status", "Godkjent", "Aktiviteter"]
    rows = [
        [
            o["objective_id"],
            o["title"],
            STATUS_NB.get(o["status"], o["status"]),
            o["approved_on"] or "",
            ", ".join(a["description"] for a in o["activities"]),
        ]
        for part in progress["parts"]
        for o in part["objectives"]
    ]
    return _section("Læringsmål", headers, rows)


def _activities(activities: list[dict[str, Any]]) -> str:
    headers = ["Dato", "Type", "Beskrivelse", "Læringsmål", "Signert av", "Signert"]
    rows = [
        [
            a["date"],
            KIND_NB.get(a["kind"], a["kind"]),
            a["description"],
            ", ".join(a["objective_ids"]),
            a["signed_by_hpr"] or "",
            a["signed_on"] or "ikke signert",
        ]
        for a in activities
    ]
    return _section("Læringsaktiviteter", headers, rows)


def _meetings(meetings: list[dict[str, Any]]) -> str:
    headers = ["Dato", "Type", "Minutter", "Veileder (HPR)", "Notater"]
    rows = [
        [
            m["held_on"],
            MEETING_NB.get(m["kind"], m["kind"]),
            str(m["minutes"]),
            m["veileder_hpr"],
            m["notes"] or "",
        ]
        for m in meetings
    ]
    return _section("Veiledningsmøter", headers, rows)


def _events(events: list[dict[str, Any]]) -> str:
    headers = ["#", "Registrert", "Hendelse", "Av"]
    rows = [
        [
            str(ev["version"]),
            ev["recorded_at"][:19].replace("T", " "),
            ev["type"],
            str(ev["actor"].get("org_number") or ev["actor"].get("kind") or ""),
        ]
        for ev in events
    ]
    return _section("Hendelser i journalen", headers, rows)


def _access_entries(access_log: list[dict[str, Any]]) -> str:
    headers = ["Tidspunkt", "Hvem", "Virksomhet", "Hva"]
    rows = [
        [
            a["at"][:19].replace("T", " "),
            a["actor_hpr"] or a["actor_kind"],
            a["org_number"] or "",
            a["action"],
        ]
        for a in access_log
    ]
    return _section("Innsynslogg", headers, rows)


def render_export(record: dict[str, Any]) -> str:
    """The printable page: who and when, then one table per part of the record."""
    e = escape
    head = [
        "<!doctype html><html lang=nb><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width,initial-scale=1">',
        f"<title>Min utdanning – eksport</title><style>{STYLE}{PRINT_STYLE}</style></head>",
        "<body><main><h1>Min utdanning</h1>",
        f'<p class="muted">{e(record["name"] or "")} · eksportert {e(record["exported_on"])}'
        " · hele journalen i registeret</p>",
        '<p class="noprint">Skriv ut denne siden, eller last ned alt som JSON fra '
        "<code>/api/v1/me/export</code>.</p>",
    ]
    sections = [
        _objectives(record["progress"]),
        _activities(record["activities"]),
        _meetings(record["meetings"]),
        _events(record["events"]),
        _access_entries(record["access_log"]),
    ]
    return "".join([*head, *sections, "</main></body></html>"])


class ExportController(Controller):
    path = "/api/v1/me/export"
    tags = ["progress"]  # noqa: RUF012
    middleware = [access_log_middleware]  # noqa: RUF012

    @get("/", Access.DOCTOR_ME)
    async def export(self, services: ServicesDep, my_doctor_id: MyDoctorIdDep) -> dict[str, Any]:
        """ "Last ned min utdanning": the whole record as JSON (events, progress, activities,
        meetings with notes, access log)"""
        return await whole_record(services, my_doctor_id)

    @get("/page", Access.DOCTOR_ME, media_type="text/html")
    async def export_page(
        self, services: ServicesDep, my_doctor_id: MyDoctorIdDep
    ) -> Response[str]:
        """ "Last ned min utdanning" as a printable page (HTML, Norwegian bokmål)"""
        return Response(
            render_export(await whole_record(services, my_doctor_id)), media_type="text/html"
        )
