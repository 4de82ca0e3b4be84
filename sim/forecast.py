"""Hot-spot forecasts of crime per street segment, scored by hit rate, PAI and PEI over street length.

A forecaster maps the crime known before ``t_min`` to a risk per segment on a count scale (expected
crimes on the segment, up to a constant), so a long street is not favoured by its length alone:
segments are flagged by risk per metre until the flagged length fills a share of all street length,
the area measure of Rosser et al. (2017, J Quant Criminol 33:569). Scores follow the analysts' usage:
hit rate, PAI (Chainey, Tompson & Uhlig 2008, Security J 21:4) and PEI against the oracle that knew
the period's counts (Hunt 2016). docs/forecasting.md describes each forecaster and its defaults.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

import core_ext
from sim import metrics as m
from sim.clock import MINUTES_PER_DAY
from sim.network import StreetNetwork

__all__ = [
    "DEFAULT_COVERAGES",
    "DEFAULT_FORECASTERS",
    "FORECASTERS",
    "Forecaster",
    "count_captured",
    "grid_kde",
    "model",
    "month_starts_min",
    "network_kde",
    "prior_counts",
    "prospective",
    "rank_segments",
    "risk_per_metre",
    "rolling_scores",
    "score_forecast",
    "summarise",
]

#: Shares of street length scored (1-20%, the range Rosser et al. 2017 report).
DEFAULT_COVERAGES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10, 0.20)
#: The forecasters that need only past events (``model`` needs a risk array).
DEFAULT_FORECASTERS: tuple[str, ...] = ("prior_counts", "grid_kde", "network_kde", "prospective")

# Prospective mapping, Bowers, Johnson & Pease (2004, Br J Criminol 44:641): events within 400 m and
# the last two months, each weighted 1/(1 + whole half-cell widths away) x 1/(1 + whole weeks old),
# on 50 m cells (so distance counts in 25 m steps).
PROSPECTIVE_BANDWIDTH_M = 400.0
PROSPECTIVE_WINDOW_DAYS = 56.0
PROSPECTIVE_DISTANCE_STEP_M = 25.0
PROSPECTIVE_TIME_STEP_DAYS = 7.0
# Retrospective KDE as in Chainey, Tompson & Uhlig (2008): quartic kernel; a 150 m grid, 300 m bandwidth.
KDE_BANDWIDTH_M = 300.0
GRID_CELL_M = 150.0
_POINTS_PER_BLOCK = 20_000  # events per block of the prospective pair search (bounds memory)


class Forecaster(Protocol):
    """A forecaster: past events, the network and the forecast time to a risk per segment."""

    def __call__(self, events: pd.DataFrame, net: StreetNetwork, t_min: float, /) -> NDArray[np.float64]:
        """Return the risk of every segment (float64, length ``net.n_segments``, count scale)."""
        ...


# --------------------------------------------------------------------------- forecasters
def _past(
    events: pd.DataFrame, net: StreetNetwork, t_min: float, window_days: float | None, *, xy: bool
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Return segment, x/y (n, 2) (empty unless ``xy``), age in minutes and weight of the crimes before ``t_min``."""
    need = ["segment", "time_min", *(["x", "y"] if xy else [])]
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise ValueError(f"forecast: events lack column(s) {missing}; expected at least {need} (sim.events)")
    crimes = m.select_crimes(events)
    age = t_min - crimes["time_min"].to_numpy(np.float64)
    keep = age > 0 if window_days is None else (age > 0) & (age <= window_days * MINUTES_PER_DAY)
    seg = crimes["segment"].to_numpy(np.int64)[keep]
    if seg.size and (seg.min() < 0 or seg.max() >= net.n_segments):
        raise ValueError(f"forecast: segment ids must lie in [0, {net.n_segments}) of this network")
    weight = crimes["weight"].to_numpy(np.float64)[keep] if "weight" in crimes else np.ones(seg.size)
    pts = crimes[["x", "y"]].to_numpy(np.float64)[keep] if xy else np.zeros((0, 2))
    return seg, pts, age[keep], weight


