"""Importing a catalogue version from a file's text (JSON or CSV), e.g. the official annex 2.

JSON (one version per file)::

    {"catalogue_id": "annex2", "version": "2024-09-01", "effective_from": "2024-09-01",
     "label": "...", "objectives": [
        {"id": "KLS-001", "part": 1, "specialty": null, "arena": "hospital", "title": "..."},
        {"id": "FKM-012", "part": 1, "specialty": null, "arena": "municipal", "title": "..."},
        {"id": "ALM-003", "part": 3, "specialty": "allmennmedisin", "arena": null, "title": "..."}],
     "changes": [{"old_id": "KLK-012", "new_id": "KLK-012", "stricter": true}]}

CSV (UTF-8, comma-separated, header row): objectives with columns
``id,part,specialty,arena,title`` (empty ``specialty`` = common objective, empty ``arena`` for
parts 2-3); changes, optionally, in a second file with ``old_id,new_id,stricter`` (empty
``new_id`` = removed; ``stricter`` is ``true``/``false``/``1``/``0``/``ja``/``nei``). The version
name, its effective date and the catalogue id are given as arguments.

Parsing only: the result is a :class:`PublishCatalogueVersion` command, validated by
:func:`domain.catalogue.decide` like any other.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import msgspec

from domain.catalogue import PublishCatalogueVersion
from domain.copying import copy_as
from events.catalogue import ObjectiveChange, ObjectiveSpec


class CatalogueFormatError(ValueError):
    """The file does not follow the documented format (the message says where)."""


class CatalogueFile(msgspec.Struct, frozen=True, kw_only=True):
    catalogue_id: str = "annex2"
    version: str
    effective_from: date
    objectives: tuple[ObjectiveSpec, ...]
    changes: tuple[ObjectiveChange, ...] = ()
    label: str = ""


def parse_json(text: str | bytes) -> PublishCatalogueVersion:
    try:
        return copy_as(PublishCatalogueVersion, msgspec.json.decode(text, type=CatalogueFile))
    except msgspec.ValidationError as exc:
        raise CatalogueFormatError(str(exc)) from exc
    except msgspec.DecodeError as exc:
        raise CatalogueFormatError(f"not JSON: {exc}") from exc


_TRUE = {"true", "1", "ja", "yes"}
_FALSE = {"false", "0", "nei", "no", ""}


def _rows(text: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = tuple(c.strip() for c in (reader.fieldnames or ()))
    missing = [c for c in columns if c not in header]
    if missing:
        raise CatalogueFormatError(f"CSV header lacks {', '.join(missing)}")
    return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]


def parse_csv(
    objectives_csv: str,
    *,
    version: str,
    effective_from: date,
    changes_csv: str | None = None,
    catalogue_id: str = "annex2",
    label: str = "",
) -> PublishCatalogueVersion:
    objectives = []
    for n, row in enumerate(
        _rows(objectives_csv, ("id", "part", "specialty", "arena", "title")), 2
    ):
        if row["part"] not in ("1", "2", "3"):
            raise CatalogueFormatError(f"line {n}: part must be 1, 2 or 3")
        if row["arena"] not in ("", "hospital", "municipal"):
            raise CatalogueFormatError(f"line {n}: arena must be hospital, municipal or empty")
        objectives.append(
            msgspec.convert(
                {
                    "id": row["id"],
                    "part": int(row["part"]),
                    "specialty": row["specialty"] or None,
                    "arena": row["arena"] or None,
                    "title": row["title"],
                },
                ObjectiveSpec,
            )
        )
    changes = []
    if changes_csv is not None:
        for n, row in enumerate(_rows(changes_csv, ("old_id", "new_id", "stricter")), 2):
            flag = row["stricter"].lower()
            if flag not in _TRUE | _FALSE:
                raise CatalogueFormatError(f"changes line {n}: stricter must be true or false")
            changes.append(
                ObjectiveChange(
                    old_id=row["old_id"], new_id=row["new_id"] or None, stricter=flag in _TRUE
                )
            )
    return PublishCatalogueVersion(
        catalogue_id=catalogue_id,
        version=version,
        effective_from=effective_from,
        objectives=tuple(objectives),
        changes=tuple(changes),
        label=label,
    )
