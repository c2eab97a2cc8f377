"""The commands the application handles, as the API names them. The API builds these from
a request and hands them to a handler; it imports them from here, never from ``domain``
(import-linter), so that the application layer is the API's one door."""

from __future__ import annotations

from domain.application import DecideApplication as DecideApplication
from domain.catalogue import PublishCatalogueVersion as PublishCatalogueVersion
from domain.copying import copy_as
from domain.doctor.commands import *  # noqa: F403 - every doctor command, listed once there
from domain.organisation import AppointLeader as AppointLeader
from domain.organisation import EndDelegation as EndDelegation
from domain.organisation import EndRegistration as EndRegistration
from domain.organisation import GrantDelegation as GrantDelegation
from domain.organisation import RegisterForSpecialty as RegisterForSpecialty
from domain.organisation import RegisterOrganisation as RegisterOrganisation
from events.catalogue import ObjectiveChange as ObjectiveChange
from events.catalogue import ObjectiveSpec as ObjectiveSpec
from events.vocabulary import DIRECTORATE as DIRECTORATE
from services.application.doctors import Person as Person

# A command from a request body whose fields it shares (the rest as keywords).
from_body = copy_as
