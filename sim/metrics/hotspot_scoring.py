"""Scoring hot-spot maps with the Predictive Accuracy Index (PAI).

PAI is the share of crime captured over the share of area flagged (Chainey, Tompson & Uhlig 2008);
on a street network the area is best measured as street length (Rosser et al. 2017).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.metrics._common import _as_counts

__all__ = [
    "pai",
    "pai_for_segments",
    "pai_from_counts",
]


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
