"""The read side's queries, one method each: what the API asks to answer a GET and to
authorise a request. All read SQL lives in ``read_models``; the API sees only these methods
and their typed answers.

Reads see every write acknowledged before them: a doctor's state is the projected row plus
the few events the projector has not reached (``states.read``), and the lists that must be
current at once (a doctor's applications, the worklist) are single queries.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import progress as progress_domain
from domain.catalogue import Catalogue
from domain.progress import Progress as Progress
from domain.rulesets import rule_set
from services import aggregates as context_loaders
from services.aggregates import catalogue_stream, organisation_stream
from services.errors import Invalid
from services.identity.principal import Principal
from services.read_models import states
from services.read_models import worklist as worklist_model
from services.read_models.decisions import decisions_of
from services.read_models.progress_cache import Key, ProgressCache, stream_versions
from services.read_models.routing import ReadRouter
from services.store import sql


@dataclass(frozen=True)
class Relation:
    employs: bool  # an organisation of the caller has a relation, claimed or confirmed
    is_self: bool  # the caller is the doctor
    confirmed: bool = False  # ... and it is confirmed: it reads the wider record
    disputed: bool = False  # an organisation of the caller has a disputed relation


@dataclass(frozen=True)
class ProgressView:
    progress: Progress
    version: int
    approval_requests: list[dict[str, Any]]


_RELATION = text(
    """
    SELECT p.doctor_id IS NOT NULL AS known,
           EXISTS (SELECT 1 FROM doctor_organisations o WHERE o.doctor_id = :d
                   AND o.org_number = ANY(:orgs) AND o.status <> 'disputed') AS employs,
           EXISTS (SELECT 1 FROM doctor_organisations o WHERE o.doctor_id = :d
                   AND o.org_number = ANY(:orgs) AND o.status = 'confirmed') AS confirmed,
           EXISTS (SELECT 1 FROM doctor_organisations o WHERE o.doctor_id = :d
                   AND o.org_number = ANY(:orgs) AND o.status = 'disputed') AS disputed,
           (p.erased_at IS NULL AND ((CAST(:h AS text) IS NOT NULL AND p.hpr_number = :h)
                                     OR (CAST(:p AS text) IS NOT NULL AND p.national_id = :p)))
               AS is_self
    FROM (SELECT 1) AS one LEFT JOIN people p ON p.doctor_id = :d
    """
)

# A doctor's applications with their current status: the bundle row is written with the
# submission, the status is the latest decision event, so a decision shows at once.
_APPLICATIONS = text(
    """
    SELECT b.application_id, convert_from(b.bundle, 'UTF8')::jsonb ->> 'specialty' AS specialty,
           convert_from(b.bundle, 'UTF8')::jsonb ->> 'submitted_on' AS submitted_on,
           coalesce((SELECT e.data ->> 'outcome' FROM events e
                     WHERE e.stream_id = b.application_id AND e.type = 'application.decided'
                     ORDER BY e.version DESC LIMIT 1), 'submitted') AS status
    FROM application_bundles b WHERE b.doctor_id = :d
    ORDER BY submitted_on, b.application_id
    """
)


class _Within:
    """One open connection as the source of a query's connections: queries inside the
    caller's transaction, seeing its uncommitted writes."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        yield self._conn


