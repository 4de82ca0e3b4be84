"""Crime and policing measures computed from an event table, simulated or recorded by a real police force.

Every function here is pure: it takes a pandas DataFrame laid out as the event table of
``docs/architecture.md`` (or plain arrays) plus explicit keyword arguments, and returns a number,
an array or a tidy DataFrame. Crime rows are the rows whose ``kind`` is ``"crime"`` when a ``kind``
column exists, otherwise every row, so a real force's incident extract works unchanged once its
columns are renamed. Each measure names the study that defines it; ``docs/metrics.md`` has one
paragraph per measure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.spatial import cKDTree

__all__ = [
    "OFFICER_ACTIVITIES",
    "DistanceDecay",
    "compute_response_times",
    "concentration_curve",
    "count_crimes",
    "count_crimes_per_segment",
    "fit_distance_decay",
    "generalized_gini",
    "gini",
    "journey_to_crime",
    "knox_table",
    "label_hours",
    "label_night",
    "marginal_concentration",
    "mean_trust_by_area",
    "officer_time_budget",
    "pai",
    "pai_for_segments",
    "pai_from_counts",
    "random_allocation_concentration",
    "reporting_rate",
    "response_time_summary",
    "segments_holding_share",
    "select_crimes",
    "share_on_top_segments",
    "summarize_concentration",
]

OFFICER_ACTIVITIES: tuple[str, ...] = ("patrol", "dwell", "respond", "meeting", "return")
"""Officer states in the order reports show them (sim issue 4: patrol / dwell / respond / meeting / return)."""

_DERIVED_KEYS = ("hour", "day", "period", "area")


# --------------------------------------------------------------------------------------------- input checks
def _require_columns(frame: pd.DataFrame, columns: Sequence[str], *, where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{where}: the table is missing column(s) {missing}; expected columns {list(columns)} "
            f"(the event table of docs/architecture.md); got {list(frame.columns)}"
        )


def _as_counts(counts: ArrayLike, *, where: str) -> NDArray[np.float64]:
    arr = np.asarray(counts, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{where}: counts must be a non-empty 1-d array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{where}: counts must be finite and non-negative")
    return arr


def _as_rng(rng: np.random.Generator | int) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


# --------------------------------------------------------------------------------------------- counts
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


# --------------------------------------------------------------------------------------------- concentration
def concentration_curve(counts: ArrayLike) -> pd.DataFrame:
    """Return the crime concentration curve: cumulative share of crime on the most criminal segments.

    Segments are sorted from most to least crime (Weisburd 2015). The first row is the origin.

    Parameters
    ----------
    counts
        Crimes per segment, every segment of the study area included (zeros too).

    Returns
    -------
    pandas.DataFrame
        Columns ``segment_share`` (fraction of all segments, 0..1) and ``crime_share`` (0..1;
        NaN when there is no crime).
    """
    arr = _as_counts(counts, where="concentration_curve")
    ordered = np.sort(arr)[::-1]
    total = ordered.sum()
    cum = np.concatenate([[0.0], np.cumsum(ordered)])
    crime_share = cum / total if total > 0 else np.full(cum.shape, np.nan)
    return pd.DataFrame({"segment_share": np.arange(arr.size + 1) / arr.size, "crime_share": crime_share})


def share_on_top_segments(counts: ArrayLike, fractions: Sequence[float] = (0.01, 0.05)) -> pd.Series:
    """Return the share of crime on the top fraction of segments (Weisburd 2015).

    Fractions that do not fall on a whole number of segments are interpolated linearly along the
    concentration curve, so the measure is continuous in the fraction.

    Parameters
    ----------
    counts
        Crimes per segment, zero-count segments included.
    fractions
        Fractions of all segments, each in [0, 1].

    Returns
    -------
    pandas.Series
        Share of crime (0..1) indexed by fraction; NaN when there is no crime.
    """
    curve = concentration_curve(counts)
    fr = np.asarray(fractions, dtype=np.float64)
    if np.any((fr < 0) | (fr > 1)):
        raise ValueError("share_on_top_segments: fractions must lie in [0, 1]")
    shares = np.interp(fr, curve["segment_share"].to_numpy(), curve["crime_share"].to_numpy())
    return pd.Series(shares, index=pd.Index(fr, name="segment_fraction"), name="crime_share")


def segments_holding_share(counts: ArrayLike, share: float = 0.5) -> float:
    """Return the fraction of all segments (zero-count ones included) that hold ``share`` of crime.

    The law of crime concentration reports this for 50%: 2.1-6.0% of segments in eight cities
    (Weisburd 2015). The smallest whole number of segments is used.

    Parameters
    ----------
    counts
        Crimes per segment, zero-count segments included.
    share
        Share of crime to hold, in (0, 1].

    Returns
    -------
    float
        Fraction of segments (0..1); NaN when there is no crime.
    """
    if not 0 < share <= 1:
        raise ValueError(f"segments_holding_share: share must lie in (0, 1], got {share}")
    arr = _as_counts(counts, where="segments_holding_share")
    total = arr.sum()
    if total <= 0:
        return float("nan")
    cum = np.cumsum(np.sort(arr)[::-1])
    k = int(np.searchsorted(cum, share * total * (1 - 1e-12), side="left")) + 1
    return min(k, arr.size) / arr.size


def gini(counts: ArrayLike) -> float:
    """Return the Gini coefficient of crime over segments.

    Standard (uncorrected) Gini, 1 minus twice the area under the Lorenz curve; its maximum with
    ``n`` units is ``(n - 1) / n``. Recommended by Bernasco & Steenbeek (2017) to summarise crime
    concentration at places.

    Parameters
    ----------
    counts
        Crimes per unit, zero-count units included.

    Returns
    -------
    float
        Gini in [0, 1); NaN when there is no crime.
    """
    arr = np.sort(_as_counts(counts, where="gini"))
    n = arr.size
    total = arr.sum()
    if total <= 0:
        return float("nan")
    rank = np.arange(1, n + 1, dtype=np.float64)
    return float(np.sum((2 * rank - n - 1) * arr) / (n * total))


def generalized_gini(counts: ArrayLike) -> float:
    """Return the generalized Gini for sparse data (Bernasco & Steenbeek 2017).

    With fewer crimes ``N`` than units ``n`` even a maximally even spread leaves ``n - N`` units
    empty, so the standard Gini reads as concentrated. The generalized Gini compares against that
    maximal equality: ``G' = max(1, n / N) * (G - 1) + 1``; equal to the Gini when ``N >= n``.

    Parameters
    ----------
    counts
        Crimes per unit, zero-count units included.

    Returns
    -------
    float
        Generalized Gini; NaN when there is no crime.
    """
    arr = _as_counts(counts, where="generalized_gini")
    total = arr.sum()
    if total <= 0:
        return float("nan")
    return float(max(1.0, arr.size / total) * (gini(arr) - 1.0) + 1.0)


def _share_key(fraction: float) -> str:
    return f"share_on_top_{fraction:g}"


def _holding_key(share: float) -> str:
    return f"segments_holding_{share:g}"


def summarize_concentration(
    counts: ArrayLike, *, fractions: Sequence[float] = (0.01, 0.05), share: float = 0.5
) -> dict[str, float]:
    """Return every concentration measure of one count vector.

    Parameters
    ----------
    counts
        Crimes per segment, zero-count segments included.
    fractions
        Segment fractions for :func:`share_on_top_segments`.
    share
        Crime share for :func:`segments_holding_share`.

    Returns
    -------
    dict
        Keys ``gini``, ``generalized_gini``, ``share_on_top_<f>`` per fraction and
        ``segments_holding_<share>``.
    """
    arr = _as_counts(counts, where="summarize_concentration")
    out = {"gini": gini(arr), "generalized_gini": generalized_gini(arr)}
    top = share_on_top_segments(arr, fractions)
    for f, v in zip(top.index.to_numpy(), top.to_numpy(), strict=True):
        out[_share_key(float(f))] = float(v)
    out[_holding_key(share)] = segments_holding_share(arr, share)
    return out


def random_allocation_concentration(
    n_events: int,
    segment_length_m: ArrayLike,
    rng: np.random.Generator | int,
    n_draws: int = 200,
    *,
    fractions: Sequence[float] = (0.01, 0.05),
    share: float = 0.5,
) -> pd.DataFrame:
    """Return the concentration that chance alone produces for the same number of events.

    Each draw places ``n_events`` on segments independently with probability proportional to
    segment length (a spatially uniform process along the streets). With fewer events than
    segments this alone looks concentrated (300 random crimes on 3,400 segments put 50% of crime
    on about 4% of segments), hence the chance baseline of Chalfin, Kaplan & Cuellar (2021).

    Parameters
    ----------
    n_events
        Number of events to allocate (the observed count).
    segment_length_m
        Length of every segment in metres; pass ones for equal probability.
    rng
        Generator or seed.
    n_draws
        Number of random allocations.
    fractions, share
        As in :func:`summarize_concentration`.

    Returns
    -------
    pandas.DataFrame
        One row per draw, one column per measure of :func:`summarize_concentration`.
    """
    length = np.asarray(segment_length_m, dtype=np.float64)
    if length.ndim != 1 or length.size == 0 or np.any(length < 0) or not np.all(np.isfinite(length)):
        raise ValueError("random_allocation_concentration: segment_length_m must be finite, >= 0, 1-d")
    if length.sum() <= 0:
        raise ValueError("random_allocation_concentration: total segment length must be positive")
    if n_events < 0 or n_draws < 1:
        raise ValueError("random_allocation_concentration: need n_events >= 0 and n_draws >= 1")
    gen = _as_rng(rng)
    p = length / length.sum()
    rows = [
        summarize_concentration(gen.multinomial(n_events, p), fractions=fractions, share=share)
        for _ in range(n_draws)
    ]
    return pd.DataFrame(rows)


def marginal_concentration(
    counts: ArrayLike,
    segment_length_m: ArrayLike,
    rng: np.random.Generator | int,
    *,
    n_draws: int = 200,
    fractions: Sequence[float] = (0.01, 0.05),
    share: float = 0.5,
) -> pd.DataFrame:
    """Return observed concentration minus the concentration of random allocation.

    Marginal concentration (Chalfin, Kaplan & Cuellar 2021) is the part of crime concentration
    that chance does not explain: the observed measure minus its mean over random allocations of
    the same number of crimes (see :func:`random_allocation_concentration`). A model that
    scatters crime at random scores about zero.

    Parameters
    ----------
    counts
        Crimes per segment, zero-count segments included.
    segment_length_m
        Length of every segment (same order as ``counts``).
    rng
        Generator or seed.
    n_draws
        Number of random allocations.
    fractions, share
        As in :func:`summarize_concentration`.

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``observed``, ``chance_mean``, ``chance_low`` / ``chance_high``
        (2.5% and 97.5% of the draws), ``marginal`` (observed minus chance mean; for
        ``segments_holding_*`` chance minus observed, so positive always means more concentrated
        than chance) and ``p_value`` (one-sided Monte-Carlo, share of draws at least as
        concentrated as observed, ``(1 + k) / (n_draws + 1)``).
    """
    arr = _as_counts(counts, where="marginal_concentration")
    if np.asarray(segment_length_m).shape != arr.shape:
        raise ValueError("marginal_concentration: segment_length_m must have one entry per segment")
    observed = summarize_concentration(arr, fractions=fractions, share=share)
    chance = random_allocation_concentration(
        round(arr.sum()), segment_length_m, rng, n_draws, fractions=fractions, share=share
    )
    rows = []
    for name, obs in observed.items():
        draws = chance[name].to_numpy()
        lower_is_more = name.startswith("segments_holding_")
        as_extreme = np.sum(draws <= obs) if lower_is_more else np.sum(draws >= obs)
        mean = float(np.mean(draws))
        rows.append(
            {
                "measure": name,
                "observed": obs,
                "chance_mean": mean,
                "chance_low": float(np.quantile(draws, 0.025)),
                "chance_high": float(np.quantile(draws, 0.975)),
                "marginal": (mean - obs) if lower_is_more else (obs - mean),
                "p_value": (1.0 + as_extreme) / (n_draws + 1.0),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------- near repeats
def _band_index(values: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    idx = np.searchsorted(edges, values, side="right") - 1
    idx[(idx < 0) | (idx >= edges.size - 1)] = -1
    return idx.astype(np.int64)


def _check_edges(edges: Sequence[float], name: str) -> NDArray[np.float64]:
    arr = np.asarray(edges, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2 or np.any(np.diff(arr) <= 0) or arr[0] < 0:
        raise ValueError(f"knox_table: {name} must be >= 2 increasing non-negative band edges, got {edges}")
    return arr


def knox_table(
    x: ArrayLike,
    y: ArrayLike,
    t_days: ArrayLike,
    *,
    distance_bands_m: Sequence[float] = (0, 100, 200, 300, 400),
    time_bands_days: Sequence[float] = (0, 7, 14, 21, 28),
    n_permutations: int = 99,
    rng: np.random.Generator | int = 0,
    network_distance: Callable[[NDArray[np.int64], NDArray[np.int64]], ArrayLike] | None = None,
) -> pd.DataFrame:
    """Return the Knox near-repeat table: event pairs close in space and time against chance.

    For every pair of events the distance band and the time band are found; the observed count per
    band is compared with the mean count when event times are shuffled among events (which keeps
    the spatial and temporal patterns but breaks their link), as in Johnson et al. (2007).
    Candidate pairs come from ``cKDTree.query_pairs`` within the largest distance edge, so the cost
    grows with the number of close pairs, not with the square of the event count.

    Parameters
    ----------
    x, y
        Projected coordinates in metres.
    t_days
        Event times in days.
    distance_bands_m
        Distance band edges in metres; band ``i`` is ``[edge_i, edge_{i+1})``.
    time_bands_days
        Time band edges in days, same convention.
    n_permutations
        Number of time permutations for the expectation and the Monte-Carlo p-value.
    rng
        Generator or seed.
    network_distance
        Optional ``f(i, j) -> metres`` for arrays of event index pairs (e.g. shortest-path length
        along the streets). Pairs are still prefiltered by straight-line distance, which is never
        longer than the network distance, so no pair within the largest band is missed.

    Returns
    -------
    pandas.DataFrame
        One row per (distance band, time band): ``distance_min_m``, ``distance_max_m``,
        ``time_min_days``, ``time_max_days``, ``observed``, ``expected``, ``knox_ratio``
        (observed / expected; NaN when expected is 0) and ``p_value``
        (``(1 + #permutations with count >= observed) / (n_permutations + 1)``).
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    ta = np.asarray(t_days, dtype=np.float64)
    if not (xa.shape == ya.shape == ta.shape) or xa.ndim != 1:
        raise ValueError("knox_table: x, y and t_days must be 1-d arrays of equal length")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya)) and np.all(np.isfinite(ta))):
        raise ValueError("knox_table: x, y and t_days must be finite")
    if n_permutations < 1:
        raise ValueError("knox_table: n_permutations must be >= 1")
    d_edges = _check_edges(distance_bands_m, "distance_bands_m")
    t_edges = _check_edges(time_bands_days, "time_bands_days")
    n_d, n_t = d_edges.size - 1, t_edges.size - 1
    gen = _as_rng(rng)

    pairs = cKDTree(np.column_stack([xa, ya])).query_pairs(r=float(d_edges[-1]), output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    if network_distance is None:
        dist = np.hypot(xa[i] - xa[j], ya[i] - ya[j])
    else:
        dist = np.asarray(network_distance(i, j), dtype=np.float64)
        if dist.shape != i.shape:
            raise ValueError("knox_table: network_distance must return one distance per pair")
    d_band = _band_index(dist, d_edges)
    keep = d_band >= 0
    i, j, d_band = i[keep], j[keep], d_band[keep]

    # Each pair gets a code d_band * (n_t + 2) + slot, where slot counts the time edges the pair's gap
    # reaches (0: before the first band, n_t + 1: past the last). A few vectorised comparisons on a
    # small integer array are much cheaper than searchsorted over millions of pairs per permutation.
    width = n_t + 2
    code_dtype = np.int16 if n_d * width < np.iinfo(np.int16).max else np.int64
    base: NDArray[np.integer] = (d_band * width).astype(code_dtype)
    first_edge_zero = t_edges[0] == 0
    if first_edge_zero:
        base = base + 1
    check_edges = t_edges[1:] if first_edge_zero else t_edges

    def count(times: NDArray[np.float64]) -> NDArray[np.int64]:
        gap = np.abs(times[i] - times[j])
        code = base.copy()
        for edge in check_edges:
            np.add(code, gap >= edge, out=code)
        table = np.bincount(code, minlength=n_d * width).reshape(n_d, width)
        return table[:, 1 : n_t + 1].ravel()

    observed = count(ta)
    perm = np.empty((n_permutations, n_d * n_t), dtype=np.int64)
    for k in range(n_permutations):
        perm[k] = count(gen.permutation(ta))
    expected = perm.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / np.where(expected > 0, expected, 1.0), np.nan)
    p_value = (1.0 + np.sum(perm >= observed, axis=0)) / (n_permutations + 1.0)
    di, ti = np.divmod(np.arange(n_d * n_t), n_t)
    return pd.DataFrame(
        {
            "distance_min_m": d_edges[di],
            "distance_max_m": d_edges[di + 1],
            "time_min_days": t_edges[ti],
            "time_max_days": t_edges[ti + 1],
            "observed": observed,
            "expected": expected,
            "knox_ratio": ratio,
            "p_value": p_value,
        }
    )


