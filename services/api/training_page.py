"""The doctor's page grows with the training year (issue 15): learning activities, supervision
meetings with their notes, the education plan against reality, every decision with its
reason, and the organisations with access to the record, by name. Sections in bokmål, added
to :func:`services.api.progress_page.render_page`; every value is escaped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Any

from services.api.progress_page import APPLICATION_NB, PART_NB
from services.bootstrap import Services
from services.read_models.queries import Progress
from services.read_models.training import ActivityView, MeetingView, NotesReader

KIND_NB = {
    "course": "Kurs",
    "procedure": "Prosedyre",
    "rotation": "Hospitering/rotasjon",
    "teaching": "Undervisning",
    "e-learning": "E-læring",
    "other": "Annet",
}
MEETING_NB = {"individual": "Individuell veiledning", "group": "Gruppeveiledning"}
PLAN_NB = {"behind": "Bak planen", "on_track": "I rute", "ahead": "Foran planen"}
PAGE_STYLE = """
ul.plain{list-style:none;padding:0;margin:0}ul.plain li{padding:.4rem 0;
border-bottom:1px solid #eceef1;overflow-wrap:anywhere}
.status.behind{background:#fde2e4}.status.on_track{background:#d8f0dd}
.status.ahead{background:#dbe9ff}.notes{white-space:pre-wrap;margin:.25rem 0 0}
"""


@dataclass
class TrainingYear:
    activities: list[ActivityView] = field(default_factory=list)
    meetings: list[MeetingView] = field(default_factory=list)
    decisions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # specialty, ...
    organisations: list[tuple[str, date]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    def org(self, org_number: str | None) -> str:
        if not org_number:
            return ""
        return self.names.get(org_number) or org_number


def _section(heading: str, intro: list[str], items: list[str], *, listed: bool) -> list[str]:
    """One section of the page: its heading, any paragraphs, then its items (``listed``: as
    the <li>s of a plain list)."""
    if listed:
        return [
            f"<section><h2>{heading}</h2>",
            *intro,
            '<ul class="plain">',
            *items,
            "</ul></section>",
        ]
    return [f"<section><h2>{heading}</h2>", *intro, *items, "</section>"]


def _none_yet(present: object, text: str) -> list[str]:
    """A muted line saying there is nothing yet, when ``present`` is empty."""
    return [] if present else [f'<p class="muted">{text}</p>']


def _activities(year: TrainingYear) -> list[str]:
    e = escape
    items = []
    for a in year.activities:
        signed = (
            f"Signert {a.signed_on:%d.%m.%Y} av {e(a.signed_by_hpr or '')}"
            f"{' ved ' + e(year.org(a.signed_at_org)) if a.signed_at_org else ''}"
            if a.signed_off and a.signed_on
            else "Ikke signert ennå"
        )
        items.append(
            f"<li><strong>{e(KIND_NB.get(a.kind, a.kind))}</strong> {a.date:%d.%m.%Y}: "
            f"{e(a.description)}<br><span class=muted>Læringsmål: "
            f"{e(', '.join(a.objective_ids))} · {signed}</span></li>"
        )
    empty = _none_yet(year.activities, "Ingen læringsaktiviteter registrert ennå.")
    return _section("Læringsaktiviteter", empty, items, listed=True)


def _meetings(progress: Progress, year: TrainingYear) -> list[str]:
    e = escape
    summary = progress.supervision_meetings
    intro = [
        f"<p>{summary.individual_meetings} individuelle veiledningsmøter "
        f"({summary.individual_hours:.1f} timer)".replace(".", ",")
        + f" · {summary.group_sessions} gruppeveiledninger "
        f"({summary.group_hours:.1f} timer)".replace(".", ",")
        + "</p>",
    ]
    if progress.supervision is not None:
        intro.append(
            f"<p>Veiledningstimer (R12): {progress.supervision.hours:.1f} av "
            f"{progress.supervision.required_hours:.1f} timer</p>".replace(".", ",")
        )
    items = []
    for m in year.meetings:
        notes = f'<p class="notes">{e(m.notes)}</p>' if m.notes else ""
        items.append(
            f"<li><strong>{e(MEETING_NB.get(m.kind, m.kind))}</strong> {m.held_on:%d.%m.%Y}, "
            f"{m.minutes} minutter med veileder {e(m.veileder_hpr)} ({e(year.org(m.org_number))})"
            f"{notes}</li>"
        )
    return _section("Veiledning", intro, items, listed=True)


def _plan(progress: Progress) -> list[str]:
    e = escape
    items = [
        f"<p><strong>{e(PART_NB.get(p.part, f'Del {p.part}'))}</strong> "
        f'<span class="status {e(p.status)}">{e(PLAN_NB.get(p.status, p.status))}</span><br>'
        f'<span class="muted">Planlagt {p.planned_days:.0f} dager, gjennomført '
        f"{p.served_days:.0f} dager; {p.objectives_due_approved} av "
        f"{len(p.objectives_due)} planlagte læringsmål godkjent (planversjon "
        f"{p.plan_version})</span></p>"
        for p in progress.plan
    ]
    empty = _none_yet(progress.plan, "Ingen individuell utdanningsplan er registrert ennå.")
    return _section("Utdanningsplan mot virkelighet", empty, items, listed=False)


def _decisions(year: TrainingYear) -> list[str]:
    e = escape
    if not year.decisions:
        return []
    items = [
        f"<p><strong>{e(APPLICATION_NB.get(d['outcome'], d['outcome']))}</strong> "
        f"({e(specialty)}, {e(str(d['decided_on']))})<br>Begrunnelse: {e(str(d['reason']))}</p>"
        for specialty, d in year.decisions
    ]
    return _section("Vedtak fra Helsedirektoratet", [], items, listed=False)


def _organisations(year: TrainingYear) -> list[str]:
    e = escape
    items = [
        f"<li>{e(year.org(org_number))} <span class=muted>siden {since:%d.%m.%Y}</span></li>"
        for org_number, since in year.organisations
    ]
    return _section("Virksomheter med tilgang til journalen", [], items, listed=True)


def training_sections(progress: Progress, year: TrainingYear) -> list[str]:
    return [
        f"<style>{PAGE_STYLE}</style>",
        *_decisions(year),
        *_plan(progress),
        *_activities(year),
        *_meetings(progress, year),
        *_organisations(year),
    ]


async def training_year(
    services: Services, doctor_id: str, applications: list[dict[str, Any]]
) -> TrainingYear:
    """What the doctor's page shows of the training year; the doctor reads every note."""
    year = TrainingYear(
        activities=await services.training_reads.activities(doctor_id),
        meetings=await services.training_reads.meetings(doctor_id, NotesReader(doctor=True)),
        organisations=await services.casework.organisations_of(doctor_id),
    )
    for a in applications:
        for d in await services.casework.decisions(a["application_id"]):
            year.decisions.append((a["specialty"], d))
    orgs = {o for o, _ in year.organisations}
    orgs |= {m.org_number for m in year.meetings}
    orgs |= {a.signed_at_org for a in year.activities if a.signed_at_org}
    year.names = await services.casework.organisation_names(orgs)
    return year
