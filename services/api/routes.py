"""Every controller of the public API, in one list the app factory mounts."""

from __future__ import annotations

from typing import Any

from services.api.applications import ApplicationsController
from services.api.batch import BatchController
from services.api.catalogue import CatalogueController
from services.api.dev_login import DevLoginController
from services.api.doctor_requests import ApprovalRequestsController, CorrectionsController
from services.api.doctors import (
    DoctorRegistrationController,
    DoctorWritesController,
    ErasureController,
)
from services.api.organisations import OrganisationsController
from services.api.progress import ProgressController, WorklistController
from services.api.record_reads import RecordReadsController
from services.api.relations import (
    DirectorateFlagsController,
    DoctorRelationsController,
    MyOrganisationsController,
)

ROUTE_HANDLERS: list[Any] = [
    OrganisationsController,
    DoctorRegistrationController,
    DoctorWritesController,
    ApprovalRequestsController,
    CorrectionsController,
    ErasureController,
    RecordReadsController,
    CatalogueController,
    ProgressController,
    WorklistController,
    ApplicationsController,
    DevLoginController,
    BatchController,
    MyOrganisationsController,
    DoctorRelationsController,
    DirectorateFlagsController,
]