# --------------------------------------------------------------------------------------------- journey to crime
def _finite(values: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]


def journey_to_crime(distances_m: ArrayLike, bins_m: Sequence[float]) -> pd.DataFrame:
    """Return the journey-to-crime distribution: how far offenders travel from home to offend.

    Trips are short and their frequency decays with distance (Wiles & Costello 2000: mean about
    3.1 km in Sheffield; Bernasco & Nieuwbeerta 2005).

    Parameters
    ----------
    distances_m
        Home-to-crime distance per crime (``offender_home_dist_m``); NaN (unknown) is dropped.
    bins_m
        Increasing distance bin edges in metres; bin ``i`` is ``[edge_i, edge_{i+1})``.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin_min_m``, ``bin_max_m``, ``count``, ``share`` (of all finite
        distances, so shares sum to less than 1 when trips exceed the last edge),
        ``cumulative_share`` and ``density_per_km`` (share per km of bin width).
    """
    edges = np.asarray(bins_m, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"journey_to_crime: bins_m must be >= 2 increasing edges, got {bins_m}")
    dist = _finite(distances_m)
    counts = np.bincount(_band_index(dist, edges) + 1, minlength=edges.size)[1:]
    total = dist.size
    share = counts / total if total else np.full(counts.shape, np.nan)
    return pd.DataFrame(
        {
            "bin_min_m": edges[:-1],
            "bin_max_m": edges[1:],
            "count": counts.astype(np.int64),
            "share": share,
            "cumulative_share": np.cumsum(share),
            "density_per_km": share / (np.diff(edges) / 1000.0),
        }
    )


