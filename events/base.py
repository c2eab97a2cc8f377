"""The shape every domain event shares, and how events become bytes and back.

An event is a frozen, keyword-only msgspec Struct tagged with its ``type``. Its
``schema_version`` is a class attribute, not a field: the stored row carries the version
it was written with, and :func:`decode` lifts an old payload one version at a time on the
raw dict (the upcasters) before it becomes a Struct. msgspec's evolution rules decide when
an upcaster is needed: a new field with a default needs none; a renamed field or a changed
type does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, get_args

import msgspec

RawPayload = dict[str, Any]
Upcaster = Callable[[RawPayload], RawPayload]


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of every domain event. Subclasses set ``tag`` (their type name) via the class
    keyword ``tag="..."`` and may raise ``schema_version`` when their payload changes."""

    schema_version: ClassVar[int] = 1


class UnknownEventType(Exception):
    """A stored or received payload names a type this code does not know."""


class EventRegistry:
    """Maps type names to event classes and holds the upcasters between schema versions."""

    def __init__(self) -> None:
        self._classes: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._decoders: dict[str, msgspec.json.Decoder[Any]] = {}
        self._encoder = msgspec.json.Encoder()

    def register(self, cls: type[Event]) -> type[Event]:
        name = type_name(cls)
        if name in self._classes:
            raise ValueError(f"event type {name!r} registered twice")
        self._classes[name] = cls
        self._decoders[name] = msgspec.json.Decoder(cls)
        return cls

    def upcaster(self, type_: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function lifting a raw payload of ``type_`` from ``from_version`` to
        ``from_version + 1``."""

        def decorate(fn: Upcaster) -> Upcaster:
            key = (type_, from_version)
            if key in self._upcasters:
                raise ValueError(f"upcaster for {type_} v{from_version} registered twice")
            self._upcasters[key] = fn
            return fn

        return decorate

    def class_for(self, type_: str) -> type[Event]:
        try:
            return self._classes[type_]
        except KeyError:
            raise UnknownEventType(type_) from None

    def types(self) -> list[str]:
        return sorted(self._classes)

    def encode(self, event: Event) -> bytes:
        """The payload as stored and published: JSON including the ``type`` tag."""
        return self._encoder.encode(event)

    def upcast(self, type_: str, schema_version: int, raw: RawPayload) -> RawPayload:
        target = self.class_for(type_).schema_version
        if schema_version > target:
            raise ValueError(
                f"{type_} payload is schema v{schema_version}, newer than this code's v{target}"
            )
        version = schema_version
        while version < target:
            raw = self._upcasters[(type_, version)](dict(raw))
            version += 1
        return raw

    def decode(self, type_: str, schema_version: int, payload: bytes | RawPayload) -> Event:
        cls = self.class_for(type_)
        if schema_version == cls.schema_version and isinstance(payload, bytes | bytearray):
            event: Event = self._decoders[type_].decode(payload)
            return event
        raw = msgspec.json.decode(payload) if isinstance(payload, bytes | bytearray) else payload
        raw = self.upcast(type_, schema_version, raw)
        raw["type"] = type_
        return msgspec.convert(raw, cls)


def type_name(cls: type[Event]) -> str:
    tag = cls.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{cls.__name__} must declare a string tag")
    return tag


registry = EventRegistry()


def register_union(union: Any) -> tuple[type[Event], ...]:
    """Register every member of an aggregate's event union and return them as a tuple: the
    union is the one place an event type is listed."""
    members: tuple[type[Event], ...] = get_args(union) or (union,)
    for cls in members:
        registry.register(cls)
    return members
