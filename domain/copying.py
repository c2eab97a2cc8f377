"""Field copying between Structs that share field names: a command becomes its event, an
event becomes a piece of state. Written once here rather than as a keyword list per pair,
so a field added to both sides is carried without touching the decision or the fold."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T", bound=msgspec.Struct)

_FIELDS: dict[type[Any], frozenset[str]] = {}


def _fields_of(cls: type[Any]) -> frozenset[str]:
    names = _FIELDS.get(cls)
    if names is None:
        names = frozenset(f.name for f in msgspec.structs.fields(cls))
        _FIELDS[cls] = names
    return names


def copy_as(target: type[T], source: msgspec.Struct, **overrides: Any) -> T:
    """``target`` built from the fields of ``source`` it also has, then ``overrides``.
    A required field of ``target`` that neither supplies is a TypeError, as it should be."""
    wanted = _fields_of(target)
    values = {name: getattr(source, name) for name in _fields_of(type(source)) & wanted}
    values.update(overrides)
    return target(**values)