@dataclass(frozen=True)
class DistanceDecay:
    """Summary of a journey-to-crime distribution and its decay with distance."""

    n: int
    mean_m: float
    median_m: float
    rate_per_km: float
    """Exponential decay rate of trip density (weighted log-linear fit over non-empty bins)."""
    spearman_rho: float
    """Rank correlation of density with distance; negative when trips get rarer with distance."""
    p_value: float
    decreasing: bool
    """True when rho < 0 and its p-value < alpha."""


def fit_distance_decay(
    distances_m: ArrayLike, bins_m: Sequence[float], *, alpha: float = 0.05
) -> DistanceDecay:
    """Fit the decay of trip frequency with distance (Bernasco & Nieuwbeerta 2005).

    Parameters
    ----------
    distances_m
        Home-to-crime distance per crime; NaN is dropped.
    bins_m
        Bin edges as in :func:`journey_to_crime`.
    alpha
        Significance level for ``decreasing``.
    """
    dist = _finite(distances_m)
    table = journey_to_crime(dist, bins_m)
    mid_km = ((table["bin_min_m"] + table["bin_max_m"]) / 2000.0).to_numpy()
    density = table["density_per_km"].to_numpy()
    counts = table["count"].to_numpy()
    rate = rho = p = float("nan")
    nonzero = counts > 0
    if np.count_nonzero(nonzero) >= 2:
        slope = np.polyfit(mid_km[nonzero], np.log(density[nonzero]), 1, w=np.sqrt(counts[nonzero]))[0]
        rate = float(-slope)
    if density.size >= 3 and np.all(np.isfinite(density)) and np.ptp(density) > 0:
        res = stats.spearmanr(mid_km, density)
        rho, p = float(res.statistic), float(res.pvalue)
    return DistanceDecay(
        n=int(dist.size),
        mean_m=float(dist.mean()) if dist.size else float("nan"),
        median_m=float(np.median(dist)) if dist.size else float("nan"),
        rate_per_km=rate,
        spearman_rho=rho,
        p_value=p,
        decreasing=bool(rho < 0 and p < alpha),
    )


