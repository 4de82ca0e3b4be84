"""Journey to crime: how far offenders travel from home to offend, and how trips decay with distance.

Trips are short and their frequency decays with distance (Wiles & Costello 2000; Bernasco &
Nieuwbeerta 2005).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from sim.metrics._common import _band_index

__all__ = [
    "DistanceDecay",
    "fit_distance_decay",
    "journey_to_crime",
]


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
