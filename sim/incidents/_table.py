"""What reading an incident file returns: the events table and the report of what was kept and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.incidents._classes import MODELLED_NOW, NOT_CRIME, OFFENCE_CLASSES, UNMODELLED

__all__ = ["IncidentReport", "IncidentTable", "coverage_of"]


def coverage_of(class_counts: dict[str, int]) -> dict[str, float]:
    """Return how much place-based crime falls in the offence classes and in the simulated ones.

    Parameters
    ----------
    class_counts
        Incidents per target (offence class, ``unmodelled``, ``not_crime``).

    Returns
    -------
    dict
        ``place_based`` (all but ``not_crime``), ``in_classes``, ``modelled_now`` (counts) and
        ``share_in_classes``, ``share_modelled_now`` (of place-based; NaN when there is none).
    """
    place = sum(n for c, n in class_counts.items() if c != NOT_CRIME)
    in_classes = sum(n for c, n in class_counts.items() if c in OFFENCE_CLASSES)
    now = sum(n for c, n in class_counts.items() if c in MODELLED_NOW)
    nan = float("nan")
    return {
        "place_based": float(place),
        "in_classes": float(in_classes),
        "modelled_now": float(now),
        "share_in_classes": in_classes / place if place else nan,
        "share_modelled_now": now / place if place else nan,
    }


@dataclass
class IncidentReport:
    """What happened to every row of an incident file.

    ``rows_read == rows_used + sum(rejected.values())``. Coverage shares are of place-based offences
    (every row but ``not_crime``), over all rows read whatever their coordinates, and over the rows
    used in ``coverage_used``.
    """

    path: str
    format: str
    encoding: str
    timezone: str
    mapping: str
    formats: dict[str, str | None]
    rows_read: int
    rows_used: int
    rejected: dict[str, int]
    first_lines: dict[str, list[int]]
    categories: pd.DataFrame
    unknown_categories: list[str]
    coverage: dict[str, float]
    coverage_used: dict[str, float]
    time_known: dict[str, int]
    share_snapped: float
    snap_dist_m: dict[str, float]
    date_first: pd.Timestamp | None
    date_last: pd.Timestamp | None
    origin: pd.Timestamp | None
    notes: list[str] = field(default_factory=list)

    def class_counts(self, *, used: bool = False) -> dict[str, int]:
        """Return incidents per offence class (and ``unmodelled``, ``not_crime``), read or used."""
        col = "rows_used" if used else "rows_read"
        counts = self.categories.groupby("offence_class")[col].sum()
        return {str(k): int(v) for k, v in counts.items() if v > 0}

    def categories_of(self, target: str) -> dict[str, int]:
        """Return the source categories mapped to ``target`` (e.g. ``"not_crime"``) with rows read."""
        sub = self.categories[self.categories["offence_class"] == target]
        return {str(k): int(v) for k, v in zip(sub["offence"], sub["rows_read"], strict=True)}

    @property
    def unmodelled(self) -> dict[str, int]:
        """Categories counted as place-based crime outside the offence classes."""
        return self.categories_of(UNMODELLED)

    @property
    def not_crime(self) -> dict[str, int]:
        """Categories left out of every denominator (no street location, or not a crime)."""
        return self.categories_of(NOT_CRIME)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-friendly plain values."""

        def ts(t: pd.Timestamp | None) -> str | None:
            return None if t is None else t.isoformat()

        return {
            "path": self.path, "format": self.format, "encoding": self.encoding, "timezone": self.timezone,
            "mapping": self.mapping, "formats": dict(self.formats), "rows_read": self.rows_read,
            "rows_used": self.rows_used, "rejected": dict(self.rejected),
            "first_lines": {k: list(v) for k, v in self.first_lines.items()},
            "categories": self.categories.to_dict(orient="records"),
            "unknown_categories": list(self.unknown_categories), "coverage": dict(self.coverage),
            "coverage_used": dict(self.coverage_used), "time_known": dict(self.time_known),
            "share_snapped": self.share_snapped, "snap_dist_m": dict(self.snap_dist_m),
            "date_first": ts(self.date_first), "date_last": ts(self.date_last), "origin": ts(self.origin),
            "notes": list(self.notes),
        }  # fmt: skip


@dataclass
class IncidentTable:
    """Real crime as an event table, and the report of how it was read.

    ``events`` has every column of :data:`sim.events.EVENT_COLUMNS` with the same dtypes (``kind``
    "crime", ``crime_type`` the offence class, ``reported`` and ``recorded`` True, ``step`` -1), so
    every :mod:`sim.metrics` function runs on it as on a simulated table, plus ``incident_id``,
    ``offence`` (the source category), ``datetime`` (tz-aware local time), ``time_known``
    ("minute", "day" or "month"), ``snap_dist_m``, ``src_x``/``src_y`` (the point as given,
    projected) and ``row`` (the data row in the file, 1 for the first row below the header; the
    report's line numbers are lines of the file, which differ when a quoted field spans lines). ``time_min`` counts local
    wall-clock minutes from ``origin``, so ``time_min / 60 % 24`` is the local hour.
    """

    events: pd.DataFrame
    report: IncidentReport
    origin: pd.Timestamp
    timezone: str

    def crimes(
        self, classes: Iterable[str] | None = None, *, time_known: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """Return the events of the given offence classes and time precisions (all when None)."""
        ev = self.events
        keep = pd.Series(True, index=ev.index)
        if classes is not None:
            keep &= ev["crime_type"].isin(list(classes))
        if time_known is not None:
            keep &= ev["time_known"].isin(list(time_known))
        return ev[keep]
