"""The one vocabulary every part shares: event Structs, their schema versions and upcasters,
and the subject naming on NATS. Imports only the standard library and msgspec.

``import events`` registers every concrete event (and upcaster) in
:data:`events.base.registry`. The event classes are re-exported from their aggregate's
module by ``*`` so that an event type is named in exactly one place (its union).
"""

from events import upcasters as _upcasters
from events.application import *  # noqa: F403
from events.application import APPLICATION_EVENTS as APPLICATION_EVENTS
from events.base import Event as Event
from events.base import EventRegistry as EventRegistry
from events.base import UnknownEventType as UnknownEventType
from events.base import registry as registry
from events.base import type_name as type_name
from events.catalogue import *  # noqa: F403
from events.catalogue import CATALOGUE_EVENTS as CATALOGUE_EVENTS
from events.doctor import *  # noqa: F403
from events.doctor import DOCTOR_EVENTS as DOCTOR_EVENTS
from events.organisation import *  # noqa: F403
from events.organisation import ORGANISATION_EVENTS as ORGANISATION_EVENTS
from events.relations import *  # noqa: F403
from events.relations import RELATION_EVENTS as RELATION_EVENTS
from events.streams import stream_of as stream_of
from events.streams import stream_type_of as stream_type_of
from events.streams import subject_of as subject_of
from events.subjects import STREAM_SUBJECTS as STREAM_SUBJECTS
from events.subjects import STREAM_TYPES as STREAM_TYPES
from events.subjects import subject_for as subject_for

ALL_EVENTS: tuple[type[Event], ...] = (
    DOCTOR_EVENTS + ORGANISATION_EVENTS + CATALOGUE_EVENTS + APPLICATION_EVENTS + RELATION_EVENTS
)

del _upcasters
