"""Norwegian identifier checks. All national identity numbers here are synthetic, computed
for the test, or Skatteetaten's published 2032 examples; none belongs to a real person."""

from __future__ import annotations

from datetime import date

import pytest

from domain.identifiers import (
    birth_date_of_national_id,
    check_hpr_number,
    check_national_id,
    check_org_number,
    is_valid_hpr_number,
    is_valid_national_id,
    is_valid_org_number,
)

# --- Organisation numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("974589095", None),  # a real, registered organisation number
        ("987654325", None),
        ("812345672", None),
        ("923456783", None),
        ("900000006", None),
        ("999999999", None),
        ("974589096", "invalid check digit"),
        ("974589094", "invalid check digit"),
        ("947589095", "invalid check digit"),  # two digits swapped
        # 91234567x: the weighted sum leaves remainder 1, check digit 10: never issued.
        *((f"91234567{d}", "invalid check digit") for d in range(10)),
        ("97458909", "must be 9 digits"),
        ("9745890950", "must be 9 digits"),
        ("", "must be 9 digits"),
        ("97458909a", "must be 9 digits"),
        ("974 589 095", "must be 9 digits"),
        (" 974589095", "must be 9 digits"),
        ("٩٧٤٥٨٩٠٩٥", "must be 9 digits"),  # Arabic-Indic digits: isdigit() says yes
        ("-97458909", "must be 9 digits"),
        (974589095, "must be 9 digits"),
        (None, "must be 9 digits"),
    ],
)
def test_org_number(value: object, reason: str | None) -> None:
    assert check_org_number(value) == reason
    assert is_valid_org_number(value) is (reason is None)


# --- National identity numbers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        # ordinary fødselsnummer, pre-2032 control digits
        ("01019012480", None),  # 01.01.1990
        ("15088534511", None),  # 15.08.1985
        ("31129045658", None),  # 31.12.1990
        ("01015470093", None),  # individual 700, YY 54 -> 1854
        ("01014095094", None),  # individual 950, YY 40 -> 1940
        ("01013995024", None),  # individual 950, YY 39 -> 2039
        # D-numbers: day + 40
        ("45088534534", None),
        # synthetic test numbers: month + 40 (NAV Dolly) and + 80 (Skatteetaten Tenor)
        ("29422059278", None),  # 29.02.2020, +40
        ("69422056629", None),  # the same as a synthetic D-number
        ("15888534587", None),  # +80
        ("55888534570", None),  # +80 D-number
        # the 2032 scheme (Skatteetaten's examples): K1 remainder 0, 1, 2 or 3
        ("02013299997", None),  # remainder 0
        ("02013299903", None),  # remainder 2
        ("02013299911", None),  # remainder 3
        ("02013299806", None),
        ("30108299920", None),  # remainder 0
        ("30108299939", None),  # remainder 1
        ("30108299947", None),  # remainder 2
        ("30108299955", None),  # remainder 3
        ("01019012308", None),  # remainder 1 on an ordinary date
        # a 2032-scheme number whose individual number no longer tells the century
        ("01015370072", None),  # individual 700, YY 53: unassigned before 2032
        # control digits
        ("01019012481", "invalid control digits"),  # K2 wrong
        ("01019012490", "invalid control digits"),  # K1 remainder 1 but then K2 wrong
        ("30108299963", "invalid control digits"),  # K1 remainder 4
        ("02013299920", "invalid control digits"),  # K1 remainder 4
        ("10019012480", "invalid control digits"),  # digits swapped
        # dates
        ("31029012302", "invalid date of birth"),  # 31 February
        ("29020012380", "invalid date of birth"),  # 29.02.1900: individual 123 -> 1900
        ("29020052331", None),  # 29.02.2000: individual 523 -> 2000, a leap year
        ("29020152352", "invalid date of birth"),  # 29.02.2001
        ("01139012328", "invalid date of birth"),  # month 13
        ("01539012300", "invalid date of birth"),  # month 53: synthetic month 13
        ("71539012317", "invalid date of birth"),  # the same as a D-number
        ("32019012351", "invalid date of birth"),  # day 32
        ("00019012360", "invalid date of birth"),  # day 0
        ("00000000000", "invalid date of birth"),
        # form
        ("0101901248", "must be 11 digits"),
        ("010190124800", "must be 11 digits"),
        ("010190 12480", "must be 11 digits"),
        ("0101901248O", "must be 11 digits"),
        ("", "must be 11 digits"),
        (1019012480, "must be 11 digits"),
        (None, "must be 11 digits"),
    ],
)
def test_national_id(value: object, reason: str | None) -> None:
    assert check_national_id(value) == reason
    assert is_valid_national_id(value) is (reason is None)


@pytest.mark.parametrize(
    ("value", "kwargs", "reason"),
    [
        ("45088534534", {"allow_d_number": False}, "D-numbers are not accepted"),
        ("29422059278", {"allow_synthetic": False}, "synthetic test numbers are not accepted"),
        ("15888534587", {"allow_synthetic": False}, "synthetic test numbers are not accepted"),
        ("01019012480", {"allow_d_number": False, "allow_synthetic": False}, None),
        ("30108299939", {"allow_2032_scheme": False}, "invalid control digits"),
        ("30108299920", {"allow_2032_scheme": False}, None),
        (
            "01015370072",
            {"allow_2032_scheme": False},
            "individual number does not match the year of birth",
        ),
        ("01015470093", {"allow_2032_scheme": False}, None),
    ],
)
def test_national_id_options(value: str, kwargs: dict[str, bool], reason: str | None) -> None:
    assert check_national_id(value, **kwargs) == reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("01019012480", date(1990, 1, 1)),
        ("45088534534", date(1985, 8, 5)),
        ("29422059278", date(2020, 2, 29)),
        ("15888534587", date(1985, 8, 15)),
        ("01015470093", date(1854, 1, 1)),
        ("02013299997", date(2032, 1, 2)),
        ("01015370072", None),  # century not told by the individual number
        ("31029012302", None),  # invalid
    ],
)
def test_birth_date(value: str, expected: date | None) -> None:
    assert birth_date_of_national_id(value) == expected


# --- HPR numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("565501872", None),
        ("1234567", None),
        ("9", None),
        ("999999999", None),
        ("1000000000", "must be at most 9 digits"),
        ("0123456", "must not start with 0"),
        ("0", "must not start with 0"),
        ("", "must be digits only"),
        ("12345a7", "must be digits only"),
        ("123 456", "must be digits only"),
        ("-123", "must be digits only"),
        ("１２３", "must be digits only"),  # full-width digits
        (1234567, "must be digits only"),
        (None, "must be digits only"),
    ],
)
def test_hpr_number(value: object, reason: str | None) -> None:
    assert check_hpr_number(value) == reason
    assert is_valid_hpr_number(value) is (reason is None)
