"""The handlers of a doctor's record: each command is loaded, authorised against the facts
it names, decided and appended in one transaction, with its side tables and idempotency key.

The API builds the command from the body and the token and calls :meth:`DoctorHandlers.
handle`; everything after that (context, relations, snapshot, the reply stored with the
idempotency key) happens here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import msgspec
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.doctor.commands import (
    ApproveObjective,
    AssessObjective,
    CorrectServicePeriod,
    DoctorCommand,
    IssueServiceConfirmation,
    LogAbsence,
    RecordEducationPlan,
    RecordLearningActivity,
    RecordServicePeriod,
    RegisterDoctor,
    RequestApproval,
    RetractAbsence,
    RetractServicePeriod,
)
from domain.doctor.decide import Decision, decide
from domain.doctor.state import DoctorState
from domain.identifiers import check_hpr_number, check_national_id
from events.base import Event
from services import aggregates as context_loaders
from services.aggregates import DOCTOR
from services.application import relations
from services.application.authority import issuer_of, organisations_for, own_org_numbers
from services.application.messages import Envelope, Group, Reply, created
from services.application.streams import Outcome, run_command, transaction
from services.errors import Conflict, Forbidden, Invalid, NotFound
from services.store import meeting_notes, people
from services.store import relations as relation_table

# Which commands need which context and checks; a new command is in none of these unless
# it needs it.
NEEDS_CATALOGUE = (
    AssessObjective,
    ApproveObjective,
    RequestApproval,
    RecordLearningActivity,
    RecordEducationPlan,
)
BODY_ORG_IS_OWN = (RecordServicePeriod, CorrectServicePeriod, ApproveObjective)
PERIOD_IS_OWN = (
    LogAbsence,
    IssueServiceConfirmation,
    CorrectServicePeriod,
    RetractServicePeriod,
    RetractAbsence,
)


@dataclass(frozen=True)
class Person:
    """Who the registered doctor is: kept in ``people``, never in an event."""

    hpr_number: str
    national_id: str | None = None
    name: str | None = None


def _own_period(command: DoctorCommand, state: DoctorState, envelope: Envelope) -> DoctorCommand:
    """The period named must exist and be the caller's own: an employer writes about its
    own service only. A confirmation is issued in the name of the period's employer."""
    period_id = getattr(command, "period_id", None)
    if period_id is None or not isinstance(command, PERIOD_IS_OWN):
        return command
    period = state.periods.get(period_id)
    if period is None:
        raise NotFound(f"no service period {period_id}", field="period_id")
    if period.org_number not in envelope.principal.own_orgs():
        raise Forbidden(
            "period_id: an organisation records only its own service and approvals",
            field="period_id",
        )
    if isinstance(command, RetractAbsence):
        absence = state.absences.get(command.absence_id)
        if absence is None or absence.period_id != period_id:
            raise NotFound(f"no absence {command.absence_id}", field="absence_id")
    if isinstance(command, IssueServiceConfirmation):
        return msgspec.structs.replace(command, org_number=period.org_number)
    return command


async def _register_known(
    conn: AsyncConnection, doctor_id: str, national_id: str | None, envelope: Envelope
) -> Reply:
    """A registration of an HPR number someone registered already. The directorate, and an
    organisation already related to the doctor, may read the record: a conflict naming it.
    Any other organisation's registration becomes its *claimed* relation (200): it may record
    its own facts and read back only those until the doctor or the directorate confirms."""
    who = envelope.principal
    org = who.org_number if who.kind == "organisation" else None
    if org is None or await relation_table.status_of(conn, doctor_id, org) is not None:
        raise Conflict(
            f"hpr_number: this doctor is registered already as {doctor_id}",
            field="hpr_number",
            code="already-registered",
        )
    events = await relations.relate(conn, doctor_id, org, basis="registration", status="claimed")
    events += await relations.flag_identity_conflicts(conn, doctor_id, national_id)
    version = await relations.append(conn, envelope, doctor_id, events)
    return created(
        {"doctor_id": doctor_id, "version": version, "relation": "claimed"},
        version=version,
        status=200,
        location=f"/api/v1/doctors/{doctor_id}",
    )


T = TypeVar("T")


async def _once_per_group(group: Group | None, key: object, load: Callable[[], Awaitable[T]]) -> T:
    """Context no command of a batch's group changes, read once per group (the first
    command's reading serves the others, as if they had come right after it)."""
    if group is None:
        return await load()
    if key not in group.context:
        group.context[key] = await load()
    return group.context[key]  # type: ignore[return-value]