# --------------------------------------------------------------------------------------------- response
def compute_response_times(events: pd.DataFrame) -> pd.DataFrame:
    """Return one row per call with its crime, first dispatch and first arrival times.

    Calls are the ``call_id >= 0`` values on crime rows (reported crimes that became calls, queued or
    not) and on dispatch rows. Response time runs from the crime (so it includes the reporting
    delay, the queue and the travel, as in the model issue); travel runs from dispatch to arrival.
    Longer response lowers clearance (Blanes i Vidal & Kirchmaier 2018).

    Parameters
    ----------
    events
        Event table with ``kind``, ``time_min`` and ``call_id``.

    Returns
    -------
    pandas.DataFrame
        Columns ``call_id``, ``crime_time_min``, ``dispatch_time_min``, ``arrival_time_min``,
        ``response_min``, ``travel_min``, ``answered`` and ``crime_type`` when present. Times
        that do not exist are NaN.
    """
    _require_columns(events, ["kind", "time_min", "call_id"], where="compute_response_times")
    calls = events[events["call_id"].to_numpy() >= 0]
    kinds = calls["kind"]

    def first_time(kind: str) -> pd.Series:
        return calls[kinds == kind].groupby("call_id")["time_min"].min()

    crime_t, dispatch_t, arrival_t = first_time("crime"), first_time("dispatch"), first_time("arrival")
    ids = np.union1d(crime_t.index.to_numpy(), dispatch_t.index.to_numpy()).astype(np.int64)
    out = pd.DataFrame({"call_id": ids})
    out["crime_time_min"] = crime_t.reindex(ids).to_numpy(dtype=np.float64)
    out["dispatch_time_min"] = dispatch_t.reindex(ids).to_numpy(dtype=np.float64)
    out["arrival_time_min"] = arrival_t.reindex(ids).to_numpy(dtype=np.float64)
    out["response_min"] = out["arrival_time_min"] - out["crime_time_min"]
    out["travel_min"] = out["arrival_time_min"] - out["dispatch_time_min"]
    out["answered"] = out["arrival_time_min"].notna()
    if "crime_type" in calls.columns:
        types = calls[kinds == "crime"].groupby("call_id")["crime_type"].first()
        out["crime_type"] = types.reindex(ids).to_numpy()
    return out