class Queries:
    def __init__(
        self, reads: ReadRouter | _Within, cache: ProgressCache[ProgressView] | None = None
    ) -> None:
        # Every query here reads projected state: the router sends it to a fresh replica
        # when there is one (routing.py), to the primary otherwise.
        self._engine = reads
        self._cache: ProgressCache[ProgressView] = cache if cache is not None else ProgressCache()

    @property
    def progress_cache(self) -> ProgressCache[ProgressView]:
        return self._cache

    def within(self, conn: AsyncConnection) -> Queries:
        """The same queries on ``conn``, inside its transaction (a batch's group). With a
        cache of its own: a version seen inside an uncommitted transaction may roll back."""
        return Queries(_Within(conn))

    async def relation(self, doctor_id: str, principal: Principal) -> Relation | None:
        """How the caller stands to the doctor, in one round trip; None: no such doctor."""
        person = principal.kind == "person"
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    _RELATION,
                    {
                        "d": doctor_id,
                        "orgs": sorted(principal.own_orgs()),
                        "h": principal.hpr_number if person else None,
                        "p": principal.pid if person else None,
                    },
                )
            ).one()
        if not row.known:
            return None
        return Relation(
            employs=bool(row.employs),
            is_self=bool(row.is_self),
            confirmed=bool(row.confirmed),
            disputed=bool(row.disputed),
        )

    async def doctor_id_of(self, principal: Principal) -> str | None:
        """The doctor a person's token belongs to (by HPR number or national identity)."""
        if principal.kind != "person" or not (principal.hpr_number or principal.pid):
            return None
        async with self._engine.connect() as conn:
            return await sql.value(
                conn,
                "SELECT doctor_id FROM people WHERE erased_at IS NULL AND "
                "((CAST(:h AS text) IS NOT NULL AND hpr_number = :h) OR "
                " (CAST(:p AS text) IS NOT NULL AND national_id = :p)) "
                # A national identity number may be on several records (a conflict the
                # directorate resolves): the HPR number decides, then the oldest record.
                "ORDER BY (hpr_number IS NOT DISTINCT FROM :h) DESC, created_at, doctor_id "
                "LIMIT 1",
                {"h": principal.hpr_number, "p": principal.pid},
            )

    async def name_of(self, doctor_id: str) -> str | None:
        async with self._engine.connect() as conn:
            return await sql.value(
                conn, "SELECT name FROM people WHERE doctor_id = :d", {"d": doctor_id}
            )

    async def catalogue(self) -> Catalogue:
        """The folded catalogue, kept per process and refreshed when its stream moves."""
        async with self._engine.connect() as conn:
            return await context_loaders.current_catalogue(conn)

    async def progress(
        self, doctor_id: str, on: date, rule_set_id: str | None, specialty: str | None
    ) -> ProgressView:
        """Computed once per (doctor, catalogue and organisation versions, rule set,
        specialty, date) and cached (progress_cache.py): a hit costs one query."""
        try:
            rules = rule_set(rule_set_id) if rule_set_id else None
        except KeyError as err:
            raise Invalid(f"rule_set: unknown rule set {rule_set_id}", field="rule_set") from err
        key = Key(doctor_id, on, rule_set_id, specialty)
        async with self._engine.connect() as conn:
            entry = self._cache.candidate(key)
            if entry is not None:
                current = await stream_versions(conn, list(entry.versions))
                if current == entry.versions:
                    return self._cache.hit(key, entry)
            state, version = await states.read(conn, states.DOCTORS, doctor_id)
            catalogue, catalogue_version = await context_loaders.current_catalogue_at(conn)
            org_streams = sorted(
                {organisation_stream(p.org_number) for p in state.periods.values()}
            )
            found = await states.read_many(conn, states.ORGANISATIONS, org_streams)
        versions = {doctor_id: version, catalogue_stream(): catalogue_version}
        organisations = {}  # R16: the registered institutions of the doctor's periods
        for stream_id, (org, org_version) in zip(org_streams, found, strict=True):
            versions[stream_id] = org_version
            if org.registered:
                organisations[states.ORGANISATIONS.key_of(stream_id)] = org
        result = progress_domain.progress(
            state, catalogue, on, rules=rules, specialty=specialty, organisations=organisations
        )
        requests = sorted(state.approval_requests.values(), key=lambda r: r.objective_id)
        view = ProgressView(result, version, msgspec.to_builtins(requests))
        self._cache.store(key, versions, view)
        return view

    async def applications_of(self, doctor_id: str) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_APPLICATIONS, {"d": doctor_id})).all()
            return [
                {
                    "application_id": r.application_id,
                    "specialty": r.specialty,
                    "status": r.status,
                    "submitted_on": r.submitted_on,
                    # Every decision with its reason: the doctor reads them here (issue 13).
                    "decisions": msgspec.to_builtins(await decisions_of(conn, r.application_id)),
                }
                for r in rows
            ]

    async def worklist(self, org_number: str, today: date) -> worklist_model.Worklist:
        """Two round trips however many doctors: their rows, then every missing tail."""
        async with self._engine.connect() as conn:
            doctor_ids = await sql.column(
                conn,
                "SELECT doctor_id FROM doctor_organisations WHERE org_number = :o "
                "AND status = 'confirmed' ORDER BY doctor_id",
                {"o": org_number},
            )
            found = await states.read_many(conn, states.DOCTORS, doctor_ids)
        return worklist_model.build(org_number, [state for state, _ in found], today)
