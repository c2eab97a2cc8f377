"""The sample catalogue shipped with the project (package data).

SAMPLE: the ids follow the real scheme (KLS-001..045, KLP-001..016, KLK-001..040, FKM), but
the titles, the FKM hospital/municipal split and the specialty objectives are illustrative,
not the official text of annex 2. ``annex2_sample_v1.json`` is the version from 1 March
2020; ``annex2_sample_v2.json`` (1 September 2024) revises a few objectives so carry-over can
be shown: KLK-012 and IND-007 become stricter, KLS-003 is reworded (not stricter), ALM-005 is
replaced by ALM-021 (not stricter), FKM-075 is added.
"""

from __future__ import annotations

from importlib import resources

from domain.catalogue import PublishCatalogueVersion
from domain.catalogue_import import parse_json

SAMPLE_FILES = ("annex2_sample_v1.json", "annex2_sample_v2.json")


def sample_text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def sample_versions() -> list[PublishCatalogueVersion]:
    """The sample versions as publish commands, oldest first."""
    return [parse_json(sample_text(name)) for name in SAMPLE_FILES]
