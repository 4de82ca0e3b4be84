"""Event-table conventions shared by every measure: column checks, crime selection, time labels, counts.

Crime rows are the rows whose ``kind`` is ``"crime"`` when a ``kind`` column exists, otherwise every
row, so a real force's incident extract works unchanged once its columns are renamed. True counts
against recorded counts show what the police cannot see (Lum & Isaac 2016); hour of day is the
strongest single predictor of when crime happens (Felson & Poulsen 2003); darkness multiplies street
robbery (Tompson & Bowers 2013).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

_DERIVED_KEYS = ("hour", "day", "period", "area")


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], *, where: str) -> None:
    """Raise ValueError naming the missing columns and the expected layout."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{where}: the table is missing column(s) {missing}; expected columns {list(columns)} "
            f"(the event table of docs/architecture.md); got {list(frame.columns)}"
        )


def _as_counts(counts: ArrayLike, *, where: str) -> NDArray[np.float64]:
    """Return ``counts`` as a float array after checking it is 1-d, non-empty, finite and >= 0."""
    arr = np.asarray(counts, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{where}: counts must be a non-empty 1-d array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{where}: counts must be finite and non-negative")
    return arr


def _as_rng(rng: np.random.Generator | int) -> np.random.Generator:
    """Return ``rng`` itself, or a new Generator when given a seed."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _band_index(values: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """Return the band ``i`` with ``edges[i] <= value < edges[i + 1]`` of each value, -1 outside all bands."""
    idx = np.searchsorted(edges, values, side="right") - 1
    idx[(idx < 0) | (idx >= edges.size - 1)] = -1
    return idx.astype(np.int64)


def select_crimes(
    events: pd.DataFrame, *, recorded_only: bool = False, reported_only: bool = False
) -> pd.DataFrame:
    """Return the crime rows of an event table.

    Parameters
    ----------
    events
        Event table; rows with ``kind == "crime"`` are crimes, or every row when there is no ``kind``.
    recorded_only
        Keep only crimes the police recorded (column ``recorded``), i.e. what the police side sees.
    reported_only
        Keep only crimes a victim or witness reported (column ``reported``).

    Returns
    -------
    pandas.DataFrame
        The selected rows, original index kept.
    """
    crimes = events[events["kind"] == "crime"] if "kind" in events.columns else events
    if recorded_only:
        _require_columns(crimes, ["recorded"], where="select_crimes(recorded_only=True)")
        crimes = crimes[crimes["recorded"].astype(bool)]
    if reported_only:
        _require_columns(crimes, ["reported"], where="select_crimes(reported_only=True)")
        crimes = crimes[crimes["reported"].astype(bool)]
    return crimes


def label_hours(time_min: ArrayLike, *, start_hour: float = 0.0) -> NDArray[np.int64]:
    """Return the hour of day (0-23) of each time.

    Parameters
    ----------
    time_min
        Minutes since the start of the record (``time_min`` of the event table).
    start_hour
        Clock hour at minute 0; 0 when the record starts at midnight.
    """
    hours = (np.asarray(time_min, dtype=np.float64) / 60.0 + start_hour) % 24.0
    return np.floor(hours).astype(np.int64)


def label_night(
    time_min: ArrayLike, *, night_hours: tuple[float, float] = (20.0, 6.0), start_hour: float = 0.0
) -> NDArray[np.bool_]:
    """Return True for times that fall at night.

    Parameters
    ----------
    time_min
        Minutes since the start of the record.
    night_hours
        ``(start, end)`` clock hours of the night; wraps past midnight when start > end. Darkness
        multiplies street robbery (Tompson & Bowers 2013), so the split matters for lighting.
    start_hour
        Clock hour at minute 0.
    """
    hours = (np.asarray(time_min, dtype=np.float64) / 60.0 + start_hour) % 24.0
    start, end = night_hours
    if start > end:
        return np.asarray((hours >= start) | (hours < end))
    return np.asarray((hours >= start) & (hours < end))


def _add_derived_keys(
    crimes: pd.DataFrame,
    keys: Sequence[str],
    *,
    area_of_segment: ArrayLike | None,
    is_night: ArrayLike | str | None,
    night_hours: tuple[float, float],
    start_hour: float,
    where: str,
) -> pd.DataFrame:
    """Return a copy of ``crimes`` with the derived keys among ``keys`` (hour, day, period, area) added."""
    frame = crimes.copy()
    if "hour" in keys and "hour" not in crimes.columns:
        _require_columns(crimes, ["time_min"], where=where)
        frame["hour"] = label_hours(crimes["time_min"].to_numpy(), start_hour=start_hour)
    if "day" in keys and "day" not in crimes.columns:
        _require_columns(crimes, ["time_min"], where=where)
        frame["day"] = np.floor(crimes["time_min"].to_numpy(dtype=np.float64) / 1440.0).astype(np.int64)
    if "period" in keys:
        if isinstance(is_night, str):
            _require_columns(crimes, [is_night], where=where)
            night = crimes[is_night].to_numpy(dtype=bool)
        elif is_night is not None:
            night = np.asarray(is_night, dtype=bool)
            if night.shape != (len(crimes),):
                raise ValueError(f"{where}: is_night must have one entry per crime row ({len(crimes)})")
        else:
            _require_columns(crimes, ["time_min"], where=where)
            night = label_night(crimes["time_min"].to_numpy(), night_hours=night_hours, start_hour=start_hour)
        frame["period"] = np.where(night, "night", "day")
    if "area" in keys and "area" not in crimes.columns:
        if area_of_segment is None:
            raise ValueError(f"{where}: grouping by 'area' needs area_of_segment (an area id per segment)")
        _require_columns(crimes, ["segment"], where=where)
        frame["area"] = np.asarray(area_of_segment)[crimes["segment"].to_numpy(dtype=np.int64)]
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ValueError(
            f"{where}: cannot group by {missing}; use event-table columns or derived keys {list(_DERIVED_KEYS)}"
        )
    return frame


def count_crimes(
    events: pd.DataFrame,
    *,
    by: Sequence[str] = ("crime_type",),
    recorded_only: bool = False,
    reported_only: bool = False,
    area_of_segment: ArrayLike | None = None,
    is_night: ArrayLike | str | None = None,
    night_hours: tuple[float, float] = (20.0, 6.0),
    start_hour: float = 0.0,
) -> pd.DataFrame:
    """Count crimes by any mix of event-table columns and derived keys.

    True counts (all crimes) against recorded counts (``recorded_only=True``) show what the police
    cannot see (Lum & Isaac 2016). Hour of day is the strongest single predictor of when crime
    happens (Felson & Poulsen 2003).

    Parameters
    ----------
    events
        Event table.
    by
        Grouping keys: any column (``crime_type``, ``segment``, ...) or the derived keys ``"hour"``
        (0-23, from ``time_min``), ``"day"`` (day index), ``"period"`` (``"day"``/``"night"``) and
        ``"area"`` (from ``area_of_segment``). Empty: one row with the total.
    recorded_only, reported_only
        Restrict to recorded or reported crimes.
    area_of_segment
        Area id of every segment (index = segment id), for ``"area"``.
    is_night
        For ``"period"``: a boolean per crime row (after the recorded/reported filter) or the name of
        a boolean column; when None the ``night_hours`` rule is applied to ``time_min``.
    night_hours
        ``(start, end)`` clock hours of the night, used when ``is_night`` is None.
    start_hour
        Clock hour at ``time_min == 0``.

    Returns
    -------
    pandas.DataFrame
        Columns ``[*by, "count"]``. Every hour 0-23, both periods and every area id appear, with
        zero counts, crossed with the observed values of the other keys.
    """
    where = "count_crimes"
    crimes = select_crimes(events, recorded_only=recorded_only, reported_only=reported_only)
    keys = list(by)
    if not keys:
        return pd.DataFrame({"count": [len(crimes)]}, dtype=np.int64)
    frame = _add_derived_keys(
        crimes,
        keys,
        area_of_segment=area_of_segment,
        is_night=is_night,
        night_hours=night_hours,
        start_hour=start_hour,
        where=where,
    )
    counts = frame.groupby(keys, sort=True).size()
    levels: list[list[object]] = []
    for key in keys:
        if key == "hour":
            levels.append(list(range(24)))
        elif key == "period":
            levels.append(["day", "night"])
        elif key == "area" and area_of_segment is not None:
            levels.append(sorted(set(np.asarray(area_of_segment).tolist())))
        else:
            levels.append(sorted(frame[key].unique().tolist()))
    full = (
        pd.Index(levels[0], name=keys[0])
        if len(keys) == 1
        else pd.MultiIndex.from_product(levels, names=keys)
    )
    out = counts.reindex(full, fill_value=0).rename("count").reset_index()
    out["count"] = out["count"].astype(np.int64)
    return out


def count_crimes_per_segment(
    events: pd.DataFrame, n_segments: int, *, recorded_only: bool = False, reported_only: bool = False
) -> NDArray[np.int64]:
    """Return the number of crimes on every segment, zero-count segments included.

    Parameters
    ----------
    events
        Event table with a ``segment`` column.
    n_segments
        Number of segments in the network; concentration must count the segments without crime too.
    recorded_only, reported_only
        Restrict to recorded or reported crimes.
    """
    crimes = select_crimes(events, recorded_only=recorded_only, reported_only=reported_only)
    _require_columns(crimes, ["segment"], where="count_crimes_per_segment")
    seg = crimes["segment"].to_numpy(dtype=np.int64)
    if seg.size and (seg.min() < 0 or seg.max() >= n_segments):
        raise ValueError(f"count_crimes_per_segment: segment ids must lie in 0..{n_segments - 1}")
    return np.bincount(seg, minlength=n_segments).astype(np.int64)
