"""A training institution (R5): ``commands``, ``state`` (with ``evolve`` and who may
approve), ``decide``. The names other modules use are re-exported here."""

from domain.organisation.commands import *  # noqa: F403
from domain.organisation.decide import authorise_organisation as authorise_organisation
from domain.organisation.decide import decide as decide
from domain.organisation.state import *  # noqa: F403