class DoctorHandlers:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def handle(
        self,
        command: DoctorCommand,
        envelope: Envelope,
        echo: Mapping[str, object],
        *,
        status: int = 201,
    ) -> Reply:
        """Decide and append; 201 (or ``status``) with the echo, the doctor id and the new
        version."""
        org = getattr(command, "org_number", None)
        if isinstance(command, BODY_ORG_IS_OWN) and org not in envelope.principal.own_orgs():
            raise Forbidden(
                "org_number: an organisation records only its own service and approvals",
                field="org_number",
            )

        async def work(conn: AsyncConnection) -> Reply:
            # Service recorded by an organisation without a relation to the doctor is its
            # claim (RULES.md "Reach into a record"); the event goes with the fact.
            claimed = (
                await relations.relate(
                    conn,
                    command.doctor_id,
                    command.org_number,
                    basis="service_period",
                    status="claimed",
                )
                if isinstance(command, RecordServicePeriod)
                else []
            )
            version = (await self._run(conn, command, envelope, claimed)).version
            body = {**echo, "doctor_id": command.doctor_id, "version": version}
            return created(body, version=version, status=status)

        return await transaction(self._engine, envelope, work)

    async def _run(
        self,
        conn: AsyncConnection,
        command: DoctorCommand,
        envelope: Envelope,
        extra: Sequence[Event] = (),
    ) -> Outcome[DoctorState]:
        """Decide ``command`` (with ``extra`` events after its own) on the doctor's state,
        with the context it needs, and append."""
        group = envelope.group
        catalogue = (
            await _once_per_group(
                group, "catalogue", lambda: context_loaders.current_catalogue(conn)
            )
            if isinstance(command, NEEDS_CATALOGUE)
            else None
        )
        # RULES.md authority: the domain checks the issuer, taken from the token, against the
        # caller's own institutions (arena and kind) and those the command names.
        issuer = issuer_of(envelope.principal, command.doctor_id)
        named = getattr(command, "org_number", None)
        named_orgs = {named} if named else set()
        organisations = await _once_per_group(
            group,
            ("organisations", *sorted(own_org_numbers(issuer) | named_orgs)),
            lambda: organisations_for(conn, issuer, named_orgs),
        )

        def decision(state: DoctorState, _version: int) -> Decision | list[Event]:
            checked = _own_period(command, state, envelope)
            decided = decide(
                checked,
                state,
                catalogue=catalogue,
                organisations=organisations,
                issuer=issuer,
            )
            return [*decided, *extra] if isinstance(decided, list | tuple) else decided

        return await run_command(
            conn,
            DOCTOR,
            command.doctor_id,
            expected_version=envelope.expected_version,
            decide=decision,
            metadata=envelope.metadata(),
            group=group,
        )

    async def register(self, command: RegisterDoctor, person: Person, envelope: Envelope) -> Reply:
        """The person, the registering organisation's relation and the first event, in one
        transaction; a person already registered is a conflict that names the record."""
        p, doctor_id = person, command.doctor_id
        if (reason := check_hpr_number(p.hpr_number)) is not None:
            raise Invalid(f"hpr_number: {reason}", field="hpr_number")
        if p.national_id is not None and (reason := check_national_id(p.national_id)):
            raise Invalid(f"national_id: {reason}", field="national_id")
        org = envelope.principal.org_number

        async def work(conn: AsyncConnection) -> Reply:
            existing = await relation_table.doctor_by_hpr(conn, p.hpr_number)
            if existing is not None:
                return await _register_known(conn, existing, p.national_id, envelope)
            await people.add_person(conn, doctor_id, p.hpr_number, p.national_id, p.name)
            extra: list[Event] = []
            if envelope.principal.kind == "organisation" and org is not None:
                # The registering organisation may read and write the record it created.
                extra += await relations.relate(
                    conn, doctor_id, org, basis="registration", status="confirmed"
                )
            # Someone else's national identity number never blocks this registration: the
            # conflict is recorded for the directorate, and the caller learns nothing of it.
            extra += await relations.flag_identity_conflicts(conn, doctor_id, p.national_id)

            def decision(state: DoctorState, _v: int) -> Decision | list[Event]:
                decided = decide(command, state)
                return [*decided, *extra] if isinstance(decided, list | tuple) else decided

            outcome = await run_command(
                conn,
                DOCTOR,
                doctor_id,
                expected_version=0,
                decide=decision,
                metadata=envelope.metadata(),
            )
            return created(
                {"doctor_id": doctor_id, "version": outcome.version},
                version=outcome.version,
                location=f"/api/v1/doctors/{doctor_id}",
            )

        try:
            return await transaction(self._engine, envelope, work)
        except IntegrityError as err:  # a concurrent registration of the same HPR number
            raise Conflict(
                "hpr_number: registered by a concurrent request; retry to learn your relation",
                field="hpr_number",
                code="already-registered",
            ) from err

    async def erase(self, doctor_id: str) -> None:
        """Null the personal data kept apart from the events."""
        async with self._engine.begin() as conn:
            if not await people.erase_person(conn, doctor_id):
                raise NotFound(f"no doctor with id {doctor_id}")
            await meeting_notes.erase_notes(conn, doctor_id)
