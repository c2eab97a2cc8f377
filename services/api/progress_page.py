"""The doctor's progress page: server-rendered HTML in Norwegian bokmål, no front-end build,
readable on a phone. Every value shown is escaped."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from services.read_models.queries import Progress

STATUS_NB = {
    "open": "Ikke vurdert",
    "assessed_not_yet": "Vurdert: ikke oppnådd ennå",
    "assessed_achieved": "Vurdert oppnådd – venter på godkjenning",
    "approved": "Godkjent",
}
APPLICATION_NB = {
    "submitted": "Sendt inn, til behandling i Helsedirektoratet",
    "more_information_needed": "Helsedirektoratet ber om mer informasjon",
    "approved": "Godkjent",
    "rejected": "Avslått",
}
RULE_SET_NB = {
    "in-force-2017": "spesialistforskriften slik den gjelder",
    "proposed-2024": "høringsforslaget 2024",
}


RELATION_NB = {
    "confirmed": "Bekreftet",
    "claimed": "Ikke bekreftet av deg – virksomheten ser bare det den selv har registrert",
    "disputed": "Bestridt av deg – Helsedirektoratet avgjør",
}
BASIS_NB = {"registration": "registrerte deg", "service_period": "registrerte tjeneste"}
PART_NB = {1: "Del 1 (LIS1)", 2: "Del 2 (LIS2)", 3: "Del 3 (LIS3)"}
BLOCK_NB = {
    "part1_hospital": "LIS1 i spesialisthelsetjenesten (12 måneder)",
    "part1_municipal": "LIS1 i kommunehelsetjenesten (6 måneder)",
    "part2": "Del 2",
    "part3": "Del 3",
    "gp_open_unselected": "Åpen uselektert allmennpraksis (2 år)",
}

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;
background:#f6f7f9}
main{max-width:46rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0}h2{font-size:1.15rem;margin:0 0 .5rem}h3{font-size:1rem}
section{background:#fff;border-radius:.5rem;padding:1rem;margin:.75rem 0;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.bar{background:#e3e6ea;border-radius:.25rem;height:1rem;overflow:hidden;margin:.25rem 0 .75rem}
.bar>span{display:block;height:100%;background:#2a7a3b}
.bar.absence>span{background:#c77700}.bar.over>span{background:#b00020}
.muted{color:#5a5f66;font-size:.9rem}
ul.objectives{list-style:none;padding:0;margin:0}
ul.objectives li{padding:.4rem 0;border-bottom:1px solid #eceef1;display:flex;
justify-content:space-between;gap:.5rem;flex-wrap:wrap}
.status{font-size:.85rem;padding:.1rem .45rem;border-radius:1rem;background:#eceef1}
.status.approved{background:#d8f0dd}.status.assessed_achieved{background:#fff1c2}
.blocker{border-left:4px solid #b00020;padding:.25rem .6rem;margin:.4rem 0;background:#fff5f6}
.ok{border-left:4px solid #2a7a3b;padding:.25rem .6rem;background:#f1faf3}
"""


def percent(value: float, whole: float) -> int:
    return max(0, min(100, round(100 * value / whole))) if whole > 0 else 100


def bar(value: float, whole: float, css: str = "") -> str:
    return (
        f'<div class="bar {css}" role="img" aria-label="{percent(value, whole)} %">'
        f'<span style="width:{percent(value, whole)}%"></span></div>'
    )


def months(days: float) -> str:
    total = round(days / 30.4375, 1)
    return f"{total:.1f}".replace(".", ",") + " mnd"


def _blockers(progress: Progress) -> list[str]:
    e = escape
    if not progress.blockers:
        return ['<div class="ok">Ingen hindringer: du kan søke om spesialistgodkjenning.</div>']
    return [
        f'<div class="blocker"><strong>{e(blocker.rule)}</strong> '
        f"{e(blocker.message)}<br><span class=muted>{e(blocker.clears_by)}</span></div>"
        for blocker in progress.blockers
    ]


def _time(progress: Progress) -> list[str]:
    e = escape
    out = ["<section><h2>Tjenestetid</h2>"]
    for block in progress.time:
        if block.required_days is None and block.counted_days == 0:
            continue
        required = block.required_days or 0
        out.append(f"<h3>{e(BLOCK_NB.get(block.block, block.block))}</h3>")
        out.append(
            f"<p>Tellende tid: {months(block.counted_days)}"
            f"{' av ' + months(required) if required else ''}</p>"
        )
        out.append(bar(block.counted_days, required or block.counted_days or 1))
        allowed = block.absence_allowed_days
        used = block.deductible_absence_days
        deducted = (
            f" – {block.absence_deducted_days:.0f} dager trekkes fra"
            if block.absence_deducted_days
            else ""
        )
        out.append(
            f"<p>Fravær: {used:.0f} av {allowed:.0f} dager innenfor 10 %-grensen{deducted}</p>"
        )
        out.append(bar(used, allowed or 1, "absence over" if used > allowed else "absence"))
    out.append("</section>")
    return out


