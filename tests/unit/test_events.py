"""Events: every type registered, golden JSON per type and schema version, the upcaster from
ServicePeriodRecorded v1 to v2, subjects on NATS, no personal data in payloads."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import events
from domain.doctor.state import DoctorState, fold
from events import (
    ALL_EVENTS,
    STREAM_SUBJECTS,
    ServicePeriodRecorded,
    registry,
    subject_for,
    type_name,
)
from events.doctor import DoctorEvent
from events.subjects import UnpublishableEvent, check_publishable, subjects_of_type
from tests.unit.event_samples import SAMPLES

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("KOMPETANSE_UPDATE_GOLDEN") == "1"


def golden_path(type_: str, version: int) -> Path:
    return GOLDEN / f"{type_}.v{version}.json"


def test_import_events_registers_every_event_type() -> None:
    assert set(registry.types()) == {type_name(c) for c in ALL_EVENTS}
    assert len(ALL_EVENTS) == 38
    assert events.stream_type_of("doctor.absence_logged") == "doctor"


def test_every_event_type_has_a_sample() -> None:
    assert sorted(type_name(type(s)) for s in SAMPLES) == registry.types()


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type_name(type(s)))
def test_golden_json_of_the_current_version(sample: events.Event) -> None:
    type_ = type_name(type(sample))
    path = golden_path(type_, type(sample).schema_version)
    encoded = registry.encode(sample)
    if UPDATE and not path.exists():
        path.write_text(
            json.dumps(json.loads(encoded), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    golden = path.read_text(encoding="utf-8")
    assert json.loads(encoded) == json.loads(golden), (
        f"{path.name} changed: a new schema version is needed"
    )
    assert registry.decode(type_, type(sample).schema_version, golden.encode()) == sample


def test_every_golden_file_names_a_known_type_and_decodes() -> None:
    files = sorted(GOLDEN.glob("*.json"))
    assert files
    for path in files:
        type_, version = path.name.removesuffix(".json").rsplit(".v", 1)
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert raw.pop("type") == type_
        registry.decode(type_, int(version), raw)


def test_service_period_recorded_v1_is_upcast_to_v2() -> None:
    """v1 had ``employer`` and ``fte`` (a fraction); v2 ``org_number`` and ``fte_percent``."""
    assert ServicePeriodRecorded.schema_version == 2
    v1 = golden_path("doctor.service_period_recorded", 1).read_bytes()
    assert b'"employer"' in v1 and b'"fte"' in v1
    event = registry.decode("doctor.service_period_recorded", 1, v1)
    assert event == SAMPLES[1]
    assert registry.decode("doctor.service_period_recorded", 1, json.loads(v1)) == SAMPLES[1]


def test_a_payload_newer_than_the_code_is_refused() -> None:
    with pytest.raises(ValueError, match="newer"):
        registry.decode("doctor.service_period_recorded", 3, {"x": 1})


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(events.UnknownEventType):
        registry.decode("doctor.nonsense", 1, b"{}")


def test_no_personal_data_fields_in_any_event() -> None:
    forbidden = {
        "name",
        "first_name",
        "last_name",
        "national_id",
        "fodselsnummer",
        "pid",
        "birth_date",
        "email",
        "notes",  # a supervision meeting's notes: kept in meeting_notes (issue 15)
    }
    for cls in ALL_EVENTS:
        fields = set(cls.__struct_fields__)
        if cls is events.OrganisationRegistered:
            fields.discard("name")  # an institution's name
        assert not fields & forbidden, cls


def test_events_are_frozen_keyword_only_and_tagged() -> None:
    for cls in ALL_EVENTS:
        cfg = cls.__struct_config__
        assert cfg.frozen and cfg.tag_field == "type" and not cfg.array_like
    with pytest.raises(TypeError):
        events.DoctorRegistered("d", date(2020, 1, 1), date(2020, 1, 1))  # type: ignore[call-arg]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type_name(type(s)))
def test_every_event_knows_its_stream(sample: events.Event) -> None:
    stream_type, stream_id = events.stream_of(sample)
    assert stream_type in events.STREAM_TYPES
    assert events.subject_of(sample) == f"kompetanse.events.{stream_type}.{stream_id}"


def test_subjects() -> None:
    assert subject_for("doctor", "doc-7f3a_1") == "kompetanse.events.doctor.doc-7f3a_1"
    assert subject_for("organisation", "983974899") == "kompetanse.events.organisation.983974899"
    assert STREAM_SUBJECTS == "kompetanse.events.>"
    assert subjects_of_type("catalogue") == "kompetanse.events.catalogue.>"
    for bad in ("a.b", "a b", "*", ">", "", "æ"):
        with pytest.raises(ValueError):
            subject_for("doctor", bad)
    with pytest.raises(ValueError):
        subject_for("patient", "x")


# --- properties: folding --------------------------------------------------------------------

DOCTOR_SAMPLES = [s for s in SAMPLES if type_name(type(s)).startswith("doctor.")]


@st.composite
def period_event(draw: st.DrawFn) -> ServicePeriodRecorded:
    start = draw(st.dates(min_value=date(2017, 3, 1), max_value=date(2030, 1, 1)))
    return ServicePeriodRecorded(
        doctor_id="d",
        period_id=draw(st.sampled_from(["p1", "p2", "p3"])),
        org_number="983974899",
        part=draw(st.sampled_from([1, 2, 3])),
        arena=draw(st.sampled_from(["hospital", "municipal", None])),
        position="LIS",
        fte_percent=draw(st.integers(1, 100)),
        start=start,
        end=draw(
            st.one_of(
                st.none(), st.just(start), st.dates(min_value=start, max_value=date(2032, 1, 1))
            )
        ),
    )


event_lists = st.lists(st.one_of(st.sampled_from(DOCTOR_SAMPLES), period_event()), max_size=12)


@settings(max_examples=150, deadline=None)
@given(event_lists, st.integers(0, 12))
def test_property_folding_one_at_a_time_equals_folding_all(
    evs: list[DoctorEvent], split: int
) -> None:
    all_at_once = fold(DoctorState(), evs)
    state = DoctorState()
    for e in evs:
        state = fold(state, [e])
    assert state == all_at_once
    assert fold(fold(DoctorState(), evs[:split]), evs[split:]) == all_at_once
    # a snapshot round-trips through JSON, so a service may store and reload it
    assert msgspec.json.decode(msgspec.json.encode(all_at_once), type=DoctorState) == all_at_once


def as_v1(e: ServicePeriodRecorded) -> dict[str, Any]:
    raw: dict[str, Any] = msgspec.to_builtins(e)
    raw.pop("type")
    raw["employer"] = raw.pop("org_number")
    raw["fte"] = raw.pop("fte_percent") / 100
    return raw


@settings(max_examples=150, deadline=None)
@given(st.lists(period_event(), max_size=8), st.lists(st.booleans(), min_size=8, max_size=8))
def test_property_upcasting_then_folding_equals_folding_the_current_version(
    evs: list[ServicePeriodRecorded], stored_as_v1: list[bool]
) -> None:
    loaded = [
        registry.decode(
            "doctor.service_period_recorded", 1, json.dumps(as_v1(e), default=str).encode()
        )
        if old
        else registry.decode("doctor.service_period_recorded", 2, registry.encode(e))
        for e, old in zip(evs, stored_as_v1, strict=False)
    ]
    assert fold(DoctorState(), loaded) == fold(DoctorState(), evs)  # type: ignore[arg-type]


def test_R13_supervisor_assigned_v1_is_upcast_with_a_stable_assignment_id() -> None:
    """v2 adds ``assignment_id`` so an assignment can be ended; a v1 payload gets an id
    derived from its own fields, the same on every read."""
    v1 = golden_path("doctor.supervisor_assigned", 1).read_bytes()
    assert b"assignment_id" not in v1
    first = registry.decode("doctor.supervisor_assigned", 1, v1)
    assert first == registry.decode("doctor.supervisor_assigned", 1, v1)
    assert first == next(s for s in SAMPLES if type_name(type(s)) == "doctor.supervisor_assigned")


def test_exception_granted_v1_is_upcast_valid_from_its_grant_date() -> None:
    v1 = golden_path("doctor.exception_granted", 1).read_bytes()
    assert b"valid_from" not in v1
    event = registry.decode("doctor.exception_granted", 1, v1)
    assert event == next(s for s in SAMPLES if type_name(type(s)) == "doctor.exception_granted")
    assert event.valid_from == event.granted_on and event.valid_to is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type_name(type(s)))
def test_every_event_type_is_publishable(sample: events.Event) -> None:
    stream_type, stream_id = events.stream_of(sample)
    check_publishable(stream_type, stream_id, type_name(type(sample)))


@pytest.mark.parametrize(
    ("stream_type", "stream_id", "event_type", "names"),
    [
        ("load", "x-1", "doctor.registered", "stream type 'load'"),
        ("doctor", "a.b", "doctor.registered", "stream id 'a.b'"),
        ("doctor", "", "doctor.registered", "stream id ''"),
        ("doctor", "x" * 129, "doctor.registered", "stream id"),
        ("doctor", "x-1", "", "event type ''"),
        ("doctor", "x-1", "Doctor Registered", "event type 'Doctor Registered'"),
        ("doctor", "x-1", "registered", "event type 'registered'"),
    ],
)
def test_unpublishable_events_are_named(
    stream_type: str, stream_id: str, event_type: str, names: str
) -> None:
    with pytest.raises(UnpublishableEvent, match=re.escape(names)):
        check_publishable(stream_type, stream_id, event_type)