def _decayed(
    weight: NDArray[np.float64], age_min: NDArray[np.float64], decay_days: float | None
) -> NDArray[np.float64]:
    return weight if decay_days is None else weight * np.exp(-age_min / (decay_days * MINUTES_PER_DAY))


def prior_counts(
    events: pd.DataFrame, net: StreetNetwork, t_min: float, /, *, window_days: float | None = None
) -> NDArray[np.float64]:
    """Return the crimes per segment before ``t_min``: "last period's hot spots".

    Parameters
    ----------
    events
        Event table (``segment``, ``time_min``; only ``kind == "crime"`` rows when ``kind`` is a
        column; an optional ``weight`` column weights events).
    net
        The network the events are on.
    t_min
        Forecast time; only events strictly before it count.
    window_days
        Look-back window; None counts every past event.
    """
    seg, _, _, weight = _past(events, net, t_min, window_days, xy=False)
    return np.bincount(seg, weights=weight, minlength=net.n_segments).astype(np.float64)


def _segment_xy(net: StreetNetwork) -> NDArray[np.float64]:
    """Return the segments' midpoints (from the network's cached edge midpoints)."""
    return net.edge_midpoint_xy[net.segment_edge]


def grid_kde(
    events: pd.DataFrame,
    net: StreetNetwork,
    t_min: float,
    /,
    *,
    bandwidth_m: float = KDE_BANDWIDTH_M,
    cell_m: float = GRID_CELL_M,
    kernel: str = "quartic",
    window_days: float | None = None,
    decay_days: float | None = None,
) -> NDArray[np.float64]:
    """Return a planar grid KDE of past crime read at each segment's midpoint, times its length.

    Quartic kernel on ``cell_m`` cells (Chainey, Tompson & Uhlig 2008), straight-line distance; the
    comparison method of Rosser et al. (2017).

    Parameters
    ----------
    events, net, t_min, window_days
        As for :func:`prior_counts`.
    bandwidth_m, cell_m, kernel
        Kernel bandwidth, cell side and kernel (``core_ext.grid_kde``).
    decay_days
        Optional exponential decay ``exp(-age / decay_days)``; None weights every past event alike.
    """
    _, pts, age, weight = _past(events, net, t_min, window_days, xy=True)
    if pts.shape[0] == 0:
        return np.zeros(net.n_segments)
    density = core_ext.grid_kde(pts, _segment_xy(net), bandwidth_m=bandwidth_m, cell_m=cell_m, kernel=kernel,
                                event_weight=_decayed(weight, age, decay_days))  # fmt: skip
    return np.asarray(density * net.segment_length_m, dtype=np.float64)


_NETWORK_KERNELS: weakref.WeakKeyDictionary[StreetNetwork, dict[tuple[float, str], core_ext.NetworkKDE]] = (
    weakref.WeakKeyDictionary()
)


def _network_kernel(net: StreetNetwork, bandwidth_m: float, kernel: str) -> core_ext.NetworkKDE:
    """Return the network's kernel matrix for this bandwidth, built once and kept while the network lives."""
    kernels = _NETWORK_KERNELS.setdefault(net, {})
    key = (float(bandwidth_m), kernel)
    if key not in kernels:
        kernels[key] = core_ext.NetworkKDE(net.indptr, net.indices, net.edge_length_m, bandwidth_m=bandwidth_m,
                                           kernel=kernel, edge_segment=net.edge_segment)  # fmt: skip
    return kernels[key]


