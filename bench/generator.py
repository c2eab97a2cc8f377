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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench.world import TODAY, Stream, World, objectives_of
from domain.calendar_days import add_months
from domain.doctor import commands as cmd
from domain.doctor.decide import decide as decide_doctor
from domain.doctor.state import DoctorState
from domain.doctor.state import evolve as evolve_doctor
from events.base import registry, type_name

SIZES = {"quick": 60, "small": 1_000, "national": 30_000}
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


@dataclass
class DoctorRecord:
    doctor_id: str
    hpr_number: str
    orgs: set[str]
    stream: Stream


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
        supervision hours and confirmation, cut off at TODAY. Returns the day after it.
        (Each step draws from the doctor's random source in the same order as ever: the
        same seed gives the same data.)"""
        rng = self.rng
        fte = 100 if rng.random() < 0.8 else rng.choice((50, 60, 75, 80))
        months = round(months * 100 / fte) if fte < 100 else months  # part-time lasts longer
        end = add_months(start, months) - timedelta(days=1)
        ongoing = end >= TODAY
        pid = self.next_id("p")
        self.orgs.add(org)
        recorded = self.do(
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
        )
        until = min(end, TODAY - timedelta(days=1))
        if not recorded or until < start:
            return end + timedelta(days=1)
        veileder = self.assign_veileder(org, part, specialty, start)
        self._absences(pid, start, until)
        self._vacations(pid, start, until)
        self._assessments(org, veileder, objectives, start, end, until)
        if part > 1:
            self._supervision_hours(org, start, until)
        if not ongoing:
            self.do(
                cmd.IssueServiceConfirmation(
                    doctor_id=self.d,
                    period_id=pid,
                    org_number=org,
                    issued_on=end,
                    signed_by_hpr=self.world.leaders[org][0],
                )
            )
        return end + timedelta(days=1)

    def assign_veileder(
        self, org: str, part: int, specialty: str | None, start: date, hpr: str | None = None
    ) -> str:
        """A veileder from ``start`` (``hpr``, or one drawn at random); returns its HPR."""
        veileder = hpr or str(7_000_000 + self.rng.randrange(1_000_000))
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
        return veileder

    def _absences(self, pid: str, start: date, until: date) -> None:
        """Sick leave and leave totalling about 10 % of the days served (some just over,
        some under: R8's line)."""
        rng = self.rng
        days = (until - start).days + 1
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

    def _vacations(self, pid: str, start: date, until: date) -> None:
        """Three weeks' vacation in each year served (vacation is not absence)."""
        days = (until - start).days + 1
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

    def _assessments(
        self, org: str, veileder: str, objectives: list[str], start: date, end: date, until: date
    ) -> None:
        """Assessments spread over the period; most approved a few days later, some by the
        leader's delegate. Registered so far: a share of the objectives (what institutions
        have reported; the rest live in their own systems until the end of the period)."""
        rng = self.rng
        leader, delegate = self.world.leaders[org]
        days = (until - start).days + 1
        done_share = min(1.0, days / max(1, (end - start).days + 1))
        chosen = [o for o in objectives if rng.random() < done_share * OBJECTIVE_SHARE]
        for objective in chosen:
            on = start + timedelta(days=rng.randrange(max(1, days)))
            outcome = "achieved" if rng.random() < 0.93 else "not_yet"
            if not self.do(
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
                continue
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

    def _supervision_hours(self, org: str, start: date, until: date) -> None:
        """Supervision hours each quarter (parts 2 and 3, R12)."""
        month = start.replace(day=1)
        while month <= until:
            self.do(
                cmd.LogSupervisionHours(
                    doctor_id=self.d,
                    org_number=org,
                    month=f"{month:%Y-%m}",
                    hours=round(self.rng.uniform(2, 8), 1),
                )
            )
            month = add_months(month, 3)


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
            hospital, 1, "hospital", start, 12, objectives=objectives_of(world, 1, "hospital", None)
        )
        if nxt < TODAY:
            nxt = b.period(
                municipality,
                1,
                "municipal",
                nxt,
                6,
                objectives=objectives_of(world, 1, "municipal", None),
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
        objectives=objectives_of(world, 2, None, specialty),
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
            objectives=objectives_of(world, 3, None, specialty),
        )


def doctors(world: World, n: int, seed: int) -> Iterator[DoctorRecord]:
    for i in range(n):
        yield build_doctor(world, seed, i)
