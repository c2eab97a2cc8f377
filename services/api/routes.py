"""Every controller of the public API, in one list the app factory mounts."""

from __future__ import annotations

from typing import Any

from services.api.applications import ApplicationsController
from services.api.batch import BatchController
from services.api.casework_pages import CaseworkPagesController
from services.api.catalogue import CatalogueController
from services.api.dev_login import DevLoginController
from services.api.doctor_requests import APPROVAL_REQUESTS, CORRECTIONS
from services.api.doctors import DOCTOR_WRITES, DoctorRegistrationController, ErasureController
from services.api.export import ExportController
from services.api.organisations import ORGANISATION_WRITES, institutions
from services.api.progress import ProgressController, WorklistController
from services.api.record_reads import RecordReadsController
from services.api.relations import (
    DirectorateFlagsController,
    DoctorRelationsController,
    MyOrganisationsController,
)
from services.api.training import (
    TRAINING_RECORD,
    EducationPlanController,
    learning_activities,
    supervision_meeting,
    supervision_meetings,
)

ROUTE_HANDLERS: list[Any] = [
    ORGANISATION_WRITES.router(institutions),
    DoctorRegistrationController,
    DOCTOR_WRITES.router(),
    APPROVAL_REQUESTS.router(),
    CORRECTIONS.router(),
    ErasureController,
    RecordReadsController,
    TRAINING_RECORD.router(supervision_meeting, learning_activities, supervision_meetings),
    EducationPlanController,
    ExportController,
    CatalogueController,
    ProgressController,
    WorklistController,
    ApplicationsController,
    CaseworkPagesController,
    DevLoginController,
    BatchController,
    MyOrganisationsController,
    DoctorRelationsController,
    DirectorateFlagsController,
]
