"""Synthetic national data set, deterministic from a seed, made through the domain's own
commands: every event is decided by ``domain`` (the same ``decide`` functions the API
calls) against the state folded so far, and appended with ``services.store.eventstore``.

Shapes: the sample catalogue (two versions), hospital trusts and municipalities with leaders
and delegates, and doctors at every stage — just registered, LIS1 in hospital, LIS1 in a
municipality, part 2/3 in a specialty, complete — with full- and part-time service (R10),
absences of several kinds around the 10 % line (R8), veiledere, assessments, approvals (some
by a delegate), service confirmations and supervision hours.

Sizes: ``quick`` (60 doctors), ``small`` (1,000), ``national`` (30,000).
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec

from domain import catalogue as catalogue_domain
from domain import organisation as org_domain
from domain.calendar_days import add_months
from domain.catalogues import sample_versions
from domain.doctor import commands as cmd
from domain.doctor.decide import decide as decide_doctor
from domain.doctor.state import DoctorState
from domain.doctor.state import evolve as evolve_doctor
from events.base import registry, type_name
from events.vocabulary import OrganisationKind

SIZES = {"quick": 60, "small": 1_000, "national": 30_000}
TODAY = date(2026, 6, 1)  # the data set's "now": fixed, so the data are the same every run
METADATA: dict[str, Any] = {
    "actor": {"kind": "organisation", "client_id": "bench-generator"},
    "request_id": None,
}
OBJECTIVE_SHARE = 0.35
ABSENCE_KINDS = ("sick_leave", "sick_leave", "sick_leave", "parental_leave", "leave_of_absence")
SPECIALTIES = ("allmennmedisin", "indremedisin")
STAGES = (
    # (name, weight)
    ("registered", 4),
    ("lis1_hospital", 14),
    ("lis1_municipal", 8),
    ("lis1_done", 8),
    ("part2_3", 46),
    ("complete", 20),
)


def org_number(n: int) -> str:
    """The n-th valid organisation number (mod-11 check digit) from 900000000 up."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    base = 90_000_000 + n * 7
    while True:
        digits = [int(c) for c in f"{base:08d}"]
        check = 11 - sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return f"{base:08d}{check}"
        base += 1


@dataclass
class Stream:
    stream_type: str
    stream_id: str
    events: list[Any]  # domain Event Structs
    state: Any = None


@dataclass
class DoctorRecord:
    doctor_id: str
    hpr_number: str
    orgs: set[str]
    stream: Stream


@dataclass
class World:
    catalogue: Any
    catalogue_stream: Stream
    org_streams: list[Stream]
    organisations: dict[str, Any]
    hospitals: list[str]
    municipalities: list[str]
    leaders: dict[str, list[str]]  # org -> [leader hpr, delegate hpr]
    rejected: Counter[str] = field(default_factory=Counter)


