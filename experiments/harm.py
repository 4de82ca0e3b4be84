"""Harm weights: days of custody per offence type (the Cambridge Crime Harm Index), read from ``conf/plan/default.yaml``.

Sherman, Neyroud & Neyroud (2016) weight each offence by the starting point of its England and Wales
sentencing guideline for a first offender. The table, its sources and the entries each of the
model's offence types is mapped to are in the YAML file and in docs/experiments.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.checks import is_number
from sim.errors import ConfigError
from sim.offences import CRIME_TYPES

__all__ = ["HARM_FILE", "check_harm_weights", "load_harm_weights"]

#: The harm weights and where each comes from.
HARM_FILE = Path(__file__).resolve().parents[1] / "conf" / "plan" / "default.yaml"


def load_harm_weights(path: Path = HARM_FILE) -> dict[str, float]:
    """Return the ``harm:`` table of ``path``: days per offence type, one for each of the model's types.

    Raises ConfigError naming the file and the first missing, unknown or bad entry.
    """
    import yaml

    try:
        table = (yaml.safe_load(path.read_text()) or {}).get("harm")
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: harm", str(exc), "a readable YAML file with a harm: table") from None
    if not isinstance(table, dict):
        raise ConfigError(
            f"{path}: harm", table, f"a table of days per offence type ({', '.join(CRIME_TYPES)})"
        )
    return check_harm_weights(table, where=f"{path}: harm")


def check_harm_weights(table: Mapping[str, Any], *, where: str = "harm") -> dict[str, float]:
    """Return ``table`` as floats in the model's type order; ConfigError names the first bad key."""
    for key in table:
        if key not in CRIME_TYPES:
            raise ConfigError(
                f"{where}.{key}", table[key], f"an offence type: one of {', '.join(CRIME_TYPES)}"
            )
    out = {}
    for key in CRIME_TYPES:
        value = table.get(key)
        if not (is_number(value) and value >= 0):
            raise ConfigError(
                f"{where}.{key}", value, "days of custody, a number >= 0 (every type needs one)"
            )
        out[key] = float(value)
    if not sum(out.values()) > 0:
        raise ConfigError(where, out, "at least one weight > 0")
    return out