def network_kde(
    events: pd.DataFrame,
    net: StreetNetwork,
    t_min: float,
    /,
    *,
    bandwidth_m: float = KDE_BANDWIDTH_M,
    kernel: str = "quartic",
    window_days: float | None = None,
    decay_days: float | None = None,
) -> NDArray[np.float64]:
    """Return a KDE of past crime along the street network at each segment, times its length.

    The network kernel of the hot-spot map (:mod:`sim.policies.hotspot_map`, ``core_ext.NetworkKDE``):
    distance is measured along the streets between segment midpoints (Rosser et al. 2017). The
    kernel matrix is built once per network and bandwidth. Parameters as :func:`grid_kde` (no cells).
    """
    seg, _, age, weight = _past(events, net, t_min, window_days, xy=False)
    if seg.size == 0:
        return np.zeros(net.n_segments)
    kde = _network_kernel(net, bandwidth_m, kernel)
    kde.clear()
    kde.add_events(net.segment_edge[seg], weight=_decayed(weight, age, decay_days))
    density = kde.refresh_places()[kde.place_of_edge[net.segment_edge]]
    return np.asarray(density * net.segment_length_m, dtype=np.float64)


_MIDPOINT_TREES: weakref.WeakKeyDictionary[StreetNetwork, cKDTree] = weakref.WeakKeyDictionary()


def prospective(
    events: pd.DataFrame,
    net: StreetNetwork,
    t_min: float,
    /,
    *,
    bandwidth_m: float = PROSPECTIVE_BANDWIDTH_M,
    window_days: float = PROSPECTIVE_WINDOW_DAYS,
    distance_step_m: float = PROSPECTIVE_DISTANCE_STEP_M,
    time_step_days: float = PROSPECTIVE_TIME_STEP_DAYS,
) -> NDArray[np.float64]:
    """Return the prospective near-repeat risk of Bowers, Johnson & Pease (2004) at each segment.

    Every crime of the last ``window_days`` within ``bandwidth_m`` (straight line) of a segment's
    midpoint adds ``1 / (1 + d) x 1 / (1 + t)``, with ``d`` the whole ``distance_step_m`` steps
    away and ``t`` the whole ``time_step_days`` steps old; the sum is scaled by the segment's length.
    Defaults are the paper's: 400 m, two months (8 weeks), 50 m cells (distance in half-cell widths,
    25 m) and weeks.
    """
    _, pts, age, weight = _past(events, net, t_min, window_days, xy=True)
    out = np.zeros(net.n_segments)
    if pts.shape[0] == 0:
        return out
    time_w = weight / (1.0 + np.floor(age / (time_step_days * MINUTES_PER_DAY)))
    # events at the same point share the spatial kernel: sum their time weights first
    points, where = np.unique(pts, axis=0, return_inverse=True)
    point_w = np.bincount(where.reshape(-1), weights=time_w, minlength=points.shape[0])
    tree = _MIDPOINT_TREES.get(net)
    if tree is None:
        tree = _MIDPOINT_TREES[net] = cKDTree(_segment_xy(net))
    for lo in range(0, points.shape[0], _POINTS_PER_BLOCK):
        block = slice(lo, lo + _POINTS_PER_BLOCK)
        pairs = tree.sparse_distance_matrix(cKDTree(points[block]), bandwidth_m, output_type="ndarray")
        w = point_w[block][pairs["j"]] / (1.0 + np.floor(pairs["v"] / distance_step_m))
        out += np.bincount(pairs["i"], weights=w, minlength=net.n_segments)
    return np.asarray(out * net.segment_length_m, dtype=np.float64)


