"""A Struct from a database row: the columns it shares by name, then the values the caller
formats itself (dates shown as text, a renamed column). The row counterpart of
:func:`domain.copying.copy_as`, written once rather than as a keyword list per query. A field
that is neither a column nor given is a TypeError (unless it has a default), as it should be."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from sqlalchemy import Row

T = TypeVar("T", bound=msgspec.Struct)


def struct_from_row(target: type[T], row: Row[Any], **formatted: Any) -> T:
    columns = row._mapping
    values = {name: columns[name] for name in target.__struct_fields__ if name in columns}
    values.update(formatted)
    return target(**values)
