"""Random preventive patrol: the orders every officer falls back on when no strategy gives any.

Random preventive patrol is what the Kansas City experiment tested (Kelling et al. 1974): officers
cruise without a target. An idle officer goes to a random point of the city (or of their beat),
chosen with probability proportional to street length, pauses ``police.patrol_dwell_min`` and
moves on.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.policies.base import PatrolOrders, PolicyContext

__all__ = ["random_patrol"]


def random_patrol(
    ctx: PolicyContext, officers: NDArray[np.int64], *, use_beats: bool = False
) -> PatrolOrders:
    """Return random patrol orders for ``officers``, drawn from the run's ``patrol`` stream.

    With ``use_beats`` each officer's point is drawn from their own beat (one beat per on-duty
    officer); the draws for the whole group come first, so the stream stays aligned.
    """
    net = ctx.network
    rng = ctx.rng("patrol")
    segments = net.segment_length_cdf.searchsorted(rng.random(officers.size), side="right")
    if use_beats:
        weights = net.segment_length_m / net.segment_length_m.sum()
        beats = ctx.beats()
        for k, i in enumerate(officers):
            in_beat = np.flatnonzero(beats.segment_beat == beats.officer_beat[i])
            if in_beat.size:
                w = weights[in_beat] / weights[in_beat].sum()
                segments[k] = rng.choice(in_beat, p=w)
    edges = net.segment_edge[segments]
    return PatrolOrders(officers, edges, np.full(officers.size, ctx.police_config.patrol_dwell_min))