def model(
    events: pd.DataFrame, net: StreetNetwork, t_min: float, /, *, risk: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Return ``risk`` as given: the calibrated model's expected recorded crime per segment.

    Bind it first, e.g. ``functools.partial(model, risk=mean_crimes)``; ``events`` and ``t_min``
    are ignored.
    """
    if risk is None:
        raise ValueError("forecast.model: needs risk=..., the model's expected crime per segment "
                         "(functools.partial(forecast.model, risk=array))")  # fmt: skip
    arr = np.array(risk, dtype=np.float64)
    if arr.shape != (net.n_segments,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"forecast.model: risk must be {net.n_segments} finite numbers, one per segment")
    return arr


#: Forecasters by name, for callers that choose by string.
FORECASTERS: dict[str, Forecaster] = {
    "prior_counts": prior_counts,
    "grid_kde": grid_kde,
    "network_kde": network_kde,
    "prospective": prospective,
    "model": model,
}


# --------------------------------------------------------------------------- scoring
def _check(values: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"forecast: {name} must be {n} finite numbers, one per segment")
    return arr


def risk_per_metre(risk: ArrayLike, length_m: ArrayLike) -> NDArray[np.float64]:
    """Return a forecast (count scale) per metre of street: the order segments are flagged in.

    A zero-length segment with risk gets infinity (it costs no length); without risk, zero.
    """
    length = np.asarray(length_m, dtype=np.float64)
    r = _check(risk, length.size, "risk")
    return np.divide(r, length, out=np.where(r > 0, np.inf, 0.0), where=length > 0)


def rank_segments(risk: ArrayLike, length_m: ArrayLike) -> NDArray[np.int64]:
    """Return every segment in flagging order: highest risk per metre first, ties to the lower id.

    Ranking by risk per metre is the best order when coverage is street length: it fills the length
    with the most expected crime (:func:`risk_per_metre`).
    """
    density = risk_per_metre(risk, length_m)
    return np.lexsort((np.arange(density.size), -density)).astype(np.int64)


def count_captured(
    risk: ArrayLike, counts: ArrayLike, length_m: ArrayLike, coverages: Sequence[float] = DEFAULT_COVERAGES
) -> NDArray[np.float64]:
    """Return the crimes on the top-ranked segments that fill each share of street length.

    The segment straddling the coverage line counts in proportion to its length inside it, so every
    forecast covers exactly the same length and the oracle (segments ranked by crimes per metre) is
    the best any ranking can do; the curve is continuous in the coverage, as
    :func:`sim.metrics.share_on_top_segments` is in the segment share.

    Parameters
    ----------
    risk
        Forecast per segment (count scale; see :func:`rank_segments`).
    counts
        Crimes per segment in the period scored.
    length_m
        Street length per segment (``StreetNetwork.segment_length_m``).
    coverages
        Shares of the total street length, each in (0, 1].
    """
    length = np.asarray(length_m, dtype=np.float64)
    c = _check(counts, length.size, "counts")
    cov = np.asarray(coverages, dtype=np.float64)
    if cov.ndim != 1 or np.any((cov <= 0) | (cov > 1)):
        raise ValueError("forecast: coverages must be shares of street length in (0, 1]")
    order = rank_segments(risk, length)
    cum_len = np.cumsum(length[order])
    cum_crimes = np.cumsum(c[order])
    budget = cov * cum_len[-1]
    whole = np.searchsorted(cum_len, budget, side="right")  # segments entirely inside the budget
    before_len = np.where(whole > 0, cum_len[np.maximum(whole - 1, 0)], 0.0)
    captured = np.where(whole > 0, cum_crimes[np.maximum(whole - 1, 0)], 0.0)
    # the straddling segment, pro rata
    nxt = order[np.minimum(whole, order.size - 1)]
    part = np.divide(budget - before_len, length[nxt], out=np.zeros(cov.size),
                     where=(whole < order.size) & (length[nxt] > 0))  # fmt: skip
    return np.asarray(captured + np.clip(part, 0.0, 1.0) * c[nxt], dtype=np.float64)


def score_forecast(
    risk: ArrayLike, counts: ArrayLike, length_m: ArrayLike, *, coverages: Sequence[float] = DEFAULT_COVERAGES
) -> pd.DataFrame:
    """Return hit rate, PAI and PEI of a forecast against the crimes of the period that followed.

    Returns
    -------
    pandas.DataFrame
        One row per coverage: ``coverage``, ``hit_rate`` (share of the crimes captured),
        ``pai`` (hit rate / coverage, :func:`sim.metrics.pai`), ``pei`` (captured / captured by
        the oracle), ``n_crimes``, ``captured``, ``oracle_captured``; rates NaN without crime.
    """
    c = np.asarray(counts, dtype=np.float64)
    captured = count_captured(risk, c, length_m, coverages)
    oracle = count_captured(c, c, length_m, coverages)
    n = float(c.sum())
    hit = captured / n if n > 0 else np.full(captured.size, np.nan)
    pei = np.divide(captured, oracle, out=np.full(captured.size, np.nan), where=oracle > 0)
    cov = np.asarray(coverages, dtype=np.float64)
    return pd.DataFrame({"coverage": cov, "hit_rate": hit, "pai": m.pai(hit, cov), "pei": pei,
                         "n_crimes": n, "captured": captured, "oracle_captured": oracle})  # fmt: skip


def _resolve(forecasters: Sequence[str] | Mapping[str, Forecaster]) -> dict[str, Forecaster]:
    if isinstance(forecasters, Mapping):
        return dict(forecasters)
    unknown = [f for f in forecasters if f not in FORECASTERS]
    if unknown:
        raise ValueError(f"forecast: unknown forecaster(s) {unknown}; choose among {', '.join(FORECASTERS)}")
    return {name: FORECASTERS[name] for name in forecasters}


def month_starts_min(origin: pd.Timestamp, start_min: float, end_min: float) -> list[float]:
    """Return the minutes from ``origin`` of every first of a month (local midnight) in ``[start, end)``.

    The ``edges_min`` of :func:`rolling_scores` for incidents dated to the month only.
    """
    first = (origin + pd.Timedelta(minutes=start_min)).to_period("M").to_timestamp()
    months = pd.date_range(first, origin + pd.Timedelta(minutes=end_min), freq="MS", inclusive="left")
    minutes = (months - origin) / pd.Timedelta(minutes=1)
    return [float(t) for t in minutes if t >= start_min]


def rolling_scores(
    events: pd.DataFrame,
    net: StreetNetwork,
    start_min: float,
    end_min: float,
    *,
    forecasters: Sequence[str] | Mapping[str, Forecaster] = DEFAULT_FORECASTERS,
    step_days: float = 7.0,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
    edges_min: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Score rolling forecasts: each week in [start, end) forecast from every crime before it.

    Parameters
    ----------
    events
        Crime events (``kind == "crime"`` rows when ``kind`` is a column) with ``segment``, ``x``,
        ``y``, ``time_min``; those before ``start_min`` are history only.
    net
        Their network.
    start_min, end_min
        The period scored; the last step is cut at ``end_min``.
    forecasters
        Names in :data:`FORECASTERS`, or name -> forecaster (e.g. a bound :func:`model`).
    step_days
        Length of each forecast period.
    coverages
        Shares of street length scored.
    edges_min
        Boundaries of the periods inside (start_min, end_min), instead of a fixed step: calendar
        months for incidents dated to the month only, whose times all stand at mid-month (a week
        of them would hold a whole month's crimes or none). The ``week_*`` columns then hold periods.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``forecaster``, ``week_start_min``, ``week_end_min``, ``coverage``, ``hit_rate``,
        ``pai``, ``pei``, ``n_crimes``, ``captured``, ``oracle_captured``.
    """
    if not (np.isfinite(start_min) and np.isfinite(end_min) and end_min > start_min and step_days > 0):
        raise ValueError("forecast: need finite start_min < end_min and step_days > 0")
    chosen = _resolve(forecasters)
    crimes = m.select_crimes(events).sort_values("time_min", kind="stable")
    times = crimes["time_min"].to_numpy(np.float64)
    segments = crimes["segment"].to_numpy(np.int64)
    length = net.segment_length_m
    if edges_min is None:
        step = step_days * MINUTES_PER_DAY
        starts = start_min + step * np.arange(int(np.ceil((end_min - start_min) / step - 1e-9)))
    else:
        inner = np.asarray(edges_min, dtype=np.float64)
        starts = np.unique(np.concatenate([[start_min], inner[(inner > start_min) & (inner < end_min)]]))
    ends = np.append(starts[1:], end_min)
    frames = []
    for week_start, week_end in zip(starts, ends, strict=True):
        lo, hi = np.searchsorted(times, [week_start, week_end], side="left")
        counts = np.bincount(segments[lo:hi], minlength=net.n_segments).astype(np.float64)
        past = crimes.iloc[:lo]  # strictly before the week: nothing of the week leaks into its forecast
        for name, forecaster in chosen.items():
            scores = score_forecast(
                forecaster(past, net, float(week_start)), counts, length, coverages=coverages
            )
            scores.insert(0, "week_end_min", float(week_end))
            scores.insert(0, "week_start_min", float(week_start))
            scores.insert(0, "forecaster", name)
            frames.append(scores)
    return pd.concat(frames, ignore_index=True)


def summarise(
    scores: pd.DataFrame, *, n_boot: int = 1000, rng: np.random.Generator | int = 0
) -> pd.DataFrame:
    """Return each forecaster's scores over the weeks, with 95% bootstrap intervals.

    Weeks are pooled: the hit rate is all crimes captured over all crimes (each week weighted by its
    crimes), PAI that over the coverage, PEI captured over what the oracle captured. The interval
    resamples whole weeks with replacement (the same draws for every forecaster, so their intervals
    are paired) and takes the 2.5 and 97.5 percentiles.

    Parameters
    ----------
    scores
        What :func:`rolling_scores` returned.
    n_boot
        Bootstrap resamples.
    rng
        Generator or seed.

    Returns
    -------
    pandas.DataFrame
        ``forecaster``, ``coverage``, ``hit_rate``, ``hit_rate_lo``, ``hit_rate_hi``, ``pai``,
        ``pai_lo``, ``pai_hi``, ``pei``, ``pei_lo``, ``pei_hi``, ``n_weeks``.
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    keys = ["forecaster", "coverage"]
    groups = scores[keys].drop_duplicates().reset_index(drop=True)
    group = scores.groupby(keys, sort=False).ngroup().to_numpy()  # numbered as in ``groups``
    weeks, week = np.unique(scores["week_start_min"].to_numpy(np.float64), return_inverse=True)
    n_weeks = weeks.size
    captured = np.zeros((n_weeks, len(groups)))
    oracle = np.zeros((n_weeks, len(groups)))
    crimes = np.zeros(n_weeks)
    captured[week, group] = scores["captured"].to_numpy(np.float64)
    oracle[week, group] = scores["oracle_captured"].to_numpy(np.float64)
    crimes[week] = scores["n_crimes"].to_numpy(np.float64)  # the same for every forecaster of a week
    draws = gen.integers(0, n_weeks, size=(n_boot, n_weeks))
    times_drawn = np.zeros((n_boot, n_weeks))
    np.add.at(times_drawn, (np.repeat(np.arange(n_boot), n_weeks), draws.ravel()), 1.0)
    coverage = groups["coverage"].to_numpy(np.float64)

    def rates(w: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        cap, orc, n = w @ captured, w @ oracle, (w @ crimes)[..., None]
        with np.errstate(invalid="ignore", divide="ignore"):
            hit = np.where(n > 0, cap / n, np.nan)
            pei = np.where(orc > 0, cap / orc, np.nan)
        return hit, np.asarray(m.pai(hit, coverage)), pei

    point = rates(np.ones((1, n_weeks)))
    boot = rates(times_drawn)
    out = groups.copy()
    for name, est, sample in zip(("hit_rate", "pai", "pei"), point, boot, strict=True):
        out[name] = est[0]
        valid = ~np.all(np.isnan(sample), axis=0)
        lo_hi = np.full((2, coverage.size), np.nan)
        if valid.any():
            lo_hi[:, valid] = np.nanpercentile(sample[:, valid], [2.5, 97.5], axis=0)
        out[f"{name}_lo"], out[f"{name}_hi"] = lo_hi
    out["n_weeks"] = n_weeks
    return out
