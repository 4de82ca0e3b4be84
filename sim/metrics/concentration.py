"""Crime concentration at street segments, and the concentration chance alone would produce.

The law of crime concentration puts half of all crime on a few percent of street segments
(Weisburd 2015); the Gini and its generalisation for sparse counts summarise it (Bernasco &
Steenbeek 2017); marginal concentration removes what random allocation of the same number of
crimes produces (Chalfin, Kaplan & Cuellar 2021).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from sim.metrics._common import _as_counts, _as_rng

__all__ = [
    "concentration_curve",
    "generalized_gini",
    "gini",
    "marginal_concentration",
    "random_allocation_concentration",
    "segments_holding_share",
    "share_on_top_segments",
    "summarize_concentration",
]


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
