"""The caseworker's pages and the doctor's page (issue 15) in headless Chromium, on the
application the specialist path has just submitted: content asserted on the DOM Chromium
built, screenshots kept under ``test-artifacts/``, each page at a phone's width."""

from __future__ import annotations

from typing import Any

from tests.e2e.browser import content_width, render

REASON_MORE = "Legg ved kursbevis for akuttmedisinkurset."
NOTES = "Gjennomgikk listeansvar og plan for legevakt; neste møte om to uker."
PHONE = 412


async def caseworker_pages(
    api: Any, tokens: dict[str, dict[str, str]], application_id: str
) -> None:
    """The queue (filters, sorting, age), the bundle laid out, the decision form; refused
    to every token but a caseworker's. The form asks for more information (the path then
    approves through the JSON API)."""
    caseworker = tokens["caseworker"]
    for who in ("doctor", "admin", "hospital"):
        for path in ("/saksbehandling/", f"/saksbehandling/soknader/{application_id}"):
            refused = await api.get(path, headers=tokens[who])
            assert refused.status_code == 403, (who, path, refused.status_code)
        posted = await api.post(
            f"/saksbehandling/soknader/{application_id}/vedtak",
            headers=tokens[who],
            data={"outcome": "approved", "reason": "nei"},
        )
        assert posted.status_code == 403, (who, posted.status_code)
    queue = await api.get("/saksbehandling/", headers=caseworker)
    assert queue.status_code == 200 and queue.headers["content-type"].startswith("text/html")
    dom = render(queue.text, "saksbehandling-ko", width=PHONE)
    assert "Søknader om spesialistgodkjenning" in dom and "1 søknader" in dom
    assert "Kari Lege" in dom and "allmennmedisin" in dom and " dager</td>" in dom
    assert f"/saksbehandling/soknader/{application_id}" in dom
    assert content_width(dom) <= PHONE
    filtered = await api.get(
        "/saksbehandling/", params={"status": "approved", "sort": "nyeste"}, headers=caseworker
    )
    assert "0 søknader" in filtered.text and "Kari Lege" not in filtered.text
    other = await api.get("/saksbehandling/", params={"specialty": "kirurgi"}, headers=caseworker)
    assert "0 søknader" in other.text
    bad = await api.get("/saksbehandling/", params={"sort": "tilfeldig"}, headers=caseworker)
    assert bad.status_code == 400 and "sort" in bad.json()["detail"]

    bundle = await api.get(f"/saksbehandling/soknader/{application_id}", headers=caseworker)
    assert bundle.status_code == 200
    dom = render(bundle.text, "saksbehandling-soknad", width=PHONE)
    for text in (
        "Søknad: Kari Lege",
        "Ingen hindringer ved innsending.",
        "Godkjente læringsmål",
        "Del 1 (8 læringsmål)",
        "Del 3 (2 læringsmål)",
        "Helse Test HF (974589095)",
        "Testvik kommune (974749025)",
        "Bekreftet",
        "Tellende tid",
        "Fatt vedtak",
        "Be om mer informasjon",
        "spesialistforskriften slik den gjelder".capitalize(),
    ):
        assert text in dom, text
    assert content_width(dom) <= PHONE
    missing = await api.get("/saksbehandling/soknader/no-such-application", headers=caseworker)
    assert missing.status_code == 404
    empty = await api.post(
        f"/saksbehandling/soknader/{application_id}/vedtak",
        headers=caseworker,
        data={"outcome": "maybe", "reason": "x"},
    )
    assert empty.status_code == 400 and "outcome" in empty.json()["detail"]
    decided = await api.post(
        f"/saksbehandling/soknader/{application_id}/vedtak",
        headers=caseworker,
        data={"outcome": "more_information_needed", "reason": REASON_MORE},
        follow_redirects=False,
    )
    assert decided.status_code == 303, decided.text
    assert decided.headers["location"] == f"/saksbehandling/soknader/{application_id}"
    again = await api.get(decided.headers["location"], headers=caseworker)
    assert REASON_MORE in again.text and "Helsedirektoratet ber om mer informasjon" in again.text


async def doctor_page(
    api: Any, tokens: dict[str, dict[str, str]], doctor_id: str, veileder_hpr: str
) -> None:
    """After the decisions: an activity signed off, a meeting with notes, a plan; the page
    shows them with the decisions' reasons and the organisations by name, at phone width."""
    base = f"/api/v1/doctors/{doctor_id}"
    made = await api.post(
        f"{base}/learning-activities",
        headers=tokens["doctor"],
        json={
            "kind": "course",
            "date": "2020-05-04",
            "objective_ids": ["ALM-001"],
            "description": "Kurs i akuttmedisin for allmennleger",
        },
    )
    assert made.status_code == 201, made.text
    signed = await api.post(
        f"{base}/learning-activities/{made.json()['activity_id']}/sign-off",
        headers=tokens["municipality"],
        json={"signed_by_hpr": veileder_hpr, "signed_on": "2020-05-05"},
    )
    assert signed.status_code == 201, signed.text
    met = await api.post(
        f"{base}/supervision-meetings",
        headers=tokens["doctor"],
        json={
            "held_on": "2020-06-01",
            "minutes": 60,
            "kind": "individual",
            "veileder_hpr": veileder_hpr,
            "notes": NOTES,
        },
    )
    assert met.status_code == 201, met.text
    planned = await api.put(
        f"{base}/education-plan",
        headers=tokens["municipality"],
        json={
            "periods": [
                {
                    "part": 3,
                    "org_number": "974749025",
                    "start": "2019-03-01",
                    "end": "2024-08-31",
                    "fte_percent": 100,
                    "objective_ids": ["ALM-001", "ALM-002"],
                }
            ]
        },
    )
    assert planned.status_code == 200, planned.text
    response = await api.get("/api/v1/me/progress/page", headers=tokens["doctor"])
    assert response.status_code == 200
    dom = render(response.text, "progress-page-training-year", width=PHONE, height=4000)
    for text in (
        "Vedtak fra Helsedirektoratet",
        REASON_MORE,
        "Alle krav er oppfylt",
        "Utdanningsplan mot virkelighet",
        "Del 3 (LIS3)",
        "I rute",
        "Læringsaktiviteter",
        "Kurs i akuttmedisin for allmennleger",
        "Signert 05.05.2020",
        "Testvik kommune",
        NOTES,
        "Virksomheter med tilgang til journalen",
        "Helse Test HF",
        "regelverk: spesialistforskriften slik den gjelder",
    ):
        assert text in dom, text
    assert content_width(dom) <= PHONE