def response_time_summary(events: pd.DataFrame, *, by: Sequence[str] = ()) -> pd.DataFrame:
    """Summarise response times: mean, median and 90th percentile, with answered and unanswered calls.

    Parameters
    ----------
    events
        Event table (see :func:`compute_response_times`).
    by
        Columns of :func:`compute_response_times` to group by, e.g. ``("crime_type",)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``[*by, n_calls, n_answered, n_unanswered, mean_min, median_min, p90_min,
        mean_travel_min]``; minutes, over answered calls whose crime time is known.
    """
    calls = compute_response_times(events)

    def summarize(group: pd.DataFrame) -> dict[str, float]:
        resp = group["response_min"].dropna().to_numpy()
        travel = group["travel_min"].dropna().to_numpy()
        return {
            "n_calls": len(group),
            "n_answered": int(group["answered"].sum()),
            "n_unanswered": int((~group["answered"]).sum()),
            "mean_min": float(resp.mean()) if resp.size else np.nan,
            "median_min": float(np.median(resp)) if resp.size else np.nan,
            "p90_min": float(np.quantile(resp, 0.9)) if resp.size else np.nan,
            "mean_travel_min": float(travel.mean()) if travel.size else np.nan,
        }

    keys = list(by)
    if not keys:
        return pd.DataFrame([summarize(calls)])
    _require_columns(calls, keys, where="response_time_summary")
    rows = [
        {**dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True)), **summarize(g)}
        for key, g in calls.groupby(keys, sort=True)
    ]
    return pd.DataFrame(rows)