def build_world(n_doctors: int) -> World:
    from domain.catalogue import Catalogue
    from domain.catalogue import evolve as evolve_catalogue

    cat_state = Catalogue()
    cat_events: list[Any] = []
    for command in sample_versions():
        decided = catalogue_domain.decide(command, cat_state)
        assert isinstance(decided, list), decided
        for e in decided:
            cat_state = evolve_catalogue(cat_state, e)
        cat_events += decided
    n_hosp = max(2, min(20, n_doctors // 500))
    n_mun = max(2, min(300, n_doctors // 100))
    hospitals = [org_number(i) for i in range(n_hosp)]
    municipalities = [org_number(1000 + i) for i in range(n_mun)]
    org_streams, organisations, leaders = [], {}, {}
    on = date(2019, 1, 1)
    for i, org in enumerate(hospitals + municipalities):
        kind: OrganisationKind = "hospital_trust" if org in hospitals else "municipality"
        leader, delegate = str(8_000_000 + 2 * i), str(8_000_001 + 2 * i)
        commands: list[org_domain.OrganisationCommand] = [
            org_domain.RegisterOrganisation(
                org_number=org, name=f"Bench {kind} {i}", kind=kind, registered_on=on
            ),
            org_domain.AppointLeader(org_number=org, hpr_number=leader, valid_from=on),
            org_domain.GrantDelegation(
                org_number=org,
                delegation_id=f"del-{org}",
                leader_hpr=leader,
                delegate_hpr=delegate,
                valid_from=on,
            ),
        ]
        state = org_domain.OrganisationState()
        events: list[Any] = []
        for c in commands:
            org_events = org_domain.decide(c, state)
            assert isinstance(org_events, list), org_events
            state = org_domain.fold(state, org_events)
            events += org_events
        org_streams.append(Stream("organisation", f"org-{org}", events, state))
        organisations[org] = state
        leaders[org] = [leader, delegate]
    return World(
        catalogue=cat_state,
        catalogue_stream=Stream("catalogue", "catalogue-annex2", cat_events, cat_state),
        org_streams=org_streams,
        organisations=organisations,
        hospitals=hospitals,
        municipalities=municipalities,
        leaders=leaders,
    )


def _objectives(world: World, part: int, arena: str | None, specialty: str | None) -> list[str]:
    version = world.catalogue.version_on(TODAY)
    out = []
    for o in version.objectives.values():
        if o.part != part:
            continue
        if part == 1 and o.arena != arena:
            continue
        if part > 1 and o.specialty not in (None, specialty):
            continue
        out.append(o.id)
    return sorted(out)


class DoctorBuilder:
    """Runs one doctor's commands through ``decide`` and folds the accepted events."""

    def __init__(self, world: World, rng: random.Random, doctor_id: str) -> None:
        self.world = world
        self.rng = rng
        self.d = doctor_id
        self.state = DoctorState()
        self.events: list[Any] = []
        self.orgs: set[str] = set()
        self.n = 0
        self.validate = False

    def do(self, command: Any, *, approvals: bool = False) -> bool:
        decided = decide_doctor(
            command,
            self.state,
            catalogue=self.world.catalogue,
            organisations=self.world.organisations if approvals else None,
        )
        if not isinstance(decided, list):
            self.world.rejected[f"{type(command).__name__}:{getattr(decided, 'code', '?')}"] += 1
            return False
        for e in decided:
            if self.validate:
                # What the projectors will do with it: decode with msgspec's validation.
                registry.decode(type_name(type(e)), type(e).schema_version, registry.encode(e))
            self.state = evolve_doctor(self.state, e)
        self.events += decided
        return True

    def next_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n}"

    def period(
        self,
        org: str,
        part: int,
        arena: str | None,
        start: date,
        months: int,
        *,
        specialty: str | None = None,
        objectives: list[str] = (),  # type: ignore[assignment]
        gp: bool = False,
    ) -> date:
        """One service period with its absences, veileder, assessments, approvals,
        supervision hours and confirmation, cut off at TODAY. Returns the day after it."""
        rng = self.rng
        fte = 100 if rng.random() < 0.8 else rng.choice((50, 60, 75, 80))
        months = round(months * 100 / fte) if fte < 100 else months  # part-time lasts longer
        end = add_months(start, months) - timedelta(days=1)
        ongoing = end >= TODAY
        pid = self.next_id("p")
        self.orgs.add(org)
        if not self.do(
            cmd.RecordServicePeriod(
                doctor_id=self.d,
                period_id=pid,
                org_number=org,
                part=part,  # type: ignore[arg-type]
                arena=arena,  # type: ignore[arg-type]
                position={1: "LIS1", 2: "LIS2", 3: "LIS3"}[part],
                fte_percent=fte,
                start=start,
                end=None if ongoing and rng.random() < 0.5 else end,
                specialty=specialty,
                open_unselected_gp=gp,
            )
        ):
            return end + timedelta(days=1)
        until = min(end, TODAY - timedelta(days=1))
        days = (until - start).days + 1
        if days <= 0:
            return end + timedelta(days=1)
        leader, delegate = self.world.leaders[org]
        veileder = str(7_000_000 + rng.randrange(1_000_000))
        self.do(
            cmd.AssignSupervisor(
                doctor_id=self.d,
                org_number=org,
                hpr_number=veileder,
                role="veileder",
                valid_from=start,
                part=part,  # type: ignore[arg-type]
                specialty=specialty,
                specialist_in=specialty,
            )
        )
        # Absences: sick leave and leave totalling about 10 % (some just over, some under),
        # plus vacation (not absence).
        target = days * rng.choice((0.03, 0.08, 0.095, 0.105, 0.12, 0.2))
        cursor = start + timedelta(days=rng.randrange(10, 40))
        used = 0
        while used < target and cursor < until:
            length = min(int(rng.uniform(3, 30)), int(target - used) + 1)
            a_end = min(cursor + timedelta(days=length - 1), until)
            self.do(
                cmd.LogAbsence(
                    doctor_id=self.d,
                    period_id=pid,
                    absence_id=self.next_id("a"),
                    kind=rng.choice(ABSENCE_KINDS),  # type: ignore[arg-type]
                    start=cursor,
                    end=a_end,
                    percent=100 if rng.random() < 0.85 else 50,
                )
            )
            used += (a_end - cursor).days + 1
            cursor = a_end + timedelta(days=rng.randrange(20, 90))
        for year_start in range(0, days, 365):
            v_start = start + timedelta(days=year_start + 180)
            if v_start + timedelta(days=20) <= until:
                self.do(
                    cmd.LogAbsence(
                        doctor_id=self.d,
                        period_id=pid,
                        absence_id=self.next_id("v"),
                        kind="vacation",
                        start=v_start,
                        end=v_start + timedelta(days=20),
                    )
                )
        # Assessments spread over the period; most approved a few days later.
        done_share = min(1.0, days / max(1, (end - start).days + 1))
        # Registered so far: a share of the objectives (what institutions have reported; the
        # rest live in their own systems until the end of the period).
        chosen = [o for o in objectives if rng.random() < done_share * OBJECTIVE_SHARE]
        for objective in chosen:
            on = start + timedelta(days=rng.randrange(max(1, days)))
            outcome = "achieved" if rng.random() < 0.93 else "not_yet"
            if self.do(
                cmd.AssessObjective(
                    doctor_id=self.d,
                    objective_id=objective,
                    org_number=org,
                    assessor_hpr=veileder,
                    assessor_role="veileder",
                    outcome=outcome,  # type: ignore[arg-type]
                    assessed_on=on,
                    method=rng.choice((None, "direkte observasjon", "case-diskusjon")),
                )
            ):
                approved_on = on + timedelta(days=rng.randrange(1, 20))
                if outcome == "achieved" and approved_on < TODAY and rng.random() < 0.9:
                    self.do(
                        cmd.ApproveObjective(
                            doctor_id=self.d,
                            objective_id=objective,
                            org_number=org,
                            approver_hpr=delegate if rng.random() < 0.2 else leader,
                            approved_on=min(approved_on, until),
                        ),
                        approvals=True,
                    )
        # Supervision hours each quarter in parts 2 and 3 (R12).
        if part > 1:
            month = start.replace(day=1)
            while month <= until:
                self.do(
                    cmd.LogSupervisionHours(
                        doctor_id=self.d,
                        org_number=org,
                        month=f"{month:%Y-%m}",
                        hours=round(rng.uniform(2, 8), 1),
                    )
                )
                month = add_months(month, 3)
        if not ongoing:
            self.do(
                cmd.IssueServiceConfirmation(
                    doctor_id=self.d,
                    period_id=pid,
                    org_number=org,
                    issued_on=end,
                    signed_by_hpr=leader,
                )
            )
        return end + timedelta(days=1)


def build_doctor(world: World, seed: int, i: int) -> DoctorRecord:
    rng = random.Random(seed * 1_000_003 + i)
    doctor_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    stage = rng.choices([s for s, _ in STAGES], weights=[w for _, w in STAGES])[0]
    years_back = {
        "registered": 0.2,
        "lis1_hospital": 0.6,
        "lis1_municipal": 1.3,
        "lis1_done": 1.9,
        "part2_3": rng.uniform(2.0, 6.0),
        "complete": rng.uniform(6.5, 7.5),
    }[stage]
    start = TODAY - timedelta(days=int(years_back * 365) + rng.randrange(30))
    start = max(start, date(2020, 3, 2))
    b = DoctorBuilder(world, rng, doctor_id)
    b.validate = i < 200
    b.do(
        cmd.RegisterDoctor(
            doctor_id=doctor_id,
            authorised_on=start - timedelta(days=rng.randrange(10, 60)),
            registered_on=start - timedelta(days=5),
        )
    )
    if stage != "registered":
        hospital = rng.choice(world.hospitals)
        municipality = rng.choice(world.municipalities)
        nxt = b.period(
            hospital, 1, "hospital", start, 12, objectives=_objectives(world, 1, "hospital", None)
        )
        if nxt < TODAY:
            nxt = b.period(
                municipality,
                1,
                "municipal",
                nxt,
                6,
                objectives=_objectives(world, 1, "municipal", None),
            )
        if stage in ("part2_3", "complete") and nxt < TODAY:
            _specialist_periods(b, world, rng, hospital, nxt)
    hpr = str(5_000_000 + seed * 100_000 + i) if seed < 40 else str(10_000_000 + i)
    return DoctorRecord(doctor_id, hpr, b.orgs, Stream("doctor", doctor_id, b.events, b.state))


def _specialist_periods(
    b: DoctorBuilder, world: World, rng: random.Random, hospital: str, start: date
) -> None:
    """Part 2 (24 months), then part 3 (30) if there is time: a GP trains part 2 in a
    municipality and part 3 at the LIS1 hospital; anyone else part 2 at the LIS1 hospital and
    part 3 at another. (The random draws keep their order: the same seed, the same data.)"""
    specialty = rng.choice(SPECIALTIES)
    gp = specialty == "allmennmedisin"
    nxt = b.period(
        rng.choice(world.municipalities) if gp else hospital,
        2,
        None,
        start,
        24,
        specialty=specialty,
        objectives=_objectives(world, 2, None, specialty),
        gp=gp,
    )
    employer = hospital if gp else rng.choice(world.hospitals)
    if nxt < TODAY:
        b.period(
            employer,
            3,
            None,
            nxt,
            30,
            specialty=specialty,
            objectives=_objectives(world, 3, None, specialty),
        )


def doctors(world: World, n: int, seed: int) -> Iterator[DoctorRecord]:
    for i in range(n):
        yield build_doctor(world, seed, i)


# Writing -------------------------------------------------------------------------------------
def new_events(events: list[Any]) -> list[Any]:
    from services.store.eventstore import NewEvent

    return [
        NewEvent(
            event_id=uuid.uuid4(),
            type=type(e).__struct_config__.tag,
            schema_version=type(e).schema_version,
            data=registry.encode(e),
            metadata=METADATA,
        )
        for e in events
    ]


SNAPSHOT_SCHEMA = {
    "doctor": "doctor-1",
    "organisation": "organisation-1",
    "catalogue": "catalogue-1",
}


async def _write_streams(conn: Any, streams: list[Stream]) -> int:
    from sqlalchemy import text

    from services.store import eventstore

    count = 0
    snaps = []
    for s in streams:
        if not s.events:
            continue
        await eventstore.append(
            conn,
            stream_type=s.stream_type,
            stream_id=s.stream_id,
            expected_version=0,
            events=new_events(s.events),
        )
        count += len(s.events)
        snaps.append(
            {
                "s": s.stream_id,
                "v": len(s.events),
                "st": msgspec.msgpack.encode(s.state),
                "sc": SNAPSHOT_SCHEMA[s.stream_type],
            }
        )
    if snaps:
        await conn.execute(
            text(
                "INSERT INTO stream_snapshots (stream_id, version, state, schema) "
                "VALUES (:s, :v, :st, :sc)"
            ),
            snaps,
        )
    return count


async def load(
    database_url: str, size: str, *, seed: int = 6, per_transaction: int = 100
) -> dict[str, Any]:
    """Generate the data set and store it; returns counts (events, doctors, seconds)."""
    from sqlalchemy import text

    from bench.core import log
    from services.store.database import create_engine

    n = SIZES[size]
    started = time.perf_counter()
    world = build_world(n)
    engine = create_engine(database_url, pool_size=2)
    total = 0
    stages: Counter[str] = Counter()
    decide_seconds = 0.0
    try:
        async with engine.begin() as conn:
            total += await _write_streams(conn, [world.catalogue_stream, *world.org_streams])
        batch: list[DoctorRecord] = []

        async def flush() -> None:
            nonlocal total
            async with engine.begin() as conn:
                total += await _write_streams(conn, [r.stream for r in batch])
                await conn.execute(
                    text("INSERT INTO people (doctor_id, hpr_number) VALUES (:d, :h)"),
                    [{"d": r.doctor_id, "h": r.hpr_number} for r in batch],
                )
                pairs = [{"d": r.doctor_id, "o": o} for r in batch for o in sorted(r.orgs)]
                if pairs:
                    await conn.execute(
                        text(
                            "INSERT INTO doctor_organisations (doctor_id, org_number) "
                            "VALUES (:d, :o) ON CONFLICT DO NOTHING"
                        ),
                        pairs,
                    )
            batch.clear()

        for i in range(n):
            t0 = time.perf_counter()
            record = build_doctor(world, seed, i)
            decide_seconds += time.perf_counter() - t0
            stages[str(len(record.stream.events) // 50 * 50)] += 1
            batch.append(record)
            if len(batch) >= per_transaction:
                await flush()
            if (i + 1) % 2000 == 0:
                log(f"generator: {i + 1}/{n} doctors, {total} events")
        if batch:
            await flush()
        async with engine.connect() as conn:
            events = int(await conn.scalar(text("SELECT count(*) FROM events")))
        for name in ("events", "stream_snapshots", "people", "doctor_organisations"):
            async with engine.begin() as conn:
                await conn.execute(text(f"ANALYZE {name}"))
    finally:
        await engine.dispose()
    return {
        "size": size,
        "doctors": n,
        "events": events,
        "organisations": len(world.org_streams),
        "seconds": time.perf_counter() - started,
        "decide_seconds": decide_seconds,
        "rejected_commands": dict(world.rejected.most_common(10)),
        "events_per_doctor_histogram": dict(sorted(stages.items(), key=lambda kv: int(kv[0]))),
    }
