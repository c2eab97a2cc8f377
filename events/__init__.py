"""The one vocabulary every part shares: event Structs, their schema versions and upcasters,
and the subject naming on NATS. Imports only the standard library and msgspec.

``import events`` registers every concrete event (and upcaster) in
:data:`events.base.registry`.
"""

from events import upcasters as _upcasters
from events.application import (
    APPLICATION_EVENTS,
    ApplicationDecided,
    ApplicationEvent,
    ApplicationSubmitted,
)
from events.base import Event, EventRegistry, UnknownEventType, registry, type_name
from events.catalogue import (
    CATALOGUE_EVENTS,
    CatalogueEvent,
    CatalogueVersionPublished,
    ObjectiveChange,
    ObjectiveSpec,
)
from events.doctor import (
    DOCTOR_EVENTS,
    AbsenceLogged,
    AbsenceRetracted,
    ApprovalRequested,
    ApprovalRequestReturned,
    ApprovalRequestWithdrawn,
    ApprovalRevoked,
    DoctorEvent,
    DoctorRegistered,
    ExceptionGranted,
    ObjectiveApproved,
    ObjectiveAssessed,
    ServiceConfirmationIssued,
    ServicePeriodCorrected,
    ServicePeriodRecorded,
    ServicePeriodRetracted,
    SupervisionHoursLogged,
    SupervisorAssigned,
)
from events.organisation import (
    ORGANISATION_EVENTS,
    DelegationEnded,
    DelegationGranted,
    LeaderAppointed,
    OrganisationEvent,
    OrganisationRegistered,
)
from events.relations import (
    RELATION_EVENTS,
    IdentityConflictFlagged,
    IdentityConflictResolved,
    OrganisationConfirmed,
    OrganisationDisputed,
    OrganisationRelated,
)
from events.streams import stream_of, stream_type_of, subject_of
from events.subjects import STREAM_SUBJECTS, STREAM_TYPES, subject_for

ALL_EVENTS: tuple[type[Event], ...] = (
    DOCTOR_EVENTS + ORGANISATION_EVENTS + CATALOGUE_EVENTS + APPLICATION_EVENTS + RELATION_EVENTS
)


del _upcasters

__all__ = [
    "ALL_EVENTS",
    "APPLICATION_EVENTS",
    "CATALOGUE_EVENTS",
    "DOCTOR_EVENTS",
    "ORGANISATION_EVENTS",
    "RELATION_EVENTS",
    "STREAM_SUBJECTS",
    "STREAM_TYPES",
    "AbsenceLogged",
    "AbsenceRetracted",
    "ApplicationDecided",
    "ApplicationEvent",
    "ApplicationSubmitted",
    "ApprovalRequestReturned",
    "ApprovalRequestWithdrawn",
    "ApprovalRequested",
    "ApprovalRevoked",
    "CatalogueEvent",
    "CatalogueVersionPublished",
    "DelegationEnded",
    "DelegationGranted",
    "DoctorEvent",
    "DoctorRegistered",
    "Event",
    "EventRegistry",
    "ExceptionGranted",
    "IdentityConflictFlagged",
    "IdentityConflictResolved",
    "LeaderAppointed",
    "ObjectiveApproved",
    "ObjectiveAssessed",
    "ObjectiveChange",
    "ObjectiveSpec",
    "OrganisationConfirmed",
    "OrganisationDisputed",
    "OrganisationEvent",
    "OrganisationRegistered",
    "OrganisationRelated",
    "ServiceConfirmationIssued",
    "ServicePeriodCorrected",
    "ServicePeriodRecorded",
    "ServicePeriodRetracted",
    "SupervisionHoursLogged",
    "SupervisorAssigned",
    "UnknownEventType",
    "registry",
    "stream_of",
    "stream_type_of",
    "subject_for",
    "subject_of",
    "type_name",
]