def officer_time_budget(
    records: pd.DataFrame,
    *,
    step_min: float | None = None,
    activities: Sequence[str] = OFFICER_ACTIVITIES,
    column_prefix: str = "",
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Return officer-hours by activity: where the shared officer-hours budget went.

    Two input layouts are accepted:

    * long: columns ``state`` and ``minutes`` (e.g. one row per officer and spell), plus any ``by``
      columns such as ``officer_id``;
    * wide (a per-step time series): one column per activity, ``column_prefix + activity``,
      holding the number of officers in that state at each step; ``step_min`` is required.

    Parameters
    ----------
    records
        Long or wide table as above.
    step_min
        Step length in minutes for the wide layout.
    activities
        Activities to report, in order; in the long layout, other states are appended after them.
    column_prefix
        Prefix of the wide-layout columns (e.g. ``"officers_"``).
    by
        Grouping columns (long layout only).

    Returns
    -------
    pandas.DataFrame
        Columns ``[*by, activity, hours, share]``; every listed activity appears (0 hours when
        unused); ``share`` is of the group's total hours.
    """
    where = "officer_time_budget"
    keys = list(by)
    if "state" in records.columns or "minutes" in records.columns:
        _require_columns(records, ["state", "minutes", *keys], where=where)
        extra = sorted(set(records["state"].astype(str)) - set(activities))
        order = [*activities, *extra]
        hours = records.groupby([*keys, "state"], sort=False)["minutes"].sum() / 60.0
        full: pd.Index
        if keys:
            groups = records[keys].drop_duplicates().sort_values(keys)
            full = pd.MultiIndex.from_tuples(
                [(*g, a) for g in groups.itertuples(index=False) for a in order], names=[*keys, "state"]
            )
        else:
            full = pd.Index(order, name="state")
        out = hours.reindex(full, fill_value=0.0).rename("hours").reset_index()
        out = out.rename(columns={"state": "activity"})
    else:
        if keys:
            raise ValueError(f"{where}: `by` needs the long layout (columns state, minutes)")
        if step_min is None or step_min <= 0:
            raise ValueError(f"{where}: the wide layout needs a positive step_min")
        cols = [column_prefix + a for a in activities]
        _require_columns(records, cols, where=where)
        sums = records[cols].to_numpy(dtype=np.float64).sum(axis=0)
        out = pd.DataFrame({"activity": list(activities), "hours": sums * step_min / 60.0})
    total = out.groupby(keys)["hours"].transform("sum") if keys else out["hours"].sum()
    out["share"] = out["hours"] / total
    return out


# --------------------------------------------------------------------------------------------- trust
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


# --------------------------------------------------------------------------------------------- hotspot maps
def pai(captured_share: ArrayLike, area_share: ArrayLike) -> float | NDArray[np.float64]:
    """Return the Predictive Accuracy Index (Chainey, Tompson & Uhlig 2008).

    PAI = (share of crimes inside the flagged hot spots) / (share of the study area they cover);
    1 is no better than chance. On a street network, area is best measured as street length.

    Parameters
    ----------
    captured_share
        Share of crimes captured, 0..1.
    area_share
        Share of the area flagged, 0..1. A zero share gives NaN.
    """
    c = np.asarray(captured_share, dtype=np.float64)
    a = np.asarray(area_share, dtype=np.float64)
    out = np.divide(c, a, out=np.full(np.broadcast(c, a).shape, np.nan), where=a > 0)
    return float(out) if out.ndim == 0 else out


def pai_from_counts(
    n_captured: ArrayLike, n_total: ArrayLike, area_flagged: ArrayLike, area_total: ArrayLike
) -> float | NDArray[np.float64]:
    """Return the PAI from crime counts and areas (or street lengths).

    Parameters
    ----------
    n_captured
        Crimes inside the flagged area.
    n_total
        All crimes.
    area_flagged
        Size of the flagged area (same unit as ``area_total``).
    area_total
        Size of the study area. Zero totals give NaN.
    """
    nt = np.asarray(n_total, dtype=np.float64)
    at = np.asarray(area_total, dtype=np.float64)
    cap = np.divide(n_captured, nt, out=np.full(np.broadcast(n_captured, nt).shape, np.nan), where=nt > 0)
    area = np.divide(
        area_flagged, at, out=np.full(np.broadcast(area_flagged, at).shape, np.nan), where=at > 0
    )
    return pai(cap, area)


def pai_for_segments(
    counts: ArrayLike, flagged: ArrayLike, *, segment_length_m: ArrayLike | None = None
) -> float:
    """Return the PAI of a set of flagged segments, area measured as street length (Rosser et al. 2017).

    Parameters
    ----------
    counts
        Crimes per segment (e.g. the period after the map was made).
    flagged
        Boolean mask of flagged segments.
    segment_length_m
        Length per segment; when None every segment counts equally.
    """
    c = _as_counts(counts, where="pai_for_segments")
    mask = np.asarray(flagged, dtype=bool)
    length = np.ones_like(c) if segment_length_m is None else np.asarray(segment_length_m, dtype=np.float64)
    if mask.shape != c.shape or length.shape != c.shape:
        raise ValueError("pai_for_segments: counts, flagged and segment_length_m must have equal length")
    return float(pai_from_counts(c[mask].sum(), c.sum(), length[mask].sum(), length.sum()))
