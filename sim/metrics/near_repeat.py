"""Near-repeat victimisation: the Knox test of event pairs close in both space and time.

Observed pair counts per distance and time band are compared with counts after shuffling event
times among events, as in Johnson et al. (2007).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from sim.metrics._common import _as_rng, _band_index

__all__ = [
    "knox_table",
]


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
