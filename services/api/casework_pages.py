"""The caseworker's pages (issue 15), HTML in Norwegian bokmål under ``/saksbehandling/``,
for Helsedirektoratet's caseworker tokens only: the queue (filters, sorting, age), one
application's frozen evidence bundle laid out for review, and the decision form. The form
posts to ``/saksbehandling/soknader/{id}/vedtak``, which makes the same decision as
``POST /api/v1/applications/{id}/decision`` and returns to the application."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body as BodyParam
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from events.vocabulary import ApplicationOutcome
from services.api.access import Access
from services.api.dependencies import EnvelopeDep, ServicesDep
from services.api.problems import ProblemError
from services.api.progress_page import APPLICATION_NB, BLOCK_NB, STYLE, months
from services.api.route import get, post
from services.api.schemas import Text
from services.application import commands as cmd
from services.clock import today

StatusFilter = Literal["submitted", "approved", "rejected", "more_information_needed"]
RULE_SET_NB = {
    "in-force-2017": "Spesialistforskriften slik den gjelder (2017)",
    "proposed-2024": "Høringsforslaget 2024",
}
OUTCOME_NB = {
    "approved": "Godkjenn",
    "rejected": "Avslå",
    "more_information_needed": "Be om mer informasjon",
}
PAGE_STYLE = """
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #e3e6ea;padding:.35rem;text-align:left;vertical-align:top}
.scroll{overflow-x:auto}form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
label{display:block;font-size:.9rem;margin:.3rem 0}textarea{width:100%;min-height:6rem}
button{padding:.4rem 1rem}main p{overflow-wrap:anywhere}
"""


class DecisionForm(msgspec.Struct, kw_only=True):
    outcome: ApplicationOutcome
    reason: Text


def page(title: str, *body: str) -> str:
    return "".join(
        [
            "<!doctype html><html lang=nb><head><meta charset=utf-8>",
            '<meta name=viewport content="width=device-width,initial-scale=1">',
            f"<title>{escape(title)}</title><style>{STYLE}{PAGE_STYLE}</style></head><body><main>",
            '<p class="muted">Helsedirektoratet · saksbehandling av spesialistgodkjenning</p>',
            *body,
            "</main></body></html>",
        ]
    )


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Cells are HTML already escaped by the caller."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    inner = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{inner}</div>'


def org_label(names: dict[str, str], org_number: str | None) -> str:
    if not org_number:
        return ""
    name = names.get(org_number)
    return escape(f"{name} ({org_number})" if name else org_number)


def _objectives(bundle: dict[str, Any], names: dict[str, str]) -> list[str]:
    out = ["<section><h2>Godkjente læringsmål</h2>"]
    by_part: dict[int, list[dict[str, Any]]] = {}
    for o in bundle.get("approved_objectives", []):
        by_part.setdefault(int(o["part"]), []).append(o)
    if not by_part:
        out.append("<p>Ingen godkjente læringsmål i søknaden.</p>")
    for part, items in sorted(by_part.items()):
        out.append(f"<h3>Del {part} ({len(items)} læringsmål)</h3>")
        rows = [
            [
                f"<strong>{escape(o['objective_id'])}</strong> {escape(o.get('title') or '')}",
                escape(o.get("approver_hpr") or "")
                + (
                    f" på vegne av {escape(o['on_behalf_of_leader_hpr'])}"
                    if o.get("on_behalf_of_leader_hpr")
                    and o.get("on_behalf_of_leader_hpr") != o.get("approver_hpr")
                    else ""
                ),
                org_label(names, o.get("org_number")),
                escape(str(o.get("approved_on") or "")),
            ]
            for o in sorted(items, key=lambda o: o["objective_id"])
        ]
        out.append(table(["Læringsmål", "Godkjent av (HPR)", "Virksomhet", "Dato"], rows))
    out.append("</section>")
    return out


def _service(bundle: dict[str, Any], names: dict[str, str]) -> list[str]:
    out = ["<section><h2>Tjeneste</h2>"]
    rows = []
    for p in bundle.get("service_periods", []):
        confirmation = p.get("confirmation")
        rows.append(
            [
                org_label(names, p.get("org_number")),
                escape(f"Del {p.get('part')}" + (f", {p['arena']}" if p.get("arena") else "")),
                escape(f"{p.get('start')} – {p.get('end') or 'pågår'}"),
                escape(f"{p.get('fte_percent')} %"),
                escape(f"{len(p.get('absences') or [])}"),
                escape(
                    f"Bekreftet {confirmation['issued_on']} av {confirmation['signed_by_hpr']}"
                    if confirmation
                    else "Mangler tjenestebekreftelse"
                ),
            ]
        )
    out.append(
        table(["Virksomhet", "Del", "Periode", "Stilling", "Fravær", "Tjenestebekreftelse"], rows)
    )
    counted = [
        [
            escape(BLOCK_NB.get(b["block"], b["block"])),
            escape(months(float(b.get("counted_days") or 0))),
            escape(months(float(b["required_days"])) if b.get("required_days") else "–"),
        ]
        for b in bundle.get("counted_time", [])
    ]
    out.append("<h3>Tellende tid</h3>")
    out.append(table(["Blokk", "Tellende tid", "Krav"], counted))
    supervision = bundle.get("supervision")
    if supervision:
        out.append(
            f"<p>Veiledning (R12): {escape(str(supervision.get('hours')))} av "
            f"{escape(str(supervision.get('required_hours')))} timer</p>"
        )
    out.append("</section>")
    return out


class CaseworkPagesController(Controller):
    path = "/saksbehandling"
    tags = ["the caseworker's pages"]  # noqa: RUF012

    @get("/", Access.CASEWORKER, media_type="text/html")
    async def queue(
        self,
        services: ServicesDep,
        status: Annotated[StatusFilter | None, QueryParameter()] = None,
        specialty: Annotated[
            str | None, QueryParameter(pattern=r"^[a-zæøå][a-zæøå0-9_-]{1,59}$")
        ] = None,
        sort: Annotated[Literal["eldste", "nyeste"], QueryParameter()] = "eldste",
    ) -> Response[str]:
        """The caseworker's queue (HTML, Norwegian bokmål): filters, sorting and age"""
        rows = await services.casework.queue(status, specialty, sort == "nyeste")
        now = today()
        options = "".join(
            f'<option value="{k}"{" selected" if k == status else ""}>{escape(v)}</option>'
            for k, v in APPLICATION_NB.items()
        )
        filters = (
            '<form class="filters" method="get" action="/saksbehandling/">'
            f'<label>Status<br><select name="status"><option value="">Alle</option>{options}'
            "</select></label>"
            f'<label>Spesialitet<br><input name="specialty" value="{escape(specialty or "")}">'
            "</label>"
            '<label>Sortering<br><select name="sort">'
            f'<option value="eldste"{" selected" if sort == "eldste" else ""}>Eldste først</option>'
            f'<option value="nyeste"{" selected" if sort == "nyeste" else ""}>Nyeste først</option>'
            '</select></label><button type="submit">Vis</button></form>'
        )
        table_rows = [
            [
                f'<a href="/saksbehandling/soknader/{escape(r.application_id)}">'
                f"{escape(r.name or r.doctor_id)}</a>",
                escape(r.specialty),
                escape(r.submitted_on.isoformat()),
                escape(f"{(now - r.submitted_on).days} dager"),
                escape(APPLICATION_NB.get(r.status, r.status)),
            ]
            for r in rows
        ]
        body = [
            "<h1>Søknader om spesialistgodkjenning</h1>",
            f"<section>{filters}</section>",
            f'<section><p class="muted">{len(rows)} søknader</p>',
            table(["Lege", "Spesialitet", "Sendt inn", "Alder", "Status"], table_rows),
            "</section>",
        ]
        return Response(page("Søknadskø", *body), media_type="text/html")

    @get("/soknader/{application_id:str}", Access.CASEWORKER, media_type="text/html")
    async def application(
        self, services: ServicesDep, application_id: FromPath[str]
    ) -> Response[str]:
        """One application's frozen evidence bundle laid out for review, with the decision form
        (HTML, Norwegian bokmål)"""
        found = await services.records.application(application_id)
        if found is None:
            raise ProblemError(404, "not-found", "Not found", f"no application {application_id}")
        bundle: dict[str, Any] = found.bundle
        orgs = {o.get("org_number") for o in bundle.get("approved_objectives", [])}
        orgs |= {p.get("org_number") for p in bundle.get("service_periods", [])}
        names = await services.casework.organisation_names({o for o in orgs if o})
        name = await services.queries.name_of(found.doctor_id)
        decisions = await services.casework.decisions(application_id)
        blockers = bundle.get("blockers") or []
        submitted = date.fromisoformat(str(bundle.get("submitted_on")))
        rule_set = str(bundle.get("rule_set"))
        e = escape
        body = [
            f"<h1>Søknad: {e(name or found.doctor_id)}</h1>",
            f"<section><p>Spesialitet: <strong>{e(str(bundle.get('specialty')))}</strong> · "
            f"sendt inn {e(submitted.isoformat())} ({(today() - submitted).days} dager siden)"
            f"</p><p>Status: <strong>{e(APPLICATION_NB.get(found.status, found.status))}"
            f"</strong></p><p>Regelsett: {e(RULE_SET_NB.get(rule_set, rule_set))} · "
            f"katalogversjon {e(str(bundle.get('catalogue_version')))}</p>"
            f'<p class="muted">Innholdet er frosset ved innsending: {e(found.content_hash)}</p>'
            "</section>",
            "<section><h2>Hindringer ved innsending</h2>",
            "".join(
                f'<div class="blocker"><strong>{e(str(b.get("rule")))}</strong> '
                f"{e(str(b.get('message')))}</div>"
                for b in blockers
            )
            or '<div class="ok">Ingen hindringer ved innsending.</div>',
            "</section>",
            *_objectives(bundle, names),
            *_service(bundle, names),
            "<section><h2>Vedtak</h2>",
            "".join(
                f"<p>{e(str(d['decided_on']))}: "
                f"<strong>{e(APPLICATION_NB.get(d['outcome'], d['outcome']))}</strong>"
                f" – {e(str(d['reason']))}</p>"
                for d in decisions
            )
            or "<p>Ingen vedtak ennå.</p>",
            f'<form method="post" action="/saksbehandling/soknader/{e(application_id)}/vedtak">',
            "".join(
                f'<label><input type="radio" name="outcome" value="{k}" required> {e(v)}</label>'
                for k, v in OUTCOME_NB.items()
            ),
            '<label>Begrunnelse (vises for legen)<br><textarea name="reason" required '
            'maxlength="500"></textarea></label>',
            '<button type="submit">Fatt vedtak</button></form></section>',
        ]
        return Response(page("Søknad", *body), media_type="text/html")

    @post("/soknader/{application_id:str}/vedtak", Access.CASEWORKER, status_code=303)
    async def decide(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        application_id: FromPath[str],
        data: Annotated[DecisionForm, BodyParam(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """The decision form: approve, reject or ask for more information, with the reason the
        doctor reads; back to the application"""
        command = cmd.DecideApplication(
            application_id=application_id,
            outcome=data.outcome,
            reason=data.reason,
            decided_on=today(),
            decided_by_hpr=envelope.principal.hpr_number,
        )
        await services.applications.decide(command, envelope)
        return Redirect(f"/saksbehandling/soknader/{application_id}", status_code=303)
