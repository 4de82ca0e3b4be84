"""Residents' trust in the police, and the reporting of crime that trust drives.

Community policing raises satisfaction and legitimacy (Gill et al. 2014); procedural justice
raises trust (Mazerolle et al. 2013).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from sim.metrics._common import _add_derived_keys, _require_columns, select_crimes

__all__ = [
    "mean_trust_by_area",
    "reporting_rate",
]


def reporting_rate(
    events: pd.DataFrame, *, by: Sequence[str] = (), area_of_segment: ArrayLike | None = None
) -> pd.DataFrame:
    """Return the share of crimes reported to the police (and recorded), optionally by group.

    Trust sets reporting in the model; community policing raises satisfaction and legitimacy
    (Gill et al. 2014), which shows first in this rate.

    Parameters
    ----------
    events
        Event table with ``reported`` (and ``recorded`` when present).
    by
        Grouping keys as in :func:`count_crimes` (``"area"`` needs ``area_of_segment``).
    area_of_segment
        Area id per segment.

    Returns
    -------
    pandas.DataFrame
        Columns ``[*by, n_crimes, n_reported, reporting_rate]`` and, when ``recorded`` exists,
        ``n_recorded, recording_rate`` (recorded share of all crimes). Rates are NaN for no crime.
    """
    where = "reporting_rate"
    crimes = select_crimes(events)
    _require_columns(crimes, ["reported"], where=where)
    keys = list(by)
    frame = _add_derived_keys(
        crimes,
        keys,
        area_of_segment=area_of_segment,
        is_night=None,
        night_hours=(20.0, 6.0),
        start_hour=0.0,
        where=where,
    )
    frame["_reported"] = frame["reported"].astype(bool).astype(np.int64)
    agg = {"n_crimes": ("_reported", "size"), "n_reported": ("_reported", "sum")}
    if "recorded" in frame.columns:
        frame["_recorded"] = frame["recorded"].astype(bool).astype(np.int64)
        agg["n_recorded"] = ("_recorded", "sum")
    if keys:
        out = frame.groupby(keys, sort=True).agg(**agg).reset_index()
    else:
        out = pd.DataFrame([{name: frame[col].agg(fn) for name, (col, fn) in agg.items()}])
    n = out["n_crimes"].to_numpy(dtype=np.float64)
    safe = np.where(n > 0, n, 1.0)
    out["reporting_rate"] = np.where(n > 0, out["n_reported"] / safe, np.nan)
    if "n_recorded" in out.columns:
        out["recording_rate"] = np.where(n > 0, out["n_recorded"] / safe, np.nan)
    return out


def mean_trust_by_area(trust: ArrayLike, area: ArrayLike, *, n_areas: int | None = None) -> pd.DataFrame:
    """Return mean trust in police per area (Mazerolle et al. 2013 on procedural justice and trust).

    Parameters
    ----------
    trust
        Trust of every resident, in [0, 1].
    area
        Area id (0..n_areas-1) of every resident, e.g. ``area_of_segment[home_segment]``.
    n_areas
        Number of areas; areas without residents get NaN. Default: ``max(area) + 1``.

    Returns
    -------
    pandas.DataFrame
        Columns ``area``, ``n_residents``, ``mean_trust``.
    """
    t = np.asarray(trust, dtype=np.float64)
    a = np.asarray(area, dtype=np.int64)
    if t.shape != a.shape or t.ndim != 1:
        raise ValueError("mean_trust_by_area: trust and area must be 1-d arrays of equal length")
    if a.size and a.min() < 0:
        raise ValueError("mean_trust_by_area: area ids must be >= 0")
    size = int(n_areas) if n_areas is not None else (int(a.max()) + 1 if a.size else 0)
    n = np.bincount(a, minlength=size)
    s = np.bincount(a, weights=t, minlength=size)
    mean = np.divide(s, n, out=np.full(size, np.nan), where=n > 0)
    return pd.DataFrame({"area": np.arange(size), "n_residents": n.astype(np.int64), "mean_trust": mean})