def _parts(progress: Progress) -> list[str]:
    e = escape
    out = []
    for part in progress.parts:
        out.append(f"<section><h2>{e(PART_NB.get(part.part, f'Del {part.part}'))}</h2>")
        out.append(f'<p class="muted">{part.approved} av {part.total} læringsmål godkjent</p>')
        out.append(bar(part.approved, part.total))
        out.append('<ul class="objectives">')
        for objective in part.objectives:
            label = STATUS_NB.get(objective.status, objective.status)
            if objective.needs_reapproval:
                label = "Må vurderes og godkjennes på nytt (læringsmålet er endret)"
            out.append(
                f"<li><span><strong>{e(objective.objective_id)}</strong> "
                f"{e(objective.title)}</span>"
                f'<span class="status {e(objective.status)}">{e(label)}</span></li>'
            )
        out.append("</ul></section>")
    return out


DECISION_NB = {
    "approved": "Godkjent",
    "rejected": "Avslått",
    "more_information_needed": "Mer informasjon trengs",
}
REASON_NB = {
    "approved": "Begrunnelse",
    "rejected": "Begrunnelse",
    "more_information_needed": "Dette mangler",
}


def render_decisions(decisions: list[dict[str, Any]]) -> list[str]:
    """Every decision Helsedirektoratet made on an application, with its reason."""
    e = escape
    out = []
    for d in decisions:
        on = date.fromisoformat(d["decided_on"])
        outcome = d["outcome"]
        out.append(
            f'<div class="{"ok" if outcome == "approved" else "blocker"}">'
            f"<strong>{e(DECISION_NB.get(outcome, outcome))}</strong> {on:%d.%m.%Y}<br>"
            f"{e(REASON_NB.get(outcome, 'Begrunnelse'))}: {e(d['reason'])}</div>"
        )
    return out


def render_relations(relations: list[Any]) -> list[str]:
    """Every organisation related to the doctor or claiming to be (issue 13)."""
    e = escape
    out = ["<section><h2>Virksomheter med tilgang til utdanningen din</h2>"]
    if not relations:
        out.append('<p class="muted">Ingen virksomheter er knyttet til deg ennå.</p>')
    for r in relations:
        since = date.fromisoformat(r.since)
        out.append(
            f'<div class="{"ok" if r.status == "confirmed" else "blocker"}">'
            f"<strong>{e(r.name or r.org_number)}</strong> ({e(r.org_number)}): "
            f"{e(BASIS_NB.get(r.basis, r.basis))} {since:%d.%m.%Y}<br>"
            f"{e(RELATION_NB.get(r.status, r.status))}</div>"
        )
    out.append(
        '<p class="muted">Bekreft eller bestrid en virksomhet i appen din '
        "(«Mine virksomheter»).</p></section>"
    )
    return out


def render_page(
    progress: Progress,
    name: str | None,
    applications: list[tuple[str, str]] | None = None,
    relations: list[Any] | None = None,
    *,
    decisions: list[list[dict[str, Any]]] | None = None,
    extra: list[str] | None = None,
) -> str:
    e = escape
    out = [
        "<!doctype html><html lang=nb><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width,initial-scale=1">',
        f"<title>Min spesialistutdanning</title><style>{STYLE}</style></head><body><main>",
        "<h1>Min spesialistutdanning</h1>",
        f'<p class="muted">{e(name) + " · " if name else ""}per {progress.as_of:%d.%m.%Y}'
        f" · regelverk: {e(RULE_SET_NB.get(progress.rule_set_id, progress.rule_set_id))}"
        f"{' · ' + e(progress.specialty) if progress.specialty else ''}</p>",
        "<section><h2>Hva gjenstår</h2>",
        *_blockers(progress),
        "</section>",
    ]
    for index, (specialty, status) in enumerate(applications or []):
        out.append(
            f"<section><h2>Søknad om spesialistgodkjenning i {e(specialty)}</h2>"
            f"<p>{e(APPLICATION_NB.get(status, status))}</p>"
        )
        out.extend(render_decisions((decisions or [])[index] if decisions else []))
        out.append("</section>")
    if relations is not None:
        out.extend(render_relations(relations))
    out += _time(progress)
    out += _parts(progress)
    out += extra or []
    out.append("</main></body></html>")
    return "".join(out)
