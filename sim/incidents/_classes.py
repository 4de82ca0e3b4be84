"""Offence classes that recorded crime is mapped to, and the shipped category mappings that do it.

A police force's categories (police.uk crime types, NIBRS offences, Boston's offence descriptions)
each map to one offence class, to ``unmodelled`` (a place-based crime the classes do not cover:
counted and reported, never dropped) or to ``not_crime`` (no meaningful street location, or no crime
at all: fraud, lost property, medical assists, traffic collisions; left out of every denominator and
counted). The mappings live as YAML under ``data/incidents/mappings/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.config import repo_root
from sim.incidents._errors import IncidentMappingError
from sim.offences import CRIME_TYPES

__all__ = [
    "MAPPINGS_DIR",
    "MODELLED_NOW",
    "NOT_CRIME",
    "OFFENCE_CLASSES",
    "TARGETS",
    "UNMODELLED",
    "OffenceClass",
    "load_mapping",
    "normalise_category",
]

MAPPINGS_DIR = repo_root() / "data" / "incidents" / "mappings"
UNMODELLED = "unmodelled"
NOT_CRIME = "not_crime"


@dataclass(frozen=True)
class OffenceClass:
    """One class of place-based offence real incidents are sorted into."""

    name: str
    description: str
    modelled: bool


_CLASSES = (
    ("robbery", "theft with force or the threat of it, from a person in the street or a shop"),
    ("burglary", "entering a dwelling or business to steal or do harm"),
    ("theft_from_vehicle", "theft from, or of parts of, a parked vehicle; breaking into one"),
    ("theft_from_person", "theft from the person without force: pickpocketing, snatch theft"),
    ("shoplifting", "theft from a shop or stall by a customer"),
    ("violence", "violence against the person, sexual offences and public order, incl. night-time economy"),
    ("criminal_damage", "criminal damage, vandalism, graffiti and arson"),
    ("vehicle_theft", "theft of a motor vehicle (car, van, motorcycle, scooter)"),
    ("bicycle_theft", "theft of a bicycle"),
    ("other_theft", "other theft: from buildings, unattended property, coin machines"),
)  # fmt: skip

#: Every offence class, by name: a one-line description and whether the model simulates it today.
OFFENCE_CLASSES: dict[str, OffenceClass] = {n: OffenceClass(n, d, n in CRIME_TYPES) for n, d in _CLASSES}
#: The classes the model simulates (``sim.offences.CRIME_TYPES``): today, every class.
MODELLED_NOW: frozenset[str] = frozenset(n for n, oc in OFFENCE_CLASSES.items() if oc.modelled)
#: What a category may map to: an offence class, ``unmodelled`` or ``not_crime``.
TARGETS: tuple[str, ...] = (*OFFENCE_CLASSES, UNMODELLED, NOT_CRIME)

_SPACES = re.compile(r"\s+")


def normalise_category(name: object) -> str:
    """Return the key a category is matched by: case-folded, inner whitespace collapsed, trimmed."""
    return _SPACES.sub(" ", str(name)).strip().casefold()


def load_mapping(name_or_path: str | Path) -> dict[str, str]:
    """Read a category mapping: a shipped one by name (``police_uk``, ``nibrs``, ``boston``) or a YAML file.

    The YAML holds ``map: {category: target}``; targets are offence classes, ``unmodelled`` or
    ``not_crime``.

    Parameters
    ----------
    name_or_path
        Name of a file in ``data/incidents/mappings/`` (without ``.yaml``) or a path.

    Returns
    -------
    dict
        Normalised category (see :func:`normalise_category`) -> target.

    Raises
    ------
    IncidentMappingError
        The file is missing or malformed, or names a target that does not exist.
    """
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = MAPPINGS_DIR / f"{name_or_path}.yaml"
    shipped = sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))
    if not path.is_file():
        raise IncidentMappingError(
            path, "mapping", "no such mapping file", f"one of {', '.join(shipped)} or a YAML file path"
        )
    try:
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problem = " ".join(str(exc).split())
        raise IncidentMappingError(
            path, "mapping", f"not valid YAML ({problem})", "map: {category: class}"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("map"), dict):
        raise IncidentMappingError(path, "map", "missing or not a mapping", "map: {category: class}")
    return check_targets(doc["map"], path=path, field="map")


def check_targets(mapping: dict[Any, Any], *, path: object, field: str) -> dict[str, str]:
    """Return ``mapping`` with normalised keys after checking every target; raise IncidentMappingError."""
    out: dict[str, str] = {}
    for category, target in mapping.items():
        if target not in TARGETS:
            raise IncidentMappingError(
                path,
                f"{field}.{category}",
                f"unknown offence class {target!r}",
                f"one of {', '.join(TARGETS)}",
            )
        out[normalise_category(category)] = str(target)
    return out
