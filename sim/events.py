"""The event log: every crime (true), every call, dispatch, arrival and patrol visit, in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EVENT_COLUMNS", "EventLog"]

# column -> dtype; the order is the order of the Parquet file (docs/architecture.md)
EVENT_COLUMNS: dict[str, str] = {
    "time_min": "float64", "step": "int64", "kind": "string", "edge": "int64", "segment": "int64",
    "osm_way_id": "int64", "x": "float64", "y": "float64", "lon": "float64", "lat": "float64",
    "crime_type": "string", "offender_id": "int64", "victim_id": "int64", "reported": "bool",
    "recorded": "bool", "officer_id": "int64", "call_id": "int64", "dwell_min": "float64",
    "offender_home_dist_m": "float64", "offset_m": "float64",
}  # fmt: skip
_DEFAULTS: dict[str, Any] = {
    "crime_type": "", "offender_id": -1, "victim_id": -1, "reported": False, "recorded": False,
    "officer_id": -1, "call_id": -1, "dwell_min": np.nan, "offender_home_dist_m": np.nan, "offset_m": 0.0,
}  # fmt: skip


class EventLog:
    """Append-only columnar log; positions (x, y, lon, lat, way id) are filled in when frozen."""

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self._before_freeze: list[Callable[[], None]] = []

    def __len__(self) -> int:
        """Return the number of events logged."""
        return len(self._rows)

    def add(self, *, time_min: float, step: int, kind: str, edge: int, segment: int, **fields: Any) -> int:
        """Append one event and return its row; optional columns not given in ``fields`` take their defaults.

        Raises
        ------
        KeyError
            If ``fields`` names a column that is not an optional event column.
        """
        unknown = set(fields) - set(_DEFAULTS)
        if unknown:
            raise KeyError(f"unknown event fields {sorted(unknown)}")
        self._rows.append({"time_min": float(time_min), "step": int(step), "kind": kind, "edge": int(edge),
                           "segment": int(segment), **_DEFAULTS, **fields})  # fmt: skip
        return len(self._rows) - 1

    def fill(self, row: int, column: str, value: Any) -> None:
        """Set an optional column of an event already logged (a value computed later, in a batch)."""
        if column not in _DEFAULTS:
            raise KeyError(f"unknown event field {column!r}")
        self._rows[row][column] = value

    def before_freeze(self, fill: Callable[[], None]) -> None:
        """Register ``fill`` to run before the log becomes a table (:meth:`to_frame`): it fills deferred values."""
        self._before_freeze.append(fill)

    def rows(self, kind: str | None = None, start: int = 0) -> list[dict[str, Any]]:
        """Return the logged events from the ``start``-th on as dicts, in order; only those of ``kind`` if given."""
        return [r for r in self._rows[start:] if kind is None or r["kind"] == kind]

    def to_frame(self, net: Any) -> pd.DataFrame:
        """Return the log as a DataFrame with positions resolved on the network ``net``."""
        for fill in self._before_freeze:
            fill()
        df = pd.DataFrame(self._rows, columns=[c for c in EVENT_COLUMNS if c not in ("osm_way_id", "x", "y",
                                                                                      "lon", "lat")])  # fmt: skip
        if df.empty:
            df = pd.DataFrame({c: pd.Series(dtype=t) for c, t in EVENT_COLUMNS.items()})
            return df
        edge = df["edge"].to_numpy(np.int64)
        offset = df["offset_m"].to_numpy(np.float64)
        xy = net.edge_point(edge, offset)
        lonlat = net.edge_lonlat(edge, offset)
        df["osm_way_id"] = net.edge_osm_way_id[edge]
        df["x"], df["y"] = xy[:, 0], xy[:, 1]
        df["lon"], df["lat"] = lonlat[:, 0], lonlat[:, 1]
        df = df[list(EVENT_COLUMNS)]
        return df.astype(EVENT_COLUMNS)
