"""The domain's aggregates as the store sees them: stream naming, state type, fold.

Stream ids are unique across stream types: an organisation's is ``org-<org number>``, the
catalogue's ``catalogue-<id>``; a doctor's and an application's are their uuids.
"""

from __future__ import annotations

from domain import application, catalogue, doctor_state, organisation
from services.application.streams import Aggregate

ORGANISATION = Aggregate(
    stream_type="organisation",
    state_type=organisation.OrganisationState,
    initial=organisation.OrganisationState,
    evolve=organisation.evolve,  # type: ignore[arg-type]
    snapshot_schema="organisation-2",
)

DOCTOR = Aggregate(
    stream_type="doctor",
    state_type=doctor_state.DoctorState,
    initial=doctor_state.DoctorState,
    evolve=doctor_state.evolve,  # type: ignore[arg-type]
    snapshot_schema="doctor-2",
)

CATALOGUE = Aggregate(
    stream_type="catalogue",
    state_type=catalogue.Catalogue,
    initial=catalogue.Catalogue,
    evolve=catalogue.evolve,  # type: ignore[arg-type]
    snapshot_schema="catalogue-1",
)

APPLICATION = Aggregate(
    stream_type="application",
    state_type=application.ApplicationState,
    initial=application.ApplicationState,
    evolve=application.evolve,  # type: ignore[arg-type]
    snapshot_schema="application-1",
)

CATALOGUE_ID = "annex2"


def organisation_stream(org_number: str) -> str:
    return f"org-{org_number}"


def catalogue_stream(catalogue_id: str = CATALOGUE_ID) -> str:
    return f"catalogue-{catalogue_id}"
