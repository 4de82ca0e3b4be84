"""A prospective hot-spot map of known crime, shared by the strategies that target hot spots.

Each known crime spreads risk to places within ``bandwidth_m`` along the street network and fades
with age, ``exp(-age / decay_days)`` (Bowers, Johnson & Pease 2004, Br J Criminol 44:641: near-repeat
risk within ~200-400 m for weeks; Johnson et al. 2007). Measuring "near" along the network rather
than on a grid captures more future crime at equal coverage (Rosser et al. 2017, J Quant Criminol
33:569); ``kde="grid"`` gives the grid comparison. The police map only what they know: recorded
crime plus problems residents raise at meetings; ``source="true"`` maps every crime instead, to
expose the feedback loop of recorded-crime maps (Lum & Isaac 2016; Ensign et al. 2018).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from core_ext import NetworkKDE, grid_kde, network_kde, select_hotspots
from sim.clock import MINUTES_PER_DAY
from sim.network import StreetNetwork
from sim.policies.base import PolicyContext

__all__ = ["KERNELS", "HotspotMap", "historical_hotspots"]

KERNELS = ("quartic", "epanechnikov", "gaussian", "uniform")


class HotspotMap:
    """Prospective risk per segment from known crime: network (or grid) KDE with exponential decay.

    Events enter once they are known: recorded crime at the time it was recorded (burglaries are
    often found hours later), meeting intelligence when it is raised, or every crime at once with
    ``source="true"``.
    """

    def __init__(
        self,
        network: StreetNetwork,
        *,
        bandwidth_m: float,
        decay_days: float,
        kernel: str = "quartic",
        kde: str = "network",
        grid_cell_m: float = 100.0,
        source: str = "recorded",
        intelligence_weight: float = 1.0,
    ) -> None:
        net = network
        self.source = source
        self.kde = kde
        self.kernel = kernel
        self.bandwidth_m = bandwidth_m
        self.grid_cell_m = grid_cell_m
        self.intelligence_weight = intelligence_weight
        self.tau_min = decay_days * MINUTES_PER_DAY
        self._network_kde: NetworkKDE | None = None
        if kde == "network":
            self._network_kde = NetworkKDE(net.indptr, net.indices, net.edge_length_m, bandwidth_m=bandwidth_m,
                                           kernel=kernel, edge_segment=net.edge_segment,
                                           decay_timescale_min=self.tau_min)  # fmt: skip
        self._segment_xy = net.edge_midpoint_xy[net.segment_edge] if kde == "grid" else None
        self._n_segments = net.n_segments
        self._edge_segment = net.edge_segment
        self._added = np.zeros(0, dtype=bool)  # which police_view records are already mapped
        self._n_true = 0
        self._n_intel = 0
        # every mapped event, for the grid KDE and for peak hours
        self._seg: list[NDArray[np.int64]] = []
        self._time: list[NDArray[np.float64]] = []
        self._weight: list[NDArray[np.float64]] = []
        self.n_known = 0

    def update(self, ctx: PolicyContext) -> int:
        """Add every event known by now that is not on the map yet; return how many were added."""
        now = ctx.clock.now_min
        net = ctx.network
        if self.source == "true":
            edges, times = ctx.true_crimes(self._n_true)
            self._n_true += int(edges.size)
            weights = np.ones(edges.size)
        else:
            all_edges, all_times = ctx.police_view.recorded_crimes()
            if all_edges.size > self._added.size:
                self._added = np.concatenate([self._added, np.zeros(all_edges.size - self._added.size, bool)])
            new = ~self._added & (all_times <= now)
            self._added |= new
            edges, times = all_edges[new], all_times[new]
            weights = np.ones(edges.size)
        intel = ctx.police_view.intelligence(self._n_intel)
        self._n_intel += len(intel)
        if intel and self.intelligence_weight > 0:
            segs = np.array([s for s, _ in intel], dtype=np.int64)
            edges = np.concatenate([edges, net.segment_edge[segs]])
            times = np.concatenate([times, np.array([t for _, t in intel], dtype=np.float64)])
            weights = np.concatenate([weights, np.full(segs.size, self.intelligence_weight)])
        if edges.size:
            if self._network_kde is not None:
                self._network_kde.add_events(edges, time_min=times, weight=weights)
            self._seg.append(self._edge_segment[edges])
            self._time.append(times)
            self._weight.append(weights)
            self.n_known += int(edges.size)
        return int(edges.size)

    def risk(self, now_min: float) -> NDArray[np.float64]:
        """Risk score per segment at ``now_min`` (relative; for ranking)."""
        if self._network_kde is not None:
            return self._network_kde.refresh_places(now_min)
        if not self._seg:
            return np.zeros(self._n_segments)
        seg = np.concatenate(self._seg)
        w = np.concatenate(self._weight) * np.exp(-(now_min - np.concatenate(self._time)) / self.tau_min)
        assert self._segment_xy is not None
        return grid_kde(self._segment_xy[seg], self._segment_xy, bandwidth_m=self.bandwidth_m,
                        cell_m=self.grid_cell_m, kernel=self.kernel, event_weight=w)  # fmt: skip

    def hotspots(self, now_min: float, k: int) -> NDArray[np.int64]:
        """Return the ``k`` highest-risk segments with positive risk, highest first."""
        risk = self.risk(now_min)
        top = select_hotspots(risk, min(k, risk.size))
        return top[risk[top] > 0]

    def busy_hours(self, start_hour: float) -> NDArray[np.bool_]:
        """Hours of day whose known crime count is above the mean hourly count."""
        if not self._time:
            return np.ones(24, dtype=bool)
        hours = (((np.concatenate(self._time) / 60.0) + start_hour) % 24).astype(np.int64)
        counts = np.bincount(hours, minlength=24)
        return np.asarray(counts > counts.mean(), dtype=bool)


def historical_hotspots(
    network: StreetNetwork, edges: NDArray[np.int64], k: int, *, bandwidth_m: float, kernel: str = "quartic"
) -> NDArray[np.int64]:
    """Return the ``k`` top segments of a network KDE of past crime at ``edges`` (no decay), highest first.

    "Last year's hot spots": how a force picks patrol places from its records before a deployment.
    """
    if edges.size == 0:
        return np.zeros(0, dtype=np.int64)
    seg_risk = network_kde(network.indptr, network.indices, network.edge_length_m, edges, bandwidth_m=bandwidth_m,
                           kernel=kernel, edge_segment=network.edge_segment)[network.segment_edge]  # fmt: skip
    top = select_hotspots(seg_risk, min(k, seg_risk.size))
    return np.asarray(top[seg_risk[top] > 0], dtype=np.int64)
