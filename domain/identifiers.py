"""Norwegian identifiers: organisation number, national identity number, HPR number.

Pure functions, standard library only. Each ``check_*`` returns ``None`` for a valid value
or a short English reason naming the fault (safe to show: it never echoes the value); each
``is_valid_*`` is the boolean shorthand. Values are checked exactly as given: callers strip
spaces and other formatting before checking.

Hand-written on purpose: python-stdnum's ``no.fodselsnummer`` rejects the synthetic test
numbers used by HelseID's test environment and the 2032 control-digit scheme, both of which
must be accepted here.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Final

# --- Organisation number (organisasjonsnummer) -------------------------------------------
# Brønnøysundregistrene: 9 digits, the last a modulus-11 check digit over the first eight
# with weights 3, 2, 7, 6, 5, 4, 3, 2. Check digit = 11 - (sum mod 11); 11 becomes 0; 10
# means the number is never issued.
# https://www.brreg.no/om-oss/registrene-vare/om-enhetsregisteret/organisasjonsnummeret/
_ORG_WEIGHTS: Final = (3, 2, 7, 6, 5, 4, 3, 2)


def _digits(s: object, length: int) -> list[int] | None:
    # str.isdigit() alone accepts non-ASCII digits such as "٣"; identifiers are ASCII only.
    if not isinstance(s, str) or len(s) != length or not (s.isascii() and s.isdigit()):
        return None
    return [int(c) for c in s]


def _mod11_check_digit(digits: list[int], weights: tuple[int, ...]) -> int | None:
    """11 - (weighted sum mod 11), with 11 -> 0; None when the result is 10 (unusable)."""
    check = 11 - sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def check_org_number(s: object) -> str | None:
    digits = _digits(s, 9)
    if digits is None:
        return "must be 9 digits"
    if _mod11_check_digit(digits[:8], _ORG_WEIGHTS) != digits[8]:
        return "invalid check digit"
    return None


def is_valid_org_number(s: object) -> bool:
    return check_org_number(s) is None


# --- National identity number (fødselsnummer, D-number) ----------------------------------
# Layout DDMMYY III K1 K2 (Skatteetaten, "Fødselsnummer"; Folkeregisteret's API docs).
#
# K1: weights 3 7 6 1 8 9 4 5 2 over the first nine digits. Until 2032 K1 = 11 - (sum mod
# 11) (11 -> 0), i.e. (sum + K1) mod 11 == 0. Numbers issued from 1 January 2032 may use a
# remainder of 0, 1, 2 or 3: "I dagens kontrollberegning må rest etter moduluskontrollen
# være lik 0. I ny kontrollberegning vil rest etter moduluskontrollen tillate 0, 1, 2 og 3
# som gyldige verdier" ("k1 = {11,12,13,14} - (sum mod 11)"; rejected if K1 would be 10).
# Systems must accept both schemes side by side, and the old one is the new one's remainder
# 0, so the acceptance rule is: (sum + K1) mod 11 in {0, 1, 2, 3}, K1 a digit.
# Source: Skatteetaten, "Nytt fødselsnummer fra 2032",
# https://skatteetaten.github.io/folkeregisteret-api-dokumentasjon/nyttfnr2032/ and
# https://www.skatteetaten.no/deling/opplysninger/folkeregisteropplysninger/pid/
#
# K2 is unchanged: weights 5 4 3 2 7 6 5 4 3 2 over the first ten digits, K2 = 11 - (sum
# mod 11) (11 -> 0, 10 -> invalid).
_K1_WEIGHTS: Final = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2_WEIGHTS: Final = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_K1_REMAINDERS_2032: Final = frozenset({0, 1, 2, 3})

# D-number: 4 is added to the first digit (day + 40).
_D_NUMBER_DAY_OFFSET: Final = 40
# Synthetic test identities never belong to real people; they add to the month:
#   +40  NAV's synthetic test population (Dolly); also the old "H-number" (hjelpenummer)
#   +80  Skatteetaten's synthetic national registry (Tenor, "Test-Norge"), which HelseID's
#        and Norsk helsenett's test environments use for their test persons.
_SYNTHETIC_MONTH_OFFSETS: Final = (40, 80)


def _century_of(individual: int, yy: int) -> int | None:
    """Century from the individual number, as assigned before 2032 (Skatteetaten):
    000-499 -> 1900-1999; 500-749 with YY >= 54 -> 1854-1899; 500-999 with YY <= 39 ->
    2000-2039; 900-999 with YY >= 40 -> 1940-1999. Anything else was not assigned."""
    if individual <= 499:
        return 1900
    if individual <= 749 and yy >= 54:
        return 1800
    if yy <= 39:
        return 2000
    if individual >= 900:
        return 1900
    return None


def _valid_day(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _date_parts(
    digits: list[int], *, allow_d_number: bool, allow_synthetic: bool
) -> tuple[int, int, int] | str:
    day = digits[0] * 10 + digits[1]
    month = digits[2] * 10 + digits[3]
    yy = digits[4] * 10 + digits[5]
    if day > _D_NUMBER_DAY_OFFSET:
        if not allow_d_number:
            return "D-numbers are not accepted"
        day -= _D_NUMBER_DAY_OFFSET
    for offset in reversed(_SYNTHETIC_MONTH_OFFSETS):
        if month > offset:
            if not allow_synthetic:
                return "synthetic test numbers are not accepted"
            month -= offset
            break
    return day, month, yy


def check_national_id(
    s: object,
    *,
    allow_d_number: bool = True,
    allow_synthetic: bool = True,
    allow_2032_scheme: bool = True,
) -> str | None:
    """Why ``s`` is not a valid fødselsnummer or D-number, or None when it is.

    Accepts D-numbers (day + 40) and synthetic test numbers (month + 40 or + 80) unless
    told otherwise. The date must exist: with a century from the individual number where
    that rule gives one, else (a 2032-scheme number, whose individual number no longer
    tells the century) in some century from 1800 to 2099. With ``allow_2032_scheme=False``
    only the pre-2032 rules hold: K1 remainder 0 and an individual number assigned for the
    birth year.
    """
    digits = _digits(s, 11)
    if digits is None:
        return "must be 11 digits"
    remainder = sum(d * w for d, w in zip(digits[:10], (*_K1_WEIGHTS, 1), strict=True)) % 11
    allowed = _K1_REMAINDERS_2032 if allow_2032_scheme else frozenset({0})
    if remainder not in allowed or _mod11_check_digit(digits[:10], _K2_WEIGHTS) != digits[10]:
        return "invalid control digits"
    parts = _date_parts(digits, allow_d_number=allow_d_number, allow_synthetic=allow_synthetic)
    if isinstance(parts, str):
        return parts
    day, month, yy = parts
    century = _century_of(digits[6] * 100 + digits[7] * 10 + digits[8], yy)
    if century is not None:
        return None if _valid_day(century + yy, month, day) else "invalid date of birth"
    if not allow_2032_scheme:
        return "individual number does not match the year of birth"
    if any(_valid_day(c + yy, month, day) for c in (1800, 1900, 2000)):
        return None
    return "invalid date of birth"


def is_valid_national_id(s: object) -> bool:
    return check_national_id(s) is None


def birth_date_of_national_id(s: str) -> date | None:
    """The date of birth encoded in a valid number, when its century can be told from the
    individual number (pre-2032 assignment); None otherwise. For 2032-scheme numbers the
    Folkeregisteret record is the source of the date of birth."""
    if check_national_id(s) is not None:
        return None
    digits = [int(c) for c in s]
    parts = _date_parts(digits, allow_d_number=True, allow_synthetic=True)
    assert not isinstance(parts, str)
    day, month, yy = parts
    century = _century_of(int(s[6:9]), yy)
    return None if century is None else date(century + yy, month, day)


# --- HPR number (helsepersonellnummer) ---------------------------------------------------
# The Health Personnel Register (Helsedirektoratet) issues plain serial numbers: digits
# only, currently 7 to 9 long, no published check digit. We accept the form as issued:
# 1-9 ASCII digits without a leading zero (a leading zero would make "0123" and "123" two
# spellings of one number). Existence is a question for HPR itself, not a syntax check.
_HPR_MAX_DIGITS: Final = 9


def check_hpr_number(s: object) -> str | None:
    if not isinstance(s, str) or not s or not (s.isascii() and s.isdigit()):
        return "must be digits only"
    if len(s) > _HPR_MAX_DIGITS:
        return f"must be at most {_HPR_MAX_DIGITS} digits"
    if s[0] == "0":
        return "must not start with 0"
    return None


def is_valid_hpr_number(s: object) -> bool:
    return check_hpr_number(s) is None
