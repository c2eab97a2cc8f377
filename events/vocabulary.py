"""The closed sets of words events use (validated by msgspec on decode)."""

from __future__ import annotations

from typing import Literal

Part = Literal[1, 2, 3]
Arena = Literal["hospital", "municipal"]
OrganisationKind = Literal["hospital_trust", "municipality"]
AbsenceKind = Literal[
    "sick_leave",
    "parental_leave",
    "leave_of_absence",
    "other_statutory",
    "vacation",
    "education",
]
SupervisorRole = Literal["veileder", "clinical_supervisor"]
AssessorRole = Literal["veileder", "clinical_supervisor", "leader", "other"]
AssessmentOutcome = Literal["achieved", "not_yet"]
ExceptionKind = Literal[
    "sequence_part1",  # R2: municipal LIS1 service before the hospital year is done
    "part1_first_foreign",  # R3: foreign education, part 2/3 before part 1 is complete
    "turnus_approved",  # R3: approved turnus counts as a completed part 1
    "gp_fte_dispensation",  # R11: open unselected practice below the 50 % floor
    "veileder_dispensation",  # R13: veileder without the specialty (ASA specialties)
    "local_fkm_agreement",  # R4: local agreement on the part-1 common-objective split
    "foreign_credit",  # §32 / §18: credit for education abroad (directorate; months to R9)
    "eu_eos_exemption",  # R19: EU/EØS-educated, in a LIS post before 1 March 2019
]
ApplicationOutcome = Literal["approved", "rejected", "more_information_needed"]

# Who grants an exception: an organisation number, or the directorate.
DIRECTORATE = "helsedirektoratet"
